//! 10,000 operations at a fixed rate against a healthy engine: every acknowledged order is in
//! PostgreSQL once, at the exchange once and has its events in Kafka; positions and balances
//! equal what the trades imply; duplicates return the original and risk breaches are refused;
//! and the engine's writers find the rows they change by key (no sequential scan of `orders`
//! per return batch while the table has not yet been analyzed).

use std::time::Duration;

use harness::check::{self, LatencyCheck, Outcome};
use harness::run::Run;
use harness::workload::{Intent, Mix, WorkloadSpec};

use super::platform;

const OPERATIONS: u64 = 10_000;
const RATE_PER_S: f64 = 500.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_orders_at_a_fixed_rate_are_consistent_everywhere() {
    let p = platform("000003", &[]).await;
    let seed = p.seed();
    let replay = "cargo test --test engine ten_thousand_orders";
    let mut run = Run::begin(&format!("engine-consistency-{}", p.run_id()), &p, replay)
        .await
        .unwrap();
    let spec = WorkloadSpec::new("000003", RATE_PER_S, OPERATIONS, seed).with_mix(Mix {
        cancel: 0.05,
        duplicate: 0.03,
        risk_reject: 0.02,
    });
    let scans_before = orders_seq_scans(&p).await;
    let w = run.workload(&spec).await.unwrap().clone();
    let scans = orders_seq_scans(&p).await - scans_before;
    println!("sequential scans of orders during the workload: {scans}");
    assert_eq!(w.sent, OPERATIONS, "the schedule was cut: {w:?}");
    assert!(
        w.unexpected.is_empty(),
        "{} unexpected replies (seed {seed}), first: {:#?}",
        w.unexpected_count,
        w.unexpected
    );
    let orders = w.tally(Intent::Order);
    assert_eq!(
        orders.info, 0,
        "unknown outcomes on a healthy engine: {w:?}"
    );
    assert!(orders.ok > 8_500 && orders.fail == 0, "{orders:?}");
    let rejects = w.tally(Intent::RiskReject);
    assert!(
        rejects.sent > 100 && rejects.fail == rejects.sent,
        "{rejects:?}"
    );
    let dups = w.tally(Intent::Duplicate);
    assert!(dups.sent > 100 && dups.ok == dups.sent, "{dups:?}");

    // Before the engine's writers discouraged them, every return batch scanned `orders`
    // whole until autovacuum analyzed it: about 65 sequential scans a second at 1,000
    // orders/s (hundreds in this workload). Nothing of the engine's should scan it now; the
    // allowance covers statistics that a backend has not flushed yet being counted or not.
    assert!(
        scans <= 20,
        "{scans} sequential scans of orders while {} orders were taken (seed {seed}): a \
         writer's statement no longer finds its rows by key",
        orders.ok
    );

    let judged = run
        .finish(&check::safety("engine"), &LatencyCheck::default())
        .await
        .unwrap();
    println!("{}", judged.report.summary());
    assert_eq!(
        judged.verdict.outcome,
        Outcome::Valid,
        "seed {seed}, run dir {}:\n{}",
        judged.dir.display(),
        judged.verdict.explain()
    );
    let db = &judged.observations.db;
    assert!(
        db.orders.len() as u64 >= orders.ok,
        "{} rows",
        db.orders.len()
    );
    assert!(!db.trades.is_empty() && !judged.observations.kafka.trade_events.is_empty());
    assert!(judged.convergence.waited_ms < Duration::from_secs(60).as_millis() as u64);
    // The run's secrets (random per run: the PostgreSQL password, the admin token, the CTP
    // password and AuthCode) are in none of its files: history, report, JUnit.
    let endpoints = p.endpoints();
    let secrets = [
        (
            "the PostgreSQL password",
            endpoints.postgres.password.as_str(),
        ),
        ("the admin token", endpoints.mock_ctp.admin_token.as_str()),
        ("the CTP password", endpoints.mock_ctp.password.as_str()),
        ("the CTP AuthCode", endpoints.mock_ctp.auth_code.as_str()),
    ];
    // Nor is either in any container's log (the engine's DATABASE_URL holds the password).
    let mut places: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(&judged.dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            places.push((path.display().to_string(), text));
        }
    }
    let logs = p.logs().await.unwrap();
    assert!(
        logs.get("engine")
            .is_some_and(|l| l.contains("engine active")),
        "the engine's log was not read: {:?}",
        logs.keys()
    );
    for (role, text) in logs {
        places.push((format!("the {role} container's log"), text));
    }
    for (place, text) in &places {
        for (what, secret) in secrets {
            assert!(!secret.is_empty());
            assert!(!text.contains(secret), "{what} is written in {place}");
        }
    }
    // Every acknowledgement in the history names the version that gave it: the image's tag.
    let history = harness::history::load(&judged.dir.join("history.jsonl")).unwrap();
    let image = &p.images()[&harness::Service::Engine];
    let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap();
    let mut acks = 0;
    for o in &history.operations {
        if let harness::history::Outcome::Ok(r) = &o.outcome {
            acks += 1;
            assert_eq!(
                r.engine_version.as_deref(),
                Some(tag),
                "operation {:?}",
                o.id
            );
        }
    }
    assert!(acks > 0, "no acknowledgement in the history");
    // The report states the engine's security context, read inside its container.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(judged.dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["run"]["engine_security"]["uid"], 1000, "{report:#}");
    assert_eq!(report["run"]["engine_security"]["capabilities"], 0);
    assert_eq!(report["run"]["engine_security"]["read_only_root"], true);
    p.shutdown().await.unwrap();
}

/// How many sequential scans PostgreSQL has counted on `orders` (pg_stat_user_tables).
async fn orders_seq_scans(p: &harness::Platform) -> i64 {
    let (pg, conn) = tokio_postgres::connect(
        &p.endpoints().postgres.connection_string(false),
        tokio_postgres::NoTls,
    )
    .await
    .expect("connect to the platform's postgresql");
    tokio::spawn(conn);
    pg.query_one(
        "SELECT coalesce(seq_scan, 0) FROM pg_stat_user_tables WHERE relname = 'orders'",
        &[],
    )
    .await
    .expect("read pg_stat_user_tables")
    .get(0)
}
