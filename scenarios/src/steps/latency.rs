//! Steps that set latency budgets (per phase: before, during or after a fault) before the run
//! is judged, and state measured percentiles. Budgets are the operations documents' unless a
//! feature sets its own; a budget that makes no sense fails the step naming it.

use anyhow::{bail, Result};
use cucumber::{given, then};
use harness::check::Budget;
use harness::history::Phase;

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
