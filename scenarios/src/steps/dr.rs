//! Steps of the DR drills: the two-datacenter setting, one drill run on a platform of its own
//! (`harness::dr::run_drill`), and what its meters measured against ground truth. A failing
//! step prints the drill's verdict with its evidence, its timeline and its run directory.

use anyhow::{anyhow, bail, Result};
use cucumber::{given, then, when};
use harness::check::Outcome;
use harness::dr::DrillResult;

use crate::params::{DrCheckName, DrillParam, DurationParam, OutcomeParam, ReplicationParam};
use crate::TradingWorld;

impl TradingWorld {
    fn drill(&self) -> Result<&DrillResult> {
        self.drill
            .as_ref()
            .ok_or_else(|| anyhow!("no drill ran: \"When the <drill> drill runs ...\" first"))
    }
}

/// The drill's verdict, timeline and measures, for a failure message.
fn explain(d: &DrillResult) -> String {
    let mut out = format!(
        "drill {} ({:?}, seed {}, run dir {}):\n{}timeline (ms from the fault):\n",
        d.drill,
        d.outcome,
        d.seed,
        d.run_dir.display(),
        d.verdict.explain()
    );
    for row in &d.timeline {
        out.push_str(&format!(
            "  {:>8.0}  {} {}\n",
            row.at_ms, row.what, row.detail
        ));
    }
    out
}

#[given(expr = "two datacenters replicating {replication}")]
async fn two_datacenters(w: &mut TradingWorld, replication: ReplicationParam) {
    w.drill_options.replication = replication.0;
}

#[given(expr = "an inter-DC line of {int} ms each way")]
async fn line(w: &mut TradingWorld, ms: u32) {
    w.drill_options.line_latency_ms = ms;
}

#[when(expr = "the {drill} drill runs at {int} orders per second")]
async fn run_drill(w: &mut TradingWorld, drill: DrillParam, rate: u32) -> Result<()> {
    w.drill_options.rate_per_s = f64::from(rate);
    w.drill_options.defects = w.defects.clone();
    let name = format!(
        "{}-{}",
        crate::world::slug(&w.scenario),
        w.drill_options.replication_name()
    );
    let dir = harness::run::runs_dir().join(name);
    w.run_dir = Some(dir.clone());
    let result = harness::dr::run_drill(drill.0, &w.drill_options, &dir).await?;
    println!(
        "{}: {:?}; RTO tier 1 {:?} ms, tier 2 {:?} ms; RPO {} orders (window {:?} ms); \
         P99 on the new site {:?} ms; {} orders sent, {} acknowledged, {} unknown",
        drill.0,
        result.outcome,
        result.rto.tier1_ms,
        result.rto.tier2_ms,
        result.rpo.lost_at_promotion.len(),
        result.rpo.window_ms,
        result.p99_after_ms,
        result.orders_sent,
        result.orders_acknowledged,
        result.orders_unknown
    );
    w.drill = Some(result);
    Ok(())
}

#[then("no acknowledged order was lost")]
async fn nothing_lost(w: &mut TradingWorld) -> Result<()> {
    let d = w.drill()?;
    if !d.rpo.lost_at_promotion.is_empty() || !d.rpo.lost_after_reconciliation.is_empty() {
        bail!(
            "{} acknowledged orders missing at promotion, {} after reconciliation:\n{}",
            d.rpo.lost_at_promotion.len(),
            d.rpo.lost_after_reconciliation.len(),
            explain(d)
        );
    }
    Ok(())
}

/// The loss caught WAL on its way to dc2: dc1's primary had written WAL that no standby had
/// flushed (read on dc1 the moment before the loss). A loss that caught none could lose nothing,
/// and the RPO meter's verdict on it would prove nothing.
#[then("WAL was on its way to dc2 when dc1 was lost")]
async fn wal_in_flight(w: &mut TradingWorld) -> Result<()> {
    let d = w.drill()?;
    let Some(mark) = d.loss_hazard(harness::fault::WAL_NOT_ON_STANDBY) else {
        bail!(
            "the loss's hazard ({}) was not measured:\n{}",
            harness::fault::WAL_NOT_ON_STANDBY,
            explain(d)
        );
    };
    if mark.hazard.size == 0 {
        bail!(
            "no WAL was on its way to dc2 when dc1 was lost ({}): the drill proves nothing \
             about the RPO meter:\n{}",
            mark.hazard.detail,
            explain(d)
        );
    }
    println!(
        "{} bytes of WAL on their way to dc2 at the loss: {}",
        mark.hazard.size, mark.hazard.detail
    );
    Ok(())
}

