//! Platform figures on this machine, printed (a bench measures, the perf gate decides):
//! cold and warm image build times, `start()` to all-ready (median of 5), shutdown time, and
//! each container's peak memory. Cold means no harness image present: set
//! `PLATFORM_BENCH_COLD=1` to remove them first (the tansu binary stays cached, so cold
//! measures the rootfs, the image builds and the workspace's release build check).

use std::time::{Duration, Instant};

use harness::images::{build_all, remove_built, BuildOptions};
use harness::Platform;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = BuildOptions::default();
    if std::env::var("PLATFORM_BENCH_COLD").as_deref() == Ok("1") {
        let removed = remove_built().await?;
        println!("removed {removed} harness images for a cold build");
        let started = Instant::now();
        let report = build_all(&options).await?;
        println!(
            "image build, cold: {} ({} built)",
            secs(started.elapsed()),
            report.built.len()
        );
    }
    let mut warm = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let report = build_all(&options).await?;
        assert!(
            report.built.is_empty(),
            "a warm build builds nothing, built {:?}",
            report.built
        );
        warm.push(started.elapsed());
    }
    println!(
        "image build, warm: median {} of {:?}",
        secs(median(warm.clone())),
        warm.iter().map(|d| secs(*d)).collect::<Vec<_>>()
    );

    let mut ready = Vec::new();
    let mut shutdown = Vec::new();
    for round in 0..5 {
        let started = Instant::now();
        let platform = Platform::builder().seed(round).start().await?;
        ready.push(started.elapsed());
        if round == 4 {
            exercise(&platform).await?;
            for (role, bytes) in platform.memory_peak_bytes().await? {
                println!(
                    "peak memory {role:<12} {:>7.1} MiB",
                    bytes as f64 / (1024.0 * 1024.0)
                );
            }
        }
        let started = Instant::now();
        platform.shutdown().await?;
        shutdown.push(started.elapsed());
    }
    println!(
        "start() to all ready: median {} of {:?}",
        secs(median(ready.clone())),
        ready.iter().map(|d| secs(*d)).collect::<Vec<_>>()
    );
    println!(
        "shutdown(): median {} of {:?}",
        secs(median(shutdown.clone())),
        shutdown.iter().map(|d| secs(*d)).collect::<Vec<_>>()
    );
    Ok(())
}

/// A little real traffic on each service before memory is read.
async fn exercise(platform: &Platform) -> anyhow::Result<()> {
    let endpoints = platform.endpoints();
    let (client, connection) = tokio_postgres::connect(
        &endpoints.postgres.connection_string(true),
        tokio_postgres::NoTls,
    )
    .await?;
    tokio::spawn(connection);
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS bench (id bigint PRIMARY KEY)")
        .await?;
    for id in 0..1000i64 {
        client
            .execute("INSERT INTO bench VALUES ($1)", &[&id])
            .await?;
    }
    let redis = redis::Client::open(endpoints.redis_url(true))?;
    let mut conn = redis.get_multiplexed_async_connection().await?;
    for i in 0..1000 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query_async(&mut conn)
            .await?;
    }
    Ok(())
}
