//! Steps that set latency budgets (per phase: before, during or after a fault) before the run
//! is judged, and state measured percentiles: overall, in one phase, or from some time after
//! the last heal (a budget met again once the platform caught up). Budgets are the operations
//! documents' unless a feature sets its own; a budget that makes no sense fails the step
//! naming it.

use anyhow::{bail, Result};
use cucumber::{given, then};
use harness::check::Budget;
use harness::history::{self, Phase};

use crate::params::DurationParam;
use crate::TradingWorld;

fn phase(s: &str) -> Result<Phase> {
    Ok(match s {
        "before" => Phase::Before,
        "during" => Phase::During,
        "after" => Phase::After,
        other => bail!("{other:?} is not a phase: before, during or after"),
    })
}

fn set(
    w: &mut TradingWorld,
    phases: &[Phase],
    kind: &str,
    p: f64,
    limit: DurationParam,
) -> Result<()> {
    if w.judged.is_some() {
        bail!("budgets must be set before the first check");
    }
    let field = format!("{kind}_p{p}");
    let b = Budget::from_ms(&field, p / 100.0, limit.0.as_secs_f64() * 1e3)?;
    for ph in phases {
        let e = w.budgets.entry(*ph).or_default();
        match kind {
            "order acknowledgement" => e.order = b,
            "tick processing" => e.tick = b,
            "trade return" => e.trade_return = b,
            other => bail!("no latency called {other:?}: order acknowledgement, tick processing or trade return"),
        }
    }
    w.budgets_set = true;
    Ok(())
}

#[given(expr = "the {word} {word} budget is P{float} under {duration}")]
fn budget(w: &mut TradingWorld, a: String, b: String, p: f64, limit: DurationParam) -> Result<()> {
    set(w, &Phase::ALL, &format!("{a} {b}"), p, limit)
}

#[given(expr = "the {word} {word} budget {word} faults is P{float} under {duration}")]
fn budget_in(
    w: &mut TradingWorld,
    a: String,
    b: String,
    when: String,
    p: f64,
    limit: DurationParam,
) -> Result<()> {
    let ph = phase(&when)?;
    set(w, &[ph], &format!("{a} {b}"), p, limit)
}

#[then(expr = "the order acknowledgement P{float} was under {duration}")]
async fn order_pct(w: &mut TradingWorld, p: f64, limit: DurationParam) -> Result<()> {
    let j = w.judged().await?;
    let hs = &j.observations.latency.order_ns;
    if hs.is_empty() {
        bail!("no acknowledged order was timed");
    }
    for (ph, h) in hs {
        let got = h.value_at_quantile(p / 100.0);
        println!(
            "order acknowledgement {ph}: P{p} {:.3} ms over {} orders",
            got as f64 / 1e6,
            h.len()
        );
        if got as f64 >= limit.0.as_nanos() as f64 {
            bail!(
                "order acknowledgement P{p} {ph} faults is {:.3} ms, over {:?}",
                got as f64 / 1e6,
                limit.0
            );
        }
    }
    Ok(())
}

/// The acknowledgement latency at a quantile in one phase, e.g. that a slowed link did slow
/// orders (`over`) or that a fault elsewhere did not (`under`). No sample in the phase fails.
#[then(expr = "the order acknowledgement P{float} {word} faults was {word} {duration}")]
async fn order_pct_in(
    w: &mut TradingWorld,
    p: f64,
    when: String,
    cmp: String,
    limit: DurationParam,
) -> Result<()> {
    let ph = phase(&when)?;
    let over = match cmp.as_str() {
        "over" => true,
        "under" => false,
        other => bail!("{other:?} is neither over nor under"),
    };
    let j = w.judged().await?;
    let Some(h) = j
        .observations
        .latency
        .order_ns
        .get(&ph)
        .filter(|h| !h.is_empty())
    else {
        bail!("no acknowledged order was sent {ph} the faults");
    };
    let got = h.value_at_quantile(p / 100.0);
    println!(
        "order acknowledgement {ph} faults: P{p} {:.3} ms over {} orders",
        got as f64 / 1e6,
        h.len()
    );
    let limit_ns = limit.0.as_nanos() as u64;
    if over != (got > limit_ns) || got == limit_ns {
        bail!(
            "order acknowledgement P{p} {ph} faults is {:.3} ms, not {cmp} {:?}",
            got as f64 / 1e6,
            limit.0
        );
    }
    Ok(())
}

/// The budget met again after the faults: the acknowledgement latency at a quantile of the
/// orders due at least `settle` after the last heal was under `limit`.
#[then(
    expr = "the order acknowledgement P{float} was under {duration} from {duration} after the last heal"
)]
async fn order_pct_after_heal(
    w: &mut TradingWorld,
    p: f64,
    limit: DurationParam,
    settle: DurationParam,
) -> Result<()> {
    let j = w.judged().await?;
    let h = history::load(&j.dir.join(history::HISTORY_FILE))?;
    let Some(last_heal_ns) = h.timeline.windows().iter().filter_map(|w| w.heal_ns).max() else {
        bail!("no fault was healed in this run");
    };
    let from_ns = last_heal_ns + settle.0.as_nanos() as u64;
    let hist = harness::workload::ack_histogram_of(
        j.workloads
            .iter()
            .flat_map(|r| &r.samples)
            .filter(|s| s.intended_ns >= from_ns),
    );
    if hist.is_empty() {
        bail!(
            "no acknowledged order was due {:?} after the last heal: the workload ends too soon",
            settle.0
        );
    }
    let got = hist.value_at_quantile(p / 100.0);
    println!(
        "order acknowledgement from {:?} after the last heal: P{p} {:.3} ms over {} orders",
        settle.0,
        got as f64 / 1e6,
        hist.len()
    );
    if got as f64 >= limit.0.as_nanos() as f64 {
        bail!(
            "order acknowledgement P{p} from {:?} after the last heal is {:.3} ms, over {:?}",
            settle.0,
            got as f64 / 1e6,
            limit.0
        );
    }
    Ok(())
}
