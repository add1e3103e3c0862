//! Steps that judge what faults did to trading, from the run's history and its fault timeline
//! (each fault from the moment its inject was recorded, before it was applied, to the moment
//! its heal was recorded, after the platform was seen back): trading went on during a fault,
//! or no order was acknowledged while the engine could not commit, and how soon the engine
//! and trading came back after a heal. Each step prints what it measured, so a run's output
//! reports its recovery times.
//!
//! Known gaps: a restart's start is the schedule's intended heal time, the earliest the
//! nemesis can begin it; a heal delayed by a slow step before it (the schedule's own known
//! gap) makes the recovery time reported longer than it was, never shorter.

use std::time::Duration;

use anyhow::{bail, Result};
use cucumber::then;
use harness::fault::Fault;
use harness::history::{self, FaultWindow, History, Op, Operation, Outcome};

use crate::params::{DurationParam, RoleParam};
use crate::TradingWorld;

/// The judged run's history (judging the run first if no step did yet).
async fn history(w: &mut TradingWorld) -> Result<History> {
    let dir = w.judged().await?.dir.clone();
    Ok(history::load(&dir.join(history::HISTORY_FILE))?)
}

fn windows(h: &History) -> Result<&[FaultWindow]> {
    let windows = h.timeline.windows();
    if windows.is_empty() {
        bail!("no fault was injected in this run: there is nothing to judge");
    }
    Ok(windows)
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn submits(h: &History) -> impl Iterator<Item = (&Operation, &str)> {
    h.operations.iter().filter_map(|op| match &op.op {
        Op::Submit(s) => Some((op, s.client_order_id.as_str())),
        Op::Cancel(_) => None,
    })
}

/// When the first order sent at or after `from_ns` was acknowledged, if one was.
fn first_ack_after(h: &History, from_ns: u64) -> Option<u64> {
    submits(h)
        .filter(|(op, _)| op.invoke_ns >= from_ns)
        .filter(|(op, _)| matches!(op.outcome, Outcome::Ok(_)))
        .filter_map(|(op, _)| op.complete_ns)
        .min()
}

/// Whether `outcome` answers the order on its merits: acknowledged, or refused for a reason
/// of its own. UNAVAILABLE, an unknown outcome or no answer at all does not.
fn answered(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Ok(_) => true,
        Outcome::Fail(e) => e.code != "Unavailable",
        Outcome::Info(_) | Outcome::Pending => false,
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok(r) => format!("acknowledged as order {:?}", r.order_id),
        Outcome::Fail(e) => format!("refused with {} {}", e.code, e.message),
        Outcome::Info(e) => format!("unknown ({} {})", e.code, e.message),
        Outcome::Pending => "never answered".into(),
    }
}

/// What happened to the orders sent while a fault was active.
#[derive(Debug, Default, PartialEq)]
struct DuringFaults {
    sent: u64,
    acked: u64,
    /// Acknowledged while a fault was still active.
    acked_during: u64,
    /// Orders with no answer on their merits: unknown, never answered, or UNAVAILABLE.
    stalled: Vec<String>,
}

fn during_faults(h: &History) -> Result<DuringFaults> {
    let windows = windows(h)?;
    let during = |at_ns: u64| windows.iter().any(|win| win.contains(at_ns));
    let mut d = DuringFaults::default();
    for (op, cid) in submits(h).filter(|(op, _)| during(op.invoke_ns)) {
        d.sent += 1;
        if !answered(&op.outcome) {
            d.stalled.push(format!("{cid} {}", describe(&op.outcome)));
        } else if matches!(op.outcome, Outcome::Ok(_)) {
            d.acked += 1;
            d.acked_during += u64::from(op.complete_ns.is_some_and(during));
        }
    }
    Ok(d)
}

impl DuringFaults {
    /// Fails unless some order was sent during the faults and each got an answer on its
    /// merits.
    fn require_answered(&self) -> Result<()> {
        if self.sent == 0 {
            bail!("no order was sent while a fault was active: the schedule misses the workload");
        }
        if !self.stalled.is_empty() {
            bail!(
                "{} of {} orders sent during the faults got no answer on their merits, e.g. {}",
                self.stalled.len(),
                self.sent,
                self.stalled[..self.stalled.len().min(5)].join("; ")
            );
        }
        Ok(())
    }
}

