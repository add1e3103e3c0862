//! Engine latency at a fixed rate: order acknowledgement latency (client send → SubmitOrder
//! reply) at 1,000 orders/s, open loop, timed from each order's intended send time so a stall
//! counts against every order it delays (coordinated omission corrected), into an
//! HdrHistogram; then the engine's own `order_processing_latency_ns`,
//! `order_commit_latency_ns` (the PostgreSQL part), `tick_processing_latency_ns` and
//! `trade_return_latency_ns` (received → committed) with `trade_publish_latency_ns` (→ in
//! Kafka) from /metrics, and the mean group-commit batch. Measures and
//! prints; never asserts.
//!
//! Runs against a running engine: `ENGINE_BENCH_GRPC` (default 127.0.0.1:50051),
//! `ENGINE_BENCH_HTTP` (default 127.0.0.1:8080), `ENGINE_BENCH_ACCOUNT` (default 000003),
//! `ENGINE_BENCH_SECONDS` (default 10), `ENGINE_BENCH_CPUS` (the engine's cpuset), `ENGINE_BENCH_RATE` (orders/s). Without `ENGINE_BENCH_GRPC` it starts the platform
//! with the engine in containers itself and removes it at the end.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use contract::trading::v1::order_service_client::OrderServiceClient;
use contract::trading::v1::{Offset, Side, SubmitOrderRequest};
use harness::platform::EngineSpec;
use harness::{Platform, Topology};
use hdrhistogram::Histogram;

/// The default rate, from the issue: 1,000 orders/s (`ENGINE_BENCH_RATE` overrides it).
const RATE_PER_S: u64 = 1_000;

fn env(k: &str, d: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| d.to_owned())
}

/// A quantile of a Prometheus histogram (upper bound of the bucket holding it), in µs.
fn prom_quantile(text: &str, name: &str, q: f64) -> Option<f64> {
    let mut buckets = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(&format!("{name}_bucket{{le=\"")) else {
            continue;
        };
        let (le, count) = rest.split_once("\"} ")?;
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().ok()?
        };
        buckets.push((le, count.trim().parse::<f64>().ok()?));
    }
    let total = buckets.last()?.1;
    if total == 0.0 {
        return None;
    }
    buckets
        .iter()
        .find(|(_, c)| *c >= total * q)
        .map(|(le, _)| le / 1_000.0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let account = env("ENGINE_BENCH_ACCOUNT", "000003");
    // Without an engine address, start the platform with the engine in containers.
    let platform = match std::env::var("ENGINE_BENCH_GRPC") {
        Ok(_) => None,
        Err(_) => {
            let spec = EngineSpec {
                investor: account.clone(),
                cpus: std::env::var("ENGINE_BENCH_CPUS").ok(),
                ..EngineSpec::default()
            };
            let topology = Topology::single_dc().with_engine_spec(spec);
            Some(Platform::builder().topology(topology).start().await?)
        }
    };
    let engine = platform.as_ref().and_then(|p| p.endpoints().engine.clone());
    let grpc = match &engine {
        Some(e) => format!("http://{}", e.grpc),
        None => format!("http://{}", env("ENGINE_BENCH_GRPC", "127.0.0.1:50051")),
    };
    let http = match &engine {
        Some(e) => format!("http://{}", e.http),
        None => format!("http://{}", env("ENGINE_BENCH_HTTP", "127.0.0.1:8080")),
    };
    let seconds: u64 = env("ENGINE_BENCH_SECONDS", "10").parse()?;
    let client = OrderServiceClient::connect(grpc.clone())
        .await
        .context("connect to the engine")?;
    let run = Instant::now().elapsed().as_nanos() ^ std::process::id() as u128;
    let rate: u64 = env("ENGINE_BENCH_RATE", &RATE_PER_S.to_string()).parse()?;
    let n = rate * seconds;
    let start = Instant::now() + Duration::from_millis(100);
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let intended = start + interval * i as u32;
        tokio::time::sleep_until(intended.into()).await;
        let mut c = client.clone();
        let req = SubmitOrderRequest {
            client_order_id: format!("bench-{run:x}-{i}"),
            account_id: account.clone(),
            instrument_id: "rb2410".into(),
            side: if i % 2 == 0 { Side::Buy } else { Side::Sell } as i32,
            offset: Offset::Open as i32,
            limit_price: 3600.0,
            volume: 1,
        };
        tasks.push(tokio::spawn(async move {
            let r = c.submit_order(req).await;
            (intended.elapsed(), r.is_ok())
        }));
    }
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = 0;
    for t in tasks {
        let (d, ok) = t.await?;
        if ok {
            h.record(d.as_micros().max(1) as u64)?;
        } else {
            errors += 1;
        }
    }
    println!(
        "engine ack latency at {rate}/s for {seconds} s: n={} errors={errors} median={} µs p99={} µs p999={} µs max={} µs",
        h.len(),
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let text = reqwest::get(format!("{http}/metrics"))
        .await?
        .text()
        .await?;
    for name in [
        "order_processing_latency_ns",
        "order_commit_latency_ns",
        "tick_processing_latency_ns",
        "trade_return_latency_ns",
        "trade_publish_latency_ns",
    ] {
        println!(
            "engine {name} (bucket bounds, µs): p50<={:?} p99<={:?} p999<={:?}",
            prom_quantile(&text, name, 0.5),
            prom_quantile(&text, name, 0.99),
            prom_quantile(&text, name, 0.999)
        );
    }
    let counter = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    if let (Some(orders), Some(batches)) = (
        counter("orders_processed_total"),
        counter("order_commit_batches_total"),
    ) {
        println!(
            "engine group commits: {batches} for {orders} orders (mean batch {:.1})",
            orders / batches.max(1.0)
        );
    }
    if let Some(platform) = platform {
        platform.shutdown().await?;
    }
    Ok(())
}