#[then("acknowledged orders were lost, each named")]
async fn lost_named(w: &mut TradingWorld) -> Result<()> {
    let d = w.drill()?;
    let rpo = d
        .verdict
        .find("rpo")
        .ok_or_else(|| anyhow!("the drill has no rpo verdict:\n{}", explain(d)))?;
    if d.rpo.lost_at_promotion.is_empty() || rpo.evidence.orders.is_empty() {
        bail!(
            "no acknowledged order was lost: the meter (or the drill) misses the loss this \
             scenario exists to show:\n{}",
            explain(d)
        );
    }
    println!(
        "lost {} acknowledged orders (window {:?} ms): {}",
        d.rpo.lost_at_promotion.len(),
        d.rpo.window_ms,
        rpo.evidence.orders.join(", ")
    );
    Ok(())
}

#[then(expr = "the tier-1 RTO was within {duration}")]
async fn tier1_within(w: &mut TradingWorld, limit: DurationParam) -> Result<()> {
    let d = w.drill()?;
    let limit_ms = limit.0.as_secs_f64() * 1000.0;
    match d.rto.tier1_ms {
        Some(ms) if ms <= limit_ms => Ok(()),
        Some(ms) => bail!(
            "tier-1 RTO {:.1} s, over {:.1} s:\n{}",
            ms / 1000.0,
            limit_ms / 1000.0,
            explain(d)
        ),
        None => bail!("the new site acknowledged no order:\n{}", explain(d)),
    }
}

#[then(expr = "the drill's check {dr_check} is {outcome}")]
async fn drill_check(
    w: &mut TradingWorld,
    check: DrCheckName,
    outcome: OutcomeParam,
) -> Result<()> {
    let d = w.drill()?;
    let v = d.verdict.find(&check.0).ok_or_else(|| {
        anyhow!(
            "check {} did not judge this drill:\n{}",
            check.0,
            explain(d)
        )
    })?;
    if v.outcome != outcome.0 {
        bail!(
            "check {} is {:?}, expected {:?}:\n{}",
            check.0,
            v.outcome,
            outcome.0,
            explain(d)
        );
    }
    println!("{}", v.explain().trim_end());
    Ok(())
}

#[then(expr = "the controller took the steps {string}")]
async fn steps_taken(w: &mut TradingWorld, steps: String) -> Result<()> {
    let d = w.drill()?;
    let taken: Vec<&str> = d.timeline.iter().map(|r| r.what.as_str()).collect();
    let mut at = 0;
    for want in steps.split(',').map(str::trim) {
        match taken[at..].iter().position(|t| *t == want) {
            Some(i) => at += i + 1,
            None => bail!(
                "step {want:?} is not in the timeline after the steps before it: {taken:?}\n{}",
                explain(d)
            ),
        }
    }
    Ok(())
}

/// The post-drill validation ran on the new site; its order P99 is printed against the
/// reference's limit, not asserted (`harness certify` judges it).
#[then("the new site served the post-drill validation")]
async fn validation_served(w: &mut TradingWorld) -> Result<()> {
    let d = w.drill()?;
    let Some(p99) = d.p99_after_ms else {
        bail!(
            "the new site acknowledged no order of the validation workload:\n{}",
            explain(d)
        );
    };
    let limit = w.drill_options.validation_p99.as_secs_f64() * 1000.0;
    println!(
        "post-drill validation: order P99 {p99:.2} ms on the new site (the reference asks < {limit:.0} ms; \
         judged by harness certify)"
    );
    if d.verdict.find("post_drill_latency").map(|v| v.outcome) == Some(Outcome::Unknown) {
        bail!("the validation could not be judged:\n{}", explain(d));
    }
    Ok(())
}
