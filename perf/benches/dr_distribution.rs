//! The DR meters' distribution over repeated drills (issue 15's ground truth: asynchronous
//! replication behind a slow line loses acknowledged orders in every run, synchronous in none):
//! the slow-line-loss drill `DR_BENCH_RUNS` times (default 5) per replication mode, seeds 1..=N,
//! each on a fresh two-datacenter platform. Prints per run the WAL on its way to dc2 at the loss
//! (the hazard, read on dc1 the moment before), the RPO (orders and window) and the RTO per tier,
//! then each measure's median, minimum and maximum. A bench measures; the features judge. Needs
//! the images (`cargo run -p harness -- images build`).

use harness::dr::{run_drill, Drill, DrillOptions, DrillResult};
use harness::fault::WAL_NOT_ON_STANDBY;
use harness::platform::Replication;

struct Row {
    wal_bytes: Option<f64>,
    lost: f64,
    window_ms: Option<f64>,
    tier1_ms: Option<f64>,
    tier2_ms: Option<f64>,
}

fn row_of(d: &DrillResult) -> Row {
    Row {
        wal_bytes: d
            .loss_hazard(WAL_NOT_ON_STANDBY)
            .map(|m| m.hazard.size as f64),
        lost: d.rpo.lost_at_promotion.len() as f64,
        window_ms: d.rpo.window_ms,
        tier1_ms: d.rto.tier1_ms,
        tier2_ms: d.rto.tier2_ms,
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.0}"))
}

/// Median, minimum and maximum of the measured values, and how many runs had none.
fn spread(name: &str, values: impl Iterator<Item = Option<f64>>) -> String {
    let all: Vec<Option<f64>> = values.collect();
    let mut v: Vec<f64> = all.iter().flatten().copied().collect();
    if v.is_empty() {
        return format!("{name}: not measured in {} runs", all.len());
    }
    v.sort_by(f64::total_cmp);
    format!(
        "{name}: median {:.0}, min {:.0}, max {:.0} ({} of {} runs measured)",
        v[v.len() / 2],
        v[0],
        v[v.len() - 1],
        v.len(),
        all.len()
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: u64 = std::env::var("DR_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let root = harness::workspace_root().join("target/harness/runs");
    for replication in [Replication::Async, Replication::Sync] {
        let mut rows = Vec::new();
        for seed in 1..=runs {
            let opts = DrillOptions {
                replication,
                seed,
                ..DrillOptions::default()
            };
            let dir = root.join(format!("bench-dr-{replication}-{seed}"));
            let d = run_drill(Drill::SlowLineLoss, &opts, &dir).await?;
            let r = row_of(&d);
            println!(
                "{replication} seed {seed}: {:?}; WAL at risk {} bytes; lost {} orders (window {} ms); RTO tier 1 {} ms, tier 2 {} ms; run dir {}",
                d.outcome,
                fmt(r.wal_bytes),
                r.lost,
                fmt(r.window_ms),
                fmt(r.tier1_ms),
                fmt(r.tier2_ms),
                d.run_dir.display()
            );
            rows.push(r);
        }
        println!("{replication}, {runs} runs:");
        println!(
            "  {}",
            spread("WAL at risk (bytes)", rows.iter().map(|r| r.wal_bytes))
        );
        println!(
            "  {}",
            spread("orders lost", rows.iter().map(|r| Some(r.lost)))
        );
        println!(
            "  {}",
            spread("RPO window (ms)", rows.iter().map(|r| r.window_ms))
        );
        println!(
            "  {}",
            spread("RTO tier 1 (ms)", rows.iter().map(|r| r.tier1_ms))
        );
        println!(
            "  {}",
            spread("RTO tier 2 (ms)", rows.iter().map(|r| r.tier2_ms))
        );
    }
    Ok(())
}
