//! The DR drills on real containers, each on a fresh two-datacenter platform under an
//! open-loop order workload through the order router, judged by the meters of
//! `harness::check::dr` against ground truth (the client's history, the promoted database and
//! the exchange's record). The meters are themselves tested here: synchronous replication
//! (`remote_apply`) must lose nothing on an unplanned loss, and asynchronous replication behind
//! a slowed, throttled line must lose acknowledged orders, named; a meter that cannot see the
//! second is wrong. Needs the images (`cargo run -p harness -- images build`); each test takes
//! the whole machine (`.config/nextest.toml`).

use std::path::PathBuf;

use harness::check::{Outcome, Verdict};
use harness::dr::{run_drill, Drill, DrillOptions, DrillResult};
use harness::platform::Replication;

fn dir(name: &str) -> PathBuf {
    harness::run::runs_dir().join(format!("dr-test-{name}"))
}

async fn drill(drill: Drill, replication: Replication, seed: u64) -> DrillResult {
    let opts = DrillOptions {
        replication,
        seed,
        ..DrillOptions::default()
    };
    let name = format!("{drill}-{}", opts.replication_name());
    let result = run_drill(drill, &opts, &dir(&name))
        .await
        .unwrap_or_else(|e| panic!("the {name} drill runs: {e:#}"));
    eprintln!(
        "{name}: {:?}; RTO tier 1 {:?} ms, tier 2 {:?} ms; RPO {} orders (window {:?} ms), \
         {} lost after reconciliation; P99 after {:?} ms; {} sent, {} acked, {} unknown; {:.0} s",
        result.outcome,
        result.rto.tier1_ms,
        result.rto.tier2_ms,
        result.rpo.lost_at_promotion.len(),
        result.rpo.window_ms,
        result.rpo.lost_after_reconciliation.len(),
        result.p99_after_ms,
        result.orders_sent,
        result.orders_acknowledged,
        result.orders_unknown,
        result.elapsed_s
    );
    for row in &result.timeline {
        eprintln!(
            "  {:>8.0} ms  {} {:?} {}",
            row.at_ms, row.what, row.dc, row.detail
        );
    }
    result
}

fn outcome_of<'a>(v: &'a Verdict, check: &str) -> &'a Verdict {
    v.find(check)
        .unwrap_or_else(|| panic!("the drill's verdict has no {check}:\n{}", v.explain()))
}

/// Everything a drill that must lose nothing asserts.
fn lost_nothing(r: &DrillResult) {
    assert!(
        r.rpo.lost_at_promotion.is_empty(),
        "RPO = 0: the promoted database lacked {:?}",
        r.rpo.lost_at_promotion
    );
    assert!(r.rpo.lost_after_reconciliation.is_empty());
    for check in [
        "rpo",
        "no_business_loss",
        "rto",
        "surviving_site",
        "converged",
    ] {
        assert_eq!(
            outcome_of(&r.verdict, check).outcome,
            Outcome::Valid,
            "{check}:\n{}",
            r.verdict.explain()
        );
    }
    assert!(r.orders_acknowledged > 0);
}

#[rstest::rstest]
#[case::sync(Replication::Sync)]
#[case::async_(Replication::Async)]
#[tokio::test(flavor = "multi_thread")]
async fn a_planned_switchover_loses_nothing(#[case] replication: Replication) {
    let r = drill(Drill::Switchover, replication, 11).await;
    lost_nothing(&r);
    let steps: Vec<&str> = r.timeline.iter().map(|s| s.what.as_str()).collect();
    for step in [
        "switchover_started",
        "order_reception_stopped",
        "drained",
        "old_engine_stopped",
        "caught_up",
        "promote_database",
        "promote_engine",
        "rerouted",
        "positions_queryable",
    ] {
        assert!(steps.contains(&step), "{step} is in the timeline {steps:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn losing_dc1_under_sync_loses_no_acknowledged_order_and_dc2_serves_within_30_s() {
    let r = drill(Drill::DcLoss, Replication::Sync, 21).await;
    lost_nothing(&r);
    let tier1 = r.rto.tier1_ms.expect("dc2 acknowledged orders");
    assert!(tier1 <= 30_000.0, "tier-1 RTO {tier1} ms");
    assert_eq!(
        outcome_of(&r.verdict, "old_site_fenced").outcome,
        Outcome::Valid
    );
    let detected = r
        .timeline
        .iter()
        .find(|s| s.what == "detected")
        .expect("detected");
    assert!(
        detected.at_ms > 0.0,
        "detected after the loss: {detected:?}"
    );
}

/// The meter's ground truth: behind a slowed, throttled line, `async` loses acknowledged
/// orders on an unplanned loss and the meter names them; `sync` loses none.
#[rstest::rstest]
#[case::sync_loses_nothing(Replication::Sync, false)]
#[case::async_loses_acknowledged_orders(Replication::Async, true)]
#[tokio::test(flavor = "multi_thread")]
async fn a_loss_behind_a_slow_line_is_measured(
    #[case] replication: Replication,
    #[case] loses: bool,
) {
    let r = drill(Drill::SlowLineLoss, replication, 31).await;
    let rpo = outcome_of(&r.verdict, "rpo");
    if loses {
        assert!(
            !r.rpo.lost_at_promotion.is_empty(),
            "async behind a slowed line lost nothing: the meter or the drill is wrong"
        );
        assert_eq!(rpo.outcome, Outcome::Invalid, "{}", rpo.detail);
        assert!(!rpo.evidence.orders.is_empty(), "the lost orders are named");
        assert!(r.rpo.window_ms.is_some(), "{:?}", r.rpo);
        assert_eq!(r.outcome, Outcome::Invalid);
    } else {
        lost_nothing(&r);
    }
}
