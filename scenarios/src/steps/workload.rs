//! Steps that run open-loop workloads and state what their replies must have been.

use anyhow::{anyhow, bail, Context, Result};
use cucumber::gherkin::Step;
use cucumber::{then, when};
use std::collections::BTreeMap;

use harness::history;
use harness::workload::{Intent, Mix, Tally, WorkloadSpec};

use crate::TradingWorld;

fn spec(w: &TradingWorld, rate: f64, operations: u64) -> Result<WorkloadSpec> {
    let seed = w.platform()?.seed();
    Ok(WorkloadSpec::new(&w.investor, rate, operations, seed))
}

async fn run(w: &mut TradingWorld, spec: WorkloadSpec) -> Result<()> {
    let r = w.run_mut()?.workload(&spec).await?;
    println!(
        "workload: {} sent in {:.1} s ({:.0}/s), {:?}, refusals {:?}",
        r.sent,
        r.elapsed.as_secs_f64(),
        r.achieved_rate(),
        r.by_intent,
        r.fail_codes
    );
    Ok(())
}

#[when(expr = "{int} orders are sent at {int} per second")]
async fn orders_at(w: &mut TradingWorld, operations: u64, rate: u64) -> Result<()> {
    let s = spec(w, rate as f64, operations)?;
    run(w, s).await
}

/// A table of `key | value` rows: rate_per_s, operations, seed, cancel, duplicate,
/// risk_reject, instruments (comma separated). An unknown key fails naming it and its line.
#[when("a workload runs:")]
async fn workload_table(w: &mut TradingWorld, step: &Step) -> Result<()> {
    let table = step.table.as_ref().ok_or_else(|| {
        anyhow!(
            "line {}: the step needs a key | value table",
            step.position.line
        )
    })?;
    let mut s = spec(w, 100.0, 1000)?;
    let mut mix = Mix::default();
    for (i, row) in table.rows.iter().enumerate() {
        let line = step.position.line + 1 + i;
        let [key, value] = row.as_slice() else {
            bail!(
                "line {line}: a row needs two cells, key | value, found {}",
                row.len()
            );
        };
        let num = || -> Result<f64> {
            value
                .trim()
                .parse()
                .with_context(|| format!("line {line}: {key} = {value:?} is not a number"))
        };
        match key.trim() {
            "rate_per_s" => s.rate_per_s = num()?,
            "operations" => s.operations = num()? as u64,
            "seed" => s.seed = num()? as u64,
            "cancel" => mix.cancel = num()?,
            "duplicate" => mix.duplicate = num()?,
            "risk_reject" => mix.risk_reject = num()?,
            "instruments" => {
                s.instruments = value.split(',').map(|x| x.trim().to_owned()).collect()
            }
            other => bail!(
                "line {line}: unknown workload key {other:?}; known: rate_per_s, operations, \
                 seed, cancel, duplicate, risk_reject, instruments"
            ),
        }
    }
    s.client_prefix = format!("w{:x}", s.seed);
    let s = s.with_mix(mix);
    s.validate()
        .with_context(|| format!("the workload table at line {}", step.position.line))?;
    run(w, s).await
}

async fn tally(w: &mut TradingWorld, intent: Intent) -> Result<Tally> {
    let j = w.judged().await?;
    let mut t = Tally::default();
    for r in &j.workloads {
        let x = r.tally(intent);
        t.sent += x.sent;
        t.ok += x.ok;
        t.fail += x.fail;
        t.info += x.info;
    }
    Ok(t)
}

#[then("every ordinary order was acknowledged")]
async fn all_acked(w: &mut TradingWorld) -> Result<()> {
    let t = tally(w, Intent::Order).await?;
    if t.sent == 0 || t.ok != t.sent {
        bail!("ordinary orders: {t:?}");
    }
    Ok(())
}

/// Every client_order_id submitted more than once was acknowledged as one order: the same
/// order id each time, exactly one reply not marked duplicate (read from the history, since
/// a resubmission may overtake its original on the way).
#[then("every duplicate returned the original order")]
async fn duplicates(w: &mut TradingWorld) -> Result<()> {
    let t = tally(w, Intent::Duplicate).await?;
    let dir = w.judged().await?.dir.clone();
    let h = history::load(&dir.join(history::HISTORY_FILE))?;
    let mut by_cid: BTreeMap<&str, Vec<&history::OpResult>> = BTreeMap::new();
    for op in &h.operations {
        if let (history::Op::Submit(s), history::Outcome::Ok(r)) = (&op.op, &op.outcome) {
            by_cid
                .entry(s.client_order_id.as_str())
                .or_default()
                .push(r);
        }
    }
    let mut repeated = 0;
    for (cid, replies) in by_cid.iter().filter(|(_, r)| r.len() > 1) {
        repeated += 1;
        let first = replies[0].order_id;
        let fresh = replies.iter().filter(|r| !r.duplicate).count();
        if first.is_none() || replies.iter().any(|r| r.order_id != first) || fresh != 1 {
            bail!("client_order_id {cid} was answered as more than one order: {replies:?}");
        }
    }
    if t.sent == 0 || t.ok != t.sent || repeated == 0 {
        bail!("duplicates: {t:?}, {repeated} client ids submitted more than once");
    }
    Ok(())
}

#[then("every risk breach was refused")]
async fn risk_refused(w: &mut TradingWorld) -> Result<()> {
    let t = tally(w, Intent::RiskReject).await?;
    let unexpected: Vec<&String> = w
        .judged()
        .await?
        .workloads
        .iter()
        .flat_map(|r| &r.unexpected)
        .filter(|u| u.starts_with("risk breach"))
        .collect();
    if t.sent == 0 || t.fail != t.sent || !unexpected.is_empty() {
        bail!("risk breaches: {t:?}; {unexpected:?}");
    }
    Ok(())
}

#[then(expr = "at least {int} cancels were sent")]
async fn cancels(w: &mut TradingWorld, n: u64) -> Result<()> {
    let t = tally(w, Intent::Cancel).await?;
    if t.sent < n || t.info > 0 {
        bail!("cancels: {t:?}");
    }
    Ok(())
}
