//! Steps that judge the run: settle, read the final state, run the checks, and state each
//! check's outcome. A failing step prints the verdict with its evidence and the run directory.

use anyhow::{anyhow, bail, Result};
use cucumber::then;
use harness::check::{Outcome, Verdict};

use crate::params::{CheckName, OutcomeParam};
use crate::TradingWorld;

/// The verdict as an indented tree with evidence, for failure messages.
pub fn explain(v: &Verdict) -> String {
    let mut out = format!("{} {:?}: {}\n", v.check, v.outcome, v.detail);
    if v.outcome != Outcome::Valid {
        if let Some(first) = &v.evidence.first_bad {
            out.push_str(&format!("  first bad: {first}\n"));
        }
        if !v.evidence.orders.is_empty() {
            out.push_str(&format!("  orders: {}\n", v.evidence.orders.join(", ")));
        }
    }
    for c in &v.children {
        for line in explain(c).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

fn find<'a>(v: &'a Verdict, check: &str) -> Option<&'a Verdict> {
    if v.check == check {
        return Some(v);
    }
    v.children.iter().find_map(|c| find(c, check))
}

#[then("every check is valid")]
async fn all_valid(w: &mut TradingWorld) -> Result<()> {
    let seed = w.platform()?.seed();
    let j = w.judged().await?;
    if j.verdict.outcome != Outcome::Valid {
        bail!(
            "the run is {:?} (seed {seed}, run dir {}):\n{}",
            j.verdict.outcome,
            j.dir.display(),
            explain(&j.verdict)
        );
    }
    Ok(())
}

#[then(expr = "the check {check} is {outcome}")]
async fn check_is(w: &mut TradingWorld, check: CheckName, outcome: OutcomeParam) -> Result<()> {
    let j = w.judged().await?;
    let v = find(&j.verdict, &check.0).ok_or_else(|| {
        anyhow!(
            "check {} did not judge this run:\n{}",
            check.0,
            explain(&j.verdict)
        )
    })?;
    if v.outcome != outcome.0 {
        bail!(
            "check {} is {:?}, expected {:?} (run dir {}):\n{}",
            check.0,
            v.outcome,
            outcome.0,
            j.dir.display(),
            explain(v)
        );
    }
    println!("{}", explain(v).trim_end());
    Ok(())
}

#[then(expr = "the check {check} names the evidence")]
async fn names_evidence(w: &mut TradingWorld, check: CheckName) -> Result<()> {
    let j = w.judged().await?;
    let v = find(&j.verdict, &check.0).ok_or_else(|| anyhow!("check {} did not judge", check.0))?;
    if v.evidence.orders.is_empty() || v.evidence.first_bad.is_none() {
        bail!("check {} names no evidence:\n{}", check.0, explain(v));
    }
    Ok(())
}
