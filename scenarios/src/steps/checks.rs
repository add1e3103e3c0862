//! Steps that judge the run: settle, read the final state, run the checks, and state each
//! check's outcome. A failing step prints the verdict with its evidence and the run directory.

use anyhow::{anyhow, bail, Result};
use cucumber::{given, then};
use harness::check::Outcome;

use crate::params::{CheckName, DurationParam, OutcomeParam};
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

/// The scenario's hazard happened: every front disconnect cut a session with private-flow
/// returns sequenced and not yet written to it (the front's own count), so the RESUME path was
/// exercised. Judged with the other checks (report, JUnit); a disconnect that cut nothing in
/// flight makes the run unknown. State it before any step that judges the run.
#[then("returns were in flight at each disconnect")]
async fn returns_in_flight(w: &mut TradingWorld) -> Result<()> {
    hazard_happened(w, "front_disconnect", None).await
}

/// The resume side of the disconnects: every session a disconnect of this run cut with
/// returns in flight was followed by a session of the same investor replayed from at most
/// the first return it missed (the front's own marks, `harness::fault::resume`). A resume past
/// the cut (QUICK, or from a sequence number the engine had not made durable) fails, naming
/// the sessions and sequence numbers; a run whose disconnects cut nothing in flight fails too.
#[then("every return a disconnect cut off was replayed to the next session")]
async fn replayed_after_cuts(w: &mut TradingWorld) -> Result<()> {
    use harness::fault::resume;
    let marks = resume::flow_marks(w.platform()?.endpoints(), &w.investor).await?;
    let resumes = resume::after_cuts(&marks, w.started_unix_us);
    if resumes.is_empty() {
        bail!(
            "no disconnect of this run cut a session of {} with returns in flight",
            w.investor
        );
    }
    for r in &resumes {
        println!("{r}");
    }
    let gaps: Vec<String> = resumes
        .iter()
        .filter(|r| !r.covered())
        .map(ToString::to_string)
        .collect();
    if !gaps.is_empty() {
        bail!(
            "returns cut off by a disconnect were never replayed:\n{}",
            gaps.join("\n")
        );
    }
    Ok(())
}

/// Every engine kill left returns the exchange had sequenced and the engine had not made
/// durable (the exchange's flow against the engine's persisted position, read once the engine
/// was dead): its restart had something to resume.
#[then("returns were in flight at each engine kill")]
async fn returns_unapplied_at_kill(w: &mut TradingWorld) -> Result<()> {
    hazard_happened(w, "kill", Some("engine")).await
}

/// Every Kafka link fault (down, black hole) left events waiting in the outbox when it was
/// healed (the engine's outbox read directly): the relay had a backlog to deliver.
#[then(
    expr = "events were waiting in the outbox when each {word} fault on the kafka link was healed"
)]
async fn outbox_backlog_at_heal(w: &mut TradingWorld, kind: String) -> Result<()> {
    hazard_happened(w, &kind, Some("engine->kafka")).await
}

async fn hazard_happened(w: &mut TradingWorld, kind: &str, target: Option<&str>) -> Result<()> {
    if w.judged.is_some() {
        bail!("the hazard must be stated before the first step that judges the run");
    }
    w.hazards.push((kind.to_owned(), target.map(str::to_owned)));
    let j = w.judged().await?;
    let v = j
        .verdict
        .find(harness::check::HazardsHappened::NAME)
        .ok_or_else(|| anyhow!("the hazard check did not judge this run"))?;
    if v.outcome != Outcome::Valid {
        bail!(
            "the scenario's hazard did not happen (run dir {}):\n{}",
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

/// A run that is not expected to settle (an engine defect that leaves orders without an answer
/// for ever) says how long to wait for it instead of the default minute; not settling in time
/// leaves the convergence check unknown, never valid.
#[given(expr = "the platform is given {duration} to settle")]
fn settle_limit(w: &mut TradingWorld, limit: DurationParam) -> Result<()> {
    w.run_mut()?.settle_within(limit.0);
    Ok(())
}

/// How long the platform took to settle after the flow (outbox relayed, every exchange return
/// applied): an engine that recovers from a fault only by a long client timeout settles late.
#[then(expr = "the platform settled within {duration} of the flow's end")]
async fn settled_within(w: &mut TradingWorld, limit: DurationParam) -> Result<()> {
    let j = w.judged().await?;
    let c = &j.convergence;
    let waited = std::time::Duration::from_millis(c.waited_ms);
    if !c.converged || waited >= limit.0 {
        bail!(
            "the platform {} after {waited:?}, limit {:?}: {} outbox rows unsent, {} orders \
             without an exchange answer, {} orders still filling at the exchange (run dir {})",
            if c.converged {
                "settled"
            } else {
                "had not settled"
            },
            limit.0,
            c.outbox_unsent,
            c.orders_new,
            c.fills_pending,
            j.dir.display()
        );
    }
    Ok(())
}
