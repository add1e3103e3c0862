//! Steps that judge the run: settle, read the final state, run the checks, and state each
//! check's outcome. A failing step prints the verdict with its evidence and the run directory.

use anyhow::{anyhow, bail, Result};
use cucumber::then;
use harness::check::Outcome;

use crate::params::{CheckName, OutcomeParam};
use crate::TradingWorld;

#[then("every check is valid")]
async fn all_valid(w: &mut TradingWorld) -> Result<()> {
    let seed = w.platform()?.seed();
    let j = w.judged().await?;
    if j.verdict.outcome != Outcome::Valid {
        bail!(
            "the run is {:?} (seed {seed}, run dir {}):\n{}",
            j.verdict.outcome,
            j.dir.display(),
            j.verdict.explain()
        );
    }
    Ok(())
}

#[then(expr = "the check {check} is {outcome}")]
async fn check_is(w: &mut TradingWorld, check: CheckName, outcome: OutcomeParam) -> Result<()> {
    let j = w.judged().await?;
    let v = j.verdict.find(&check.0).ok_or_else(|| {
        anyhow!(
            "check {} did not judge this run:\n{}",
            check.0,
            j.verdict.explain()
        )
    })?;
    if v.outcome != outcome.0 {
        bail!(
            "check {} is {:?}, expected {:?} (run dir {}):\n{}",
            check.0,
            v.outcome,
            outcome.0,
            j.dir.display(),
            v.explain()
        );
    }
    println!("{}", v.explain().trim_end());
    Ok(())
}

#[then(expr = "the check {check} names the evidence")]
async fn names_evidence(w: &mut TradingWorld, check: CheckName) -> Result<()> {
    let j = w.judged().await?;
    let v = j
        .verdict
        .find(&check.0)
        .ok_or_else(|| anyhow!("check {} did not judge", check.0))?;
    if v.evidence.orders.is_empty() || v.evidence.first_bad.is_none() {
        bail!("check {} names no evidence:\n{}", check.0, v.explain());
    }
    Ok(())
}
