//! Two datacenters against one, started alternately in the same run (a bench measures, the
//! perf gate decides): `start()` to all ready for the single-datacenter platform with its
//! engine and for the two-datacenter one with both engines (dc2's PostgreSQL streaming as
//! `sync` from dc1's across the line), median of `TWO_DC_BENCH_ROUNDS` (default 3) each, and
//! their ratio. Needs the images (`cargo run -p harness -- images build`).

use std::time::{Duration, Instant};

use harness::{Platform, Topology};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn list(samples: &[Duration]) -> String {
    samples
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn time_start(topology: Topology) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let platform = Platform::builder()
        .topology(topology)
        .readiness_timeout(Duration::from_secs(180))
        .start()
        .await?;
    let took = started.elapsed();
    platform.shutdown().await?;
    Ok(took)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::var("TWO_DC_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first, so that a slow phase of the machine hits both.
        if round % 2 == 0 {
            one.push(time_start(Topology::single_dc().with_engine()).await?);
            two.push(time_start(Topology::two_dc()).await?);
        } else {
            two.push(time_start(Topology::two_dc()).await?);
            one.push(time_start(Topology::single_dc().with_engine()).await?);
        }
        println!(
            "round {}: one datacenter {:.1} s, two {:.1} s",
            round + 1,
            one[round].as_secs_f64(),
            two[round].as_secs_f64()
        );
    }
    let (m1, m2) = (median(one.clone()), median(two.clone()));
    println!(
        "start() to all ready, one datacenter with its engine: median {:.1} s of [{}]",
        m1.as_secs_f64(),
        list(&one)
    );
    println!(
        "start() to all ready, two datacenters with both engines (sync): median {:.1} s of [{}]",
        m2.as_secs_f64(),
        list(&two)
    );
    println!(
        "ratio two / one: {:.2} (issue 12's aim: <= 2.00)",
        m2.as_secs_f64() / m1.as_secs_f64()
    );
    Ok(())
}
