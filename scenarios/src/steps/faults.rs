//! Steps that inject and heal faults through the nemesis, on their own or while a workload
//! runs. Faults are the fault module's data (`harness::fault::Fault`, JSON in a doc string);
//! the common ones have their own sentences. A whole schedule (faults at offsets, each healed
//! after its duration) is a `harness::fault::Schedule` in JSON or TOML, played by the nemesis
//! beside the workload, so the history's fault timeline splits the run into before, during
//! and after. Every fault is healed before the run is judged.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use cucumber::gherkin::Step;
use cucumber::when;
use harness::fault::{Fault, FaultError, Schedule};

use crate::params::{DurationParam, RoleParam};
use crate::{Played, TradingWorld};

async fn inject(w: &mut TradingWorld, fault: Fault) -> Result<()> {
    let nemesis = w.nemesis()?;
    let injected = nemesis.inject(&fault).await?;
    println!("injected {}", injected.fault());
    Ok(())
}

fn doc_fault(step: &Step) -> Result<Fault> {
    let text = step.docstring.as_ref().ok_or_else(|| {
        anyhow!(
            "line {}: the step needs the fault as a JSON doc string",
            step.position.line
        )
    })?;
    Fault::from_json(text).with_context(|| format!("the fault at line {}", step.position.line + 1))
}

#[when("this fault is injected:")]
async fn this_fault(w: &mut TradingWorld, step: &Step) -> Result<()> {
    let fault = doc_fault(step)?;
    inject(w, fault).await
}

/// A pod kill: `the engine is killed`, `the dc2 engine is killed`.
#[when(expr = "the {role} is killed")]
async fn kill(w: &mut TradingWorld, role: RoleParam) -> Result<()> {
    inject(w, Fault::Kill { service: role.0 }).await
}

#[when(expr = "the CTP front delays its returns by {duration}")]
async fn delay_returns(w: &mut TradingWorld, d: DurationParam) -> Result<()> {
    inject(
        w,
        Fault::DelayReturns {
            ms: d.0.as_millis() as u64,
        },
    )
    .await
}

#[when(expr = "the CTP front disconnects with reason {word}")]
async fn disconnect(w: &mut TradingWorld, reason: String) -> Result<()> {
    let code = match reason.strip_prefix("0x") {
        Some(hex) => i32::from_str_radix(hex, 16),
        None => reason.parse(),
    }
    .map_err(|_| anyhow!("reason {reason:?} is not a number (e.g. 0x1001)"))?;
    inject(
        w,
        Fault::FrontDisconnect {
            reason: code,
            session_id: None,
        },
    )
    .await
}

#[when("every fault is healed")]
async fn heal_all(w: &mut TradingWorld) -> Result<()> {
    w.nemesis()?.heal_all().await?;
    Ok(())
}

#[when(expr = "{int} orders are sent at {int} per second with this fault after {duration}:")]
async fn orders_with_fault(
    w: &mut TradingWorld,
    operations: u64,
    rate: u64,
    after: DurationParam,
    step: &Step,
) -> Result<()> {
    let fault = doc_fault(step)?;
    if after.0 >= Duration::from_secs_f64(operations as f64 / rate.max(1) as f64) {
        bail!("the fault comes after the last order: {:?}", after.0);
    }
    let seed = w.platform()?.seed();
    let spec = harness::workload::WorkloadSpec::new(&w.investor, rate as f64, operations, seed);
    let (run, nemesis) = w.run_and_nemesis()?;
    let (result, injected) = tokio::join!(run.workload(&spec), async {
        tokio::time::sleep(after.0).await;
        nemesis.inject(&fault).await
    });
    let injected = injected?;
    println!("injected {} during the workload", injected.fault());
    let r = result?;
    println!(
        "workload: {} sent, {:?}, refusals {:?}",
        r.sent, r.by_intent, r.fail_codes
    );
    Ok(())
}

