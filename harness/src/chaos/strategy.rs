//! The proptest strategies of chaos: a fault of each [`ChaosKind`] on the platform's own links
//! and services, a fault schedule drawn from a [`FaultMix`] over a given length, an order flow,
//! and a whole [`Case`]. proptest shrinks a failing case towards fewer and shorter faults and a
//! smaller flow. [`draw`] makes the same value from a seed without a test runner, so that
//! `harness chaos --seed S` and a proptest case are drawn by one generator.
//!
//! Schedules are sequential: a fault is healed before the next starts, so no two faults fight
//! over one target and each fault has a before and an after in the report.

use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::case::{Case, Flow};
use super::mix::{ChaosKind, FaultMix};
use crate::fault::{Catalogue, Fault, Schedule, Step, Stream, CTP_REASONS};
use crate::workload::Mix;

fn stream() -> impl Strategy<Value = Stream> {
    prop_oneof![Just(Stream::Upstream), Just(Stream::Downstream)]
}

/// The targets of `wanted` that the platform has.
fn present(have: &[String], wanted: &[&str]) -> Vec<String> {
    wanted
        .iter()
        .filter(|w| have.iter().any(|h| h == *w))
        .map(|w| (*w).to_owned())
        .collect()
}

/// A fault of `kind` on the catalogue's targets, or `None` when the platform has none.
pub fn fault(kind: ChaosKind, cat: &Catalogue) -> Option<BoxedStrategy<Fault>> {
    let all_links = cat.links.clone();
    let links = |wanted: &[&str]| present(&cat.links, wanted);
    let services = |wanted: &[&str]| present(&cat.services, wanted);
    let non_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let has_front = cat.services.iter().any(|s| s == "mock-ctp");
    Some(match kind {
        ChaosKind::LinkLatency => (
            select(non_empty(all_links)?),
            stream(),
            5u64..=150,
            0u64..=30,
        )
            .prop_map(|(link, stream, latency_ms, jitter)| Fault::Latency {
                link,
                stream,
                latency_ms,
                jitter_ms: jitter.min(latency_ms / 2),
            })
            .boxed(),
        ChaosKind::LinkDown => select(non_empty(all_links)?)
            .prop_map(|link| Fault::Down { link })
            .boxed(),
        ChaosKind::LinkReset => (select(non_empty(all_links)?), stream(), 0u64..=500)
            .prop_map(|(link, stream, timeout_ms)| Fault::ResetPeer {
                link,
                stream,
                timeout_ms,
            })
            .boxed(),
        ChaosKind::LinkBlackhole => (select(non_empty(links(&["kafka", "redis"]))?), stream())
            .prop_map(|(link, stream)| Fault::Timeout {
                link,
                stream,
                timeout_ms: 0,
            })
            .boxed(),
        ChaosKind::PostgresBlackhole => (select(non_empty(links(&["postgres"]))?), stream())
            .prop_map(|(link, stream)| Fault::Timeout {
                link,
                stream,
                timeout_ms: 0,
            })
            .boxed(),
        ChaosKind::EngineKill => select(non_empty(services(&["engine"]))?)
            .prop_map(|service| Fault::Kill { service })
            .boxed(),
        ChaosKind::EnginePause => select(non_empty(services(&["engine"]))?)
            .prop_map(|service| Fault::Pause { service })
            .boxed(),
        ChaosKind::DependencyKill => select(non_empty(services(&["postgres", "redis", "kafka"]))?)
            .prop_map(|service| Fault::Kill { service })
            .boxed(),
        ChaosKind::Partition => select(non_empty(services(&["redis", "kafka"]))?)
            .prop_map(|service| Fault::Partition { service })
            .boxed(),
        ChaosKind::FrontDisconnect if has_front => select(CTP_REASONS.to_vec())
            .prop_map(|reason| Fault::FrontDisconnect {
                reason,
                session_id: None,
            })
            .boxed(),
        ChaosKind::FrontHang if has_front => Just(Fault::FrontHang { ms: 3_600_000 }).boxed(),
        ChaosKind::DelayReturns if has_front => (50u64..=1_000)
            .prop_map(|ms| Fault::DelayReturns { ms })
            .boxed(),
        // Returns lag for 0.5-1.5 s before the front drops its sessions (inside the kind's
        // 2.5 s minimum hold), so orders sent meanwhile are of unknown fate at the reconnect.
        ChaosKind::LaggingDisconnect if has_front => (
            2_000u64..=5_000,
            500u64..=1_500,
            select(CTP_REASONS.to_vec()),
        )
            .prop_map(|(ms, stagger_ms, reason)| Fault::All {
                faults: vec![
                    Fault::DelayReturns { ms },
                    Fault::FrontDisconnect {
                        reason,
                        session_id: None,
                    },
                ],
                stagger_ms,
            })
            .boxed(),
        ChaosKind::FlowControl if has_front => (5u32..=50)
            .prop_map(|orders_per_second| Fault::FlowControl {
                orders_per_second,
                session_id: None,
            })
            .boxed(),
        ChaosKind::DropReturns if has_front => (1u64..=5)
            .prop_map(|count| Fault::DropReturns { count })
            .boxed(),
        ChaosKind::FrontDisconnect
        | ChaosKind::FrontHang
        | ChaosKind::DelayReturns
        | ChaosKind::LaggingDisconnect
        | ChaosKind::FlowControl
        | ChaosKind::DropReturns => return None,
    })
}

/// A step before placing: the pause after the previous fault's heal, the fault, its hold.
type Unplaced = (u64, Fault, u64);

