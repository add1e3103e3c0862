//! Chaos finds real defects: with one of the engine's test-only defects switched on, a bounded
//! chaos run (at most a few cases, drawn from a fixed seed so the hunt is the same on every
//! run) fails, and the failing check is the one the defect breaks. Each defect gets a platform
//! of its own, since the defect is in the engine's environment, and each hunt takes the whole
//! machine (`.config/nextest.toml`).

use harness::chaos::{ChaosKind, FaultMix};
use scenarios::chaos::{check_property, PropertyFailure, PropertyOptions};

/// Hunts `defect` with `mix` for at most `cases` cases; the minimal failing case must be
/// judged invalid by `check`.
fn hunt(defect: &str, mix: FaultMix, cases: u32, check: &str) {
    let mut opts = PropertyOptions::from_env(file!()).expect("the CHAOS_* settings");
    opts.defects = vec![defect.to_owned()];
    opts.mix = mix;
    opts.cases = cases;
    opts.shrink_iters = 0;
    opts.persist_failures = false;
    opts.rng_seed = Some(0x5eed);
    match check_property(&opts) {
        Ok(run) => panic!(
            "chaos did not find the defect {defect} in {}",
            run.describe()
        ),
        Err(e) => match e.downcast_ref::<PropertyFailure>() {
            Some(f) => {
                assert!(
                    f.invalid_checks.iter().any(|c| c.ends_with(check)),
                    "the defect {defect} was found, but not by {check}: {f}"
                );
                println!("{defect} found by {}", f.invalid_checks.join(", "));
            }
            None => panic!("the hunt for {defect} could not run: {e:#}"),
        },
    }
}

fn mix(kinds: &[(ChaosKind, f64)]) -> FaultMix {
    FaultMix {
        per_minute: kinds.iter().copied().collect(),
    }
}

#[test]
fn a_dropped_trade_return_is_found_by_the_fills_check() {
    hunt(
        "drop-trade-return",
        FaultMix::default(),
        3,
        "fills_match_orders",
    );
}

#[test]
fn events_that_skip_the_outbox_are_found_by_the_kafka_check() {
    hunt(
        "skip-outbox",
        FaultMix::default(),
        3,
        "kafka_has_every_event",
    );
}

/// Acknowledged before durable: orders are lost only if the engine dies while its commits
/// hang, so the hunt's mix is a PostgreSQL black hole and engine kills.
#[test]
fn an_ack_before_durable_is_found_by_the_lost_order_check() {
    hunt(
        "ack-before-durable",
        mix(&[
            (ChaosKind::PostgresBlackhole, 12.0),
            (ChaosKind::EngineKill, 12.0),
        ]),
        8,
        "no_lost_order",
    );
}

/// Re-sending on retry without idempotency shows only when an order's fate is unknown at the
/// reconnect: returns lagging, then the front dropping its sessions.
#[test]
fn a_resend_without_idempotency_is_found_by_the_duplicate_check() {
    hunt(
        "resend-without-idempotency",
        mix(&[(ChaosKind::LaggingDisconnect, 24.0)]),
        6,
        "no_duplicate",
    );
}