/// Every order sent while a fault was active was answered on its merits (acknowledged, or
/// refused for a reason of its own, never UNAVAILABLE, a timeout or no answer), and at least
/// one acknowledgement came while the fault was still active.
#[then("trading continued during the faults")]
async fn trading_continued(w: &mut TradingWorld) -> Result<()> {
    let h = history(w).await?;
    let d = during_faults(&h)?;
    println!(
        "during the faults: {} orders sent, {} acknowledged ({} before the heal), {} without \
         an answer",
        d.sent,
        d.acked,
        d.acked_during,
        d.stalled.len()
    );
    d.require_answered()?;
    if d.acked_during == 0 {
        bail!("no order was acknowledged while a fault was active");
    }
    Ok(())
}

/// Every order sent while a fault was active was answered on its merits (acknowledged, or
/// refused for a reason of its own), whenever the answer came: a hang, not a loss.
#[then("every order sent during the faults was answered")]
async fn all_answered(w: &mut TradingWorld) -> Result<()> {
    let h = history(w).await?;
    let d = during_faults(&h)?;
    println!(
        "during the faults: {} orders sent, {} acknowledged, {} refused on their merits, {} \
         without an answer",
        d.sent,
        d.acked,
        d.sent - d.acked - d.stalled.len() as u64,
        d.stalled.len()
    );
    d.require_answered()?;
    if d.acked == 0 {
        bail!("no order sent during the faults was acknowledged");
    }
    Ok(())
}

/// The orders sent at least `grace` into a fault and acknowledged before its heal was
/// recorded; the grace covers the time the nemesis takes to apply the fault after recording
/// its inject, when an engine may still rightly commit. Fails if no order was sent in that
/// span, since then nothing was judged.
fn acked_under_fault(h: &History, grace: Duration) -> Result<(u64, Vec<String>)> {
    let grace_ns = grace.as_nanos() as u64;
    let mut sent = 0u64;
    let mut acked = Vec::new();
    for win in windows(h)? {
        let Some(heal_ns) = win.heal_ns else {
            bail!("the fault {} on {} was never healed", win.fault, win.target);
        };
        let from_ns = win.inject_ns + grace_ns;
        for (op, cid) in submits(h).filter(|(op, _)| (from_ns..heal_ns).contains(&op.invoke_ns)) {
            sent += 1;
            if let (Outcome::Ok(_), Some(done)) = (&op.outcome, op.complete_ns) {
                if done < heal_ns {
                    acked.push(format!(
                        "{cid} (sent {:.0} ms into {} on {}, acknowledged {:.0} ms before the heal)",
                        ms(op.invoke_ns - win.inject_ns),
                        win.fault,
                        win.target,
                        ms(heal_ns - done)
                    ));
                }
            }
        }
    }
    println!(
        "{sent} orders sent from {} ms into a fault to its heal, {} acknowledged before it",
        grace.as_millis(),
        acked.len()
    );
    if sent == 0 {
        bail!(
            "no order was sent from {} ms into a fault to its heal: nothing was judged",
            grace.as_millis()
        );
    }
    Ok((sent, acked))
}

#[then(expr = "no order sent over {duration} into a fault was acknowledged before its heal")]
async fn none_acked_under_fault(w: &mut TradingWorld, grace: DurationParam) -> Result<()> {
    let h = history(w).await?;
    let (sent, acked) = acked_under_fault(&h, grace.0)?;
    if !acked.is_empty() {
        bail!(
            "{} of {sent} orders were acknowledged while the fault was active, e.g. {}",
            acked.len(),
            acked[..acked.len().min(5)].join("; ")
        );
    }
    Ok(())
}