/// A table of `after | fault` rows (`after` a duration from the workload's start, `fault` the
/// fault's JSON), injected in order while the orders flow.
#[when(expr = "{int} orders are sent at {int} per second with these faults:")]
async fn orders_with_faults(
    w: &mut TradingWorld,
    operations: u64,
    rate: u64,
    step: &Step,
) -> Result<()> {
    let table = step.table.as_ref().ok_or_else(|| {
        anyhow!(
            "line {}: the step needs an after | fault table",
            step.position.line
        )
    })?;
    let mut plan = Vec::new();
    for (k, row) in table.rows.iter().enumerate() {
        let line = step.position.line + 1 + k;
        let [after, fault] = row.as_slice() else {
            bail!("line {line}: a row needs two cells, after | fault");
        };
        let after: DurationParam = after.parse().map_err(|e| anyhow!("line {line}: {e}"))?;
        let fault = Fault::from_json(fault).with_context(|| format!("the fault at line {line}"))?;
        plan.push((after.0, fault));
    }
    let seed = w.platform()?.seed();
    let spec = harness::workload::WorkloadSpec::new(&w.investor, rate as f64, operations, seed);
    let (run, nemesis) = w.run_and_nemesis()?;
    let (result, injected) = tokio::join!(run.workload(&spec), async {
        let start = tokio::time::Instant::now();
        for (after, fault) in &plan {
            tokio::time::sleep_until(start + *after).await;
            let i = nemesis.inject(fault).await?;
            println!("injected {} during the workload", i.fault());
        }
        Ok::<(), harness::fault::FaultError>(())
    });
    injected?;
    let r = result?;
    println!(
        "workload: {} sent, {:?}, refusals {:?}",
        r.sent, r.by_intent, r.fail_codes
    );
    Ok(())
}

/// The schedule in the step's doc string: JSON when it opens with `{`, TOML otherwise. A parse
/// error names the feature file and the line in it (the doc string's content starts two lines
/// below the step: its opening quotes sit on the next one).
fn doc_schedule(w: &TradingWorld, step: &Step) -> Result<Schedule> {
    let feature = w
        .feature
        .as_ref()
        .map_or_else(|| "the feature".to_owned(), |p| p.display().to_string());
    let text = step.docstring.as_ref().ok_or_else(|| {
        anyhow!(
            "{feature}:{}: the step needs the schedule as a JSON or TOML doc string",
            step.position.line
        )
    })?;
    let parsed = match text.trim_start().starts_with('{') {
        true => Schedule::from_json(text, None),
        false => Schedule::from_toml(text, None),
    };
    let first = step.position.line + 2;
    // The doc string may keep the newline after its opening quotes: count from its first
    // line with content.
    let skipped = text.len() - text.trim_start_matches(['\n', '\r']).len();
    let skipped = text[..skipped].matches('\n').count();
    parsed.map_err(|e| match e {
        FaultError::ScheduleParse {
            line,
            column,
            message,
            ..
        } if line > 0 => anyhow!(
            "{feature}:{}:{column}: the schedule does not parse: {message}",
            first + line - 1 - skipped
        ),
        other => anyhow!(
            "{feature}:{first}: the schedule does not parse: {}",
            harness::fault::chain(&other)
        ),
    })
}

/// Plays the schedule in the doc string while the orders flow: each fault injected at its
/// `at_ms` from the workload's start and healed `duration_ms` later, every fault healed when
/// the schedule ends. The schedule is checked against the platform before the first order.
#[when(expr = "{int} orders are sent at {int} per second with this schedule:")]
async fn orders_with_schedule(
    w: &mut TradingWorld,
    operations: u64,
    rate: u64,
    step: &Step,
) -> Result<()> {
    let schedule = doc_schedule(w, step)?;
    if schedule.steps.is_empty() {
        bail!("line {}: the schedule has no steps", step.position.line);
    }
    let length = Duration::from_secs_f64(operations as f64 / rate.max(1) as f64);
    if let Some(late) = schedule
        .steps
        .iter()
        .find(|s| Duration::from_millis(s.at_ms) >= length)
    {
        bail!(
            "line {}: the fault {} at {} ms comes after the last order ({} ms)",
            step.position.line,
            late.fault,
            late.at_ms,
            length.as_millis()
        );
    }
    let seed = w.platform()?.seed();
    let spec = harness::workload::WorkloadSpec::new(&w.investor, rate as f64, operations, seed);
    let (run, nemesis) = w.run_and_nemesis()?;
    schedule
        .validate(&nemesis.catalogue(), None)
        .map_err(|e| anyhow!("line {}: {}", step.position.line, harness::fault::chain(&e)))?;
    let start_ns = run
        .recorder()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .now_ns();
    let (result, played) = tokio::join!(run.workload(&spec), nemesis.run_schedule(&schedule));
    let summary = result.map(|r| {
        format!(
            "workload: {} sent in {:.1} s, {:?}, refusals {:?}",
            r.sent,
            r.elapsed.as_secs_f64(),
            r.by_intent,
            r.fail_codes
        )
    });
    w.schedules.push(Played { start_ns, schedule });
    // The whole cause chain: which step, which fault, and why (cucumber prints only the
    // error's own text).
    played.map_err(|e| anyhow!("the fault schedule failed: {}", harness::fault::chain(&e)))?;
    println!("{}", summary?);
    Ok(())
}