/// One step before placing.
fn step(mix: &FaultMix, cat: &Catalogue, max_gap_ms: u64) -> Option<BoxedStrategy<Unplaced>> {
    let arms: Vec<(u32, BoxedStrategy<Unplaced>)> = mix
        .per_minute
        .iter()
        .filter(|(_, rate)| **rate > 0.0)
        .filter_map(|(kind, rate)| {
            let weight = ((rate * 100.0).round() as u32).max(1);
            let s = (0..=max_gap_ms, fault(*kind, cat)?, kind.hold_ms()).boxed();
            Some((weight, s))
        })
        .collect();
    (!arms.is_empty()).then(|| Union::new_weighted(arms).boxed())
}

/// A sequential schedule over `length`: about `mix.total_per_minute()` faults a minute (between
/// none and twice that), each healed before the next, every inject inside `length`.
pub fn schedule(mix: &FaultMix, length: Duration, cat: &Catalogue) -> BoxedStrategy<Schedule> {
    let length_ms = length.as_millis() as u64;
    let expected = mix.total_per_minute() * length.as_secs_f64() / 60.0;
    let most = ((2.0 * expected).ceil() as usize).max(1);
    let max_gap_ms = (length_ms / (expected.ceil() as u64 + 1)).max(200);
    let Some(step) = step(mix, cat, max_gap_ms) else {
        return Just(Schedule::default()).boxed();
    };
    proptest::collection::vec(step, 0..=most)
        .prop_map(move |drawn| {
            let mut at = 0u64;
            let mut steps = Vec::new();
            for (gap, fault, hold) in drawn {
                at += gap;
                if at >= length_ms {
                    break;
                }
                steps.push(Step {
                    at_ms: at,
                    duration_ms: hold,
                    fault,
                });
                at += hold;
            }
            Schedule { steps }
        })
        .boxed()
}

/// An order flow of about `length` at 50–150 orders/s, with a few cancels, duplicates and
/// orders risk must refuse.
pub fn flow(length: Duration) -> BoxedStrategy<Flow> {
    let secs = length.as_secs_f64().max(0.1);
    (50u32..=150, 0u32..=10, 0u32..=5, 0u32..=3)
        .prop_map(move |(rate, cancel, duplicate, risk)| Flow {
            rate_per_s: f64::from(rate),
            operations: ((f64::from(rate) * secs).round() as u64).max(1),
            mix: Mix {
                cancel: f64::from(cancel) / 100.0,
                duplicate: f64::from(duplicate) / 100.0,
                risk_reject: f64::from(risk) / 100.0,
            },
        })
        .boxed()
}

/// A whole case: a seed (workload choices and the fault proxy's randomness), a flow and a
/// schedule over `length`. The investor and defects are the platform's, filled in by the
/// caller.
pub fn case(mix: &FaultMix, length: Duration, cat: &Catalogue) -> BoxedStrategy<Case> {
    (any::<u64>(), flow(length), schedule(mix, length, cat))
        .prop_map(|(seed, flow, schedule)| Case {
            seed,
            flow,
            schedule,
            ..Case::default()
        })
        .boxed()
}

/// The random source of `seed`, the same on every machine (ChaCha).
pub fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// The value `strategy` makes from `seed`.
pub fn draw<S: Strategy>(strategy: &S, seed: u64) -> S::Value {
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(seed));
    strategy
        .new_tree(&mut runner)
        .expect("chaos strategies never reject")
        .current()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue {
            links: ["postgres", "redis", "kafka", "ctp-trade", "ctp-md"]
                .map(String::from)
                .to_vec(),
            services: [
                "postgres",
                "redis",
                "kafka",
                "faultproxy",
                "mock-ctp",
                "engine",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_case_and_another_seed_another() {
        let s = case(&FaultMix::default(), Duration::from_secs(30), &catalogue());
        assert_eq!(draw(&s, 7), draw(&s, 7));
        assert_ne!(draw(&s, 7), draw(&s, 8));
    }

    proptest! {
        #[test]
        fn schedules_are_sequential_valid_and_inside_their_length(
            sched in schedule(&FaultMix::default(), Duration::from_secs(20), &catalogue())
        ) {
            let cat = catalogue();
            sched.validate(&cat, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut end = 0;
            for s in &sched.steps {
                prop_assert!(s.at_ms >= end, "overlap at {}", s.at_ms);
                prop_assert!(s.at_ms < 20_000);
                end = s.at_ms + s.duration_ms;
            }
        }

        #[test]
        fn a_kind_without_a_target_is_never_drawn(
            sched in schedule(
                &FaultMix { per_minute: [(ChaosKind::EngineKill, 5.0), (ChaosKind::LinkDown, 5.0)].into_iter().collect() },
                Duration::from_secs(30),
                &Catalogue { links: vec!["redis".into()], services: vec!["redis".into()] },
            )
        ) {
            for s in &sched.steps {
                prop_assert_eq!(&s.fault, &Fault::Down { link: "redis".into() });
            }
        }
    }

    #[test]
    fn the_default_mix_draws_about_its_rate() {
        let s = schedule(&FaultMix::default(), Duration::from_secs(60), &catalogue());
        let faults: usize = (0..200).map(|seed| draw(&s, seed).steps.len()).sum();
        let per_minute = faults as f64 / 200.0;
        // Sequential holds and gaps cut long schedules short, so fewer than the nominal rate.
        assert!(
            (3.0..=FaultMix::default().total_per_minute()).contains(&per_minute),
            "{per_minute}"
        );
    }
}