/// The defect counterpart: an engine that acknowledges what it has not committed.
#[then(expr = "an order sent over {duration} into a fault was acknowledged before its heal")]
async fn some_acked_under_fault(w: &mut TradingWorld, grace: DurationParam) -> Result<()> {
    let h = history(w).await?;
    let (_, acked) = acked_under_fault(&h, grace.0)?;
    match acked.first() {
        Some(first) => {
            println!("e.g. {first}");
            Ok(())
        }
        None => bail!("no order was acknowledged while the fault was active"),
    }
}

/// The service a process fault stops, if `fault` is one.
/// Whether two services name the same container: `engine` and `dc1/engine` do.
fn same_role(a: &str, b: &str) -> bool {
    use harness::platform::Role;
    match (a.parse::<Role>(), b.parse::<Role>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn stopped(fault: &Fault) -> Option<&str> {
    match fault {
        Fault::Kill { service } | Fault::Stop { service, .. } | Fault::Pause { service } => {
            Some(service)
        }
        _ => None,
    }
}

/// For every kill, stop or pause of `service` in the played schedules: the time from its
/// restart (the schedule's heal time) to its readiness (the heal recorded once the service
/// answered its readiness probe), which must be under `limit`. Also reports the time from
/// the fault to readiness and to the first acknowledgement of an order sent after the restart.
#[then(expr = "the {role} was ready again within {duration} of its restart")]
async fn ready_again(w: &mut TradingWorld, role: RoleParam, limit: DurationParam) -> Result<()> {
    let service = role.0;
    let played = w.schedules.clone();
    let h = history(w).await?;
    let windows = windows(&h)?;
    let mut judged = 0;
    let mut used = vec![false; windows.len()];
    for p in &played {
        for step in &p.schedule.steps {
            if !stopped(&step.fault).is_some_and(|s| same_role(s, &service)) {
                continue;
            }
            let due_ns = p.start_ns + step.at_ms * 1_000_000;
            let found = windows.iter().enumerate().position(|(i, win)| {
                !used[i]
                    && win.fault == step.fault.kind()
                    && same_role(&win.target, &service)
                    && win.inject_ns >= due_ns
            });
            let Some(i) = found else {
                bail!(
                    "the {} of {service} at {} ms is not in the history's fault timeline",
                    step.fault.kind(),
                    step.at_ms
                );
            };
            used[i] = true;
            let win = &windows[i];
            let Some(ready_ns) = win.heal_ns else {
                bail!("the {} of {service} was never healed", win.fault);
            };
            let restart_ns = due_ns + step.duration_ms * 1_000_000;
            let recovery_ns = ready_ns.saturating_sub(restart_ns);
            let first_ack = first_ack_after(&h, restart_ns);
            println!(
                "{} of {service} at {:.0} ms: restarted {:.0} ms later, ready {:.0} ms after the \
                 restart ({:.0} ms after the {}); first acknowledgement of an order sent after \
                 the restart {}",
                win.fault,
                ms(win.inject_ns),
                ms(restart_ns.saturating_sub(win.inject_ns)),
                ms(recovery_ns),
                ms(ready_ns - win.inject_ns),
                win.fault,
                first_ack.map_or_else(
                    || "none".to_owned(),
                    |at| format!(
                        "{:.0} ms after the restart",
                        ms(at.saturating_sub(restart_ns))
                    )
                ),
            );
            judged += 1;
            if Duration::from_nanos(recovery_ns) >= limit.0 {
                bail!(
                    "{service} was ready {:.0} ms after its restart, over {:?}",
                    ms(recovery_ns),
                    limit.0
                );
            }
        }
    }
    if judged == 0 {
        bail!("no schedule played in this scenario killed, stopped or paused {service}");
    }
    Ok(())
}

/// After every heal, an order sent after it was acknowledged within `limit` of the heal.
#[then(expr = "trading resumed within {duration} of each heal")]
async fn resumed(w: &mut TradingWorld, limit: DurationParam) -> Result<()> {
    let h = history(w).await?;
    for win in windows(&h)? {
        let Some(heal_ns) = win.heal_ns else {
            bail!("the fault {} on {} was never healed", win.fault, win.target);
        };
        let Some(at) = first_ack_after(&h, heal_ns) else {
            let sent = submits(&h)
                .filter(|(op, _)| op.invoke_ns >= heal_ns)
                .count();
            bail!(
                "after the heal of {} on {}, none of the {sent} orders sent was acknowledged",
                win.fault,
                win.target
            );
        };
        let after_ns = at - heal_ns;
        println!(
            "{} on {}: healed after {:.0} ms, trading resumed {:.0} ms after the heal",
            win.fault,
            win.target,
            ms(heal_ns - win.inject_ns),
            ms(after_ns)
        );
        if Duration::from_nanos(after_ns) >= limit.0 {
            bail!(
                "trading resumed {:.0} ms after the heal of {} on {}, over {:?}",
                ms(after_ns),
                win.fault,
                win.target,
                limit.0
            );
        }
    }
    Ok(())
}

/// How long trading was out after one fault: from its inject to the first acknowledgement of
/// an order sent after the last order without an answer on its merits (sent before the next
/// fault), with that count; zero when no order went unanswered.
#[derive(Debug, PartialEq)]
struct Outage {
    unanswered: usize,
    back_after_ns: u64,
}

fn outages(h: &History) -> Result<Vec<(&FaultWindow, Option<Outage>)>> {
    let windows = windows(h)?;
    let mut out = Vec::new();
    for (i, win) in windows.iter().enumerate() {
        let until_ns = windows.get(i + 1).map_or(u64::MAX, |next| next.inject_ns);
        let span = |op: &&Operation| (win.inject_ns..until_ns).contains(&op.invoke_ns);
        let unanswered: Vec<u64> = submits(h)
            .map(|(op, _)| op)
            .filter(span)
            .filter(|op| !answered(&op.outcome))
            .map(|op| op.invoke_ns)
            .collect();
        let Some(&last_ns) = unanswered.iter().max() else {
            out.push((
                win,
                Some(Outage {
                    unanswered: 0,
                    back_after_ns: 0,
                }),
            ));
            continue;
        };
        let back = first_ack_after(h, last_ns + 1);
        out.push((
            win,
            back.map(|at| Outage {
                unanswered: unanswered.len(),
                back_after_ns: at.saturating_sub(win.inject_ns),
            }),
        ));
    }
    Ok(out)
}

/// After every fault, trading was back within `limit` of its inject: the orders sent after
/// the last one the fault left without an answer were acknowledged again. A client's view of
/// the recovery time, for instant faults (a front disconnect) as for lasting ones.
#[then(expr = "trading was back within {duration} of each fault")]
async fn back_within(w: &mut TradingWorld, limit: DurationParam) -> Result<()> {
    let h = history(w).await?;
    let mut over = Vec::new();
    for (win, outage) in outages(&h)? {
        let Some(o) = outage else {
            bail!(
                "after {} on {} at {:.0} ms, no order sent after the last unanswered one was \
                 acknowledged",
                win.fault,
                win.target,
                ms(win.inject_ns)
            );
        };
        println!(
            "{} on {} at {:.0} ms: {} orders without an answer, trading back {:.0} ms after \
             the fault",
            win.fault,
            win.target,
            ms(win.inject_ns),
            o.unanswered,
            ms(o.back_after_ns)
        );
        if Duration::from_nanos(o.back_after_ns) >= limit.0 {
            over.push(format!(
                "{} on {} at {:.0} ms: {:.0} ms",
                win.fault,
                win.target,
                ms(win.inject_ns),
                ms(o.back_after_ns)
            ));
        }
    }
    if !over.is_empty() {
        bail!(
            "trading was back later than {:?}: {}",
            limit.0,
            over.join("; ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::model::{Offset, Side};
    use harness::history::{FaultAction, OpError, OpId, OpResult, SubmitOrder, Timeline};

    const MS: u64 = 1_000_000;

    fn submit(i: u64, invoke_ms: u64, done_ms: Option<u64>, outcome: Outcome) -> Operation {
        Operation {
            id: OpId(i),
            process: 0,
            op: Op::Submit(SubmitOrder {
                client_order_id: format!("c-{i}"),
                account_id: "000003".into(),
                instrument_id: "rb2410".into(),
                side: Side::Buy,
                offset: Offset::Open,
                limit_price: 3600.0,
                volume: 1,
            }),
            invoke_ns: invoke_ms * MS,
            complete_ns: done_ms.map(|d| d * MS),
            outcome,
        }
    }

    fn ok() -> Outcome {
        Outcome::Ok(OpResult::default())
    }

    fn unknown() -> Outcome {
        Outcome::Info(OpError {
            code: "Timeout".into(),
            ..OpError::default()
        })
    }

    /// A fault from 1 s to 4 s.
    fn history(operations: Vec<Operation>) -> History {
        let ev = |at_ms: u64, a| {
            (
                at_ms * MS,
                a,
                "down".to_owned(),
                "engine->postgres".to_owned(),
            )
        };
        History {
            operations,
            timeline: Timeline::from_events([
                ev(1000, FaultAction::Inject),
                ev(4000, FaultAction::Heal),
            ]),
            steps: Vec::new(),
            hazards: Vec::new(),
        }
    }

    #[test]
    fn an_acknowledgement_under_the_fault_is_found_and_the_grace_and_the_heal_are_not() {
        let h = history(vec![
            submit(0, 500, Some(600), ok()),
            submit(1, 1100, Some(1200), ok()),
            submit(2, 2000, Some(4500), ok()),
            submit(3, 2500, Some(3000), ok()),
            submit(4, 3000, Some(8000), unknown()),
        ]);
        let (sent, acked) = acked_under_fault(&h, Duration::from_millis(500)).unwrap();
        assert_eq!(sent, 3);
        assert_eq!(acked.len(), 1, "{acked:?}");
        assert!(acked[0].starts_with("c-3 "), "{acked:?}");
        let none = history(vec![submit(0, 500, Some(600), ok())]);
        assert!(acked_under_fault(&none, Duration::from_millis(500)).is_err());
        assert!(acked_under_fault(&History::default(), Duration::ZERO).is_err());
    }

    #[test]
    fn trading_continued_only_if_every_order_sent_under_the_fault_was_answered() {
        let fine = history(vec![
            submit(0, 500, Some(600), ok()),
            submit(1, 1500, Some(1600), ok()),
            submit(2, 3990, Some(4100), ok()),
        ]);
        let d = during_faults(&fine).unwrap();
        assert_eq!((d.sent, d.acked, d.acked_during), (2, 2, 1));
        assert!(d.stalled.is_empty());
        let stalled = history(vec![
            submit(1, 1500, Some(1600), ok()),
            submit(2, 2000, Some(7000), unknown()),
            submit(3, 2100, None, Outcome::Pending),
        ]);
        let d = during_faults(&stalled).unwrap();
        assert_eq!(d.stalled.len(), 2, "{d:?}");
        assert!(d.stalled[0].starts_with("c-2 unknown"), "{d:?}");
    }

    #[test]
    fn trading_is_back_at_the_first_acknowledgement_after_the_last_unanswered_order() {
        let h = history(vec![
            submit(0, 900, Some(950), ok()),
            submit(1, 1200, Some(6200), unknown()),
            submit(2, 1300, Some(1400), ok()),
            submit(3, 2000, Some(7000), unknown()),
            submit(4, 2100, Some(4300), ok()),
            submit(5, 2200, Some(4250), ok()),
        ]);
        let out = outages(&h).unwrap();
        assert_eq!(
            out[0].1,
            Some(Outage {
                unanswered: 2,
                back_after_ns: 3250 * MS
            })
        );
        let never = history(vec![submit(1, 1200, Some(6200), unknown())]);
        assert_eq!(outages(&never).unwrap()[0].1, None);
        let fine = history(vec![submit(2, 1300, Some(1400), ok())]);
        assert_eq!(
            outages(&fine).unwrap()[0].1.as_ref().unwrap().back_after_ns,
            0
        );
    }
}
