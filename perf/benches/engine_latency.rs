//! Engine latency at fixed rates, five rounds each: order acknowledgement latency (client
//! send → SubmitOrder reply), open loop, timed from each order's intended send time so a stall
//! counts against every order it delays (coordinated omission corrected), into an
//! HdrHistogram; then, from the difference of the engine's /metrics before and after the
//! round, where an order's time went (admission, queue behind the commit in progress, its
//! batch's commit, the reply), the PostgreSQL part of a group commit, the tick, the trade
//! return (received → committed) and its publication (applied → acknowledged by Kafka), the
//! mean group-commit batch, the outbox backlog sampled every 500 ms, and (when it started the
//! platform itself) each container's CPU time per 1,000 orders, the figure to compare two
//! engines by on a shared machine, where latency moves with the neighbours. Each round is
//! printed, then the median of the rounds with their range. Measures and prints; never
//! asserts.
//!
//! Runs against a running engine: `ENGINE_BENCH_GRPC` (default 127.0.0.1:50051),
//! `ENGINE_BENCH_HTTP` (default 127.0.0.1:8080), `ENGINE_BENCH_ACCOUNT` (default 000003);
//! `ENGINE_BENCH_SECONDS` per round (default 10), `ENGINE_BENCH_RATES` (orders/s, default
//! `1000,5000`), `ENGINE_BENCH_ROUNDS` (default 5), `ENGINE_BENCH_CPUS` (the engine's
//! cpuset). Without `ENGINE_BENCH_GRPC` it starts the platform with the engine in containers
//! itself (and samples the outbox backlog from its PostgreSQL) and removes it at the end.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use contract::trading::v1::order_service_client::OrderServiceClient;
use contract::trading::v1::{Offset, Side, SubmitOrderRequest};
use harness::platform::EngineSpec;
use harness::{Platform, Topology};
use hdrhistogram::Histogram;
use perf::prom::Snapshot;
use perf::stats::spread;
use tonic::transport::Channel;

/// The rates of the issue: the reference's 1,000 orders/s and five times it.
const RATES: &str = "1000,5000";

fn env(k: &str, d: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| d.to_owned())
}

/// The engine's histograms a round reports, with the short name it prints them under.
const STAGES: [(&str, &str); 9] = [
    ("engine", "order_processing_latency_ns"),
    ("admission", "order_admission_latency_ns"),
    ("queue", "order_queue_latency_ns"),
    ("batch", "order_batch_latency_ns"),
    ("reply", "order_reply_latency_ns"),
    ("pg_commit", "order_commit_latency_ns"),
    ("tick", "tick_processing_latency_ns"),
    ("return", "trade_return_latency_ns"),
    ("publish", "trade_publish_latency_ns"),
];

/// One round's figures, by name, in µs (or a count).
type Figures = BTreeMap<String, f64>;

struct Target {
    client: OrderServiceClient<Channel>,
    http: String,
    account: String,
    pg: Option<tokio_postgres::Client>,
}

async fn metrics(http: &str) -> Result<Snapshot> {
    let text = reqwest::get(format!("{http}/metrics"))
        .await?
        .text()
        .await?;
    Snapshot::parse(&text).map_err(anyhow::Error::msg)
}

/// Samples the outbox's unsent rows every [`BACKLOG_EVERY`] until `until`; the largest seen.
/// How often the outbox backlog is sampled. Each count walks the unsent rows' partial index
/// with its dead entries: 6.5 ms of PostgreSQL a sample at 1,000 orders/s (pg_stat_statements),
/// so sampling every 100 ms took 6 % of the core the engine's own commits compete for.
const BACKLOG_EVERY: Duration = Duration::from_millis(500);

async fn backlog(pg: &tokio_postgres::Client, until: Instant) -> f64 {
    let mut max = 0i64;
    while Instant::now() < until {
        if let Ok(row) = pg
            .query_one("SELECT count(*) FROM outbox WHERE sent_at IS NULL", &[])
            .await
        {
            max = max.max(row.get::<_, i64>(0));
        }
        tokio::time::sleep(BACKLOG_EVERY).await;
    }
    max as f64
}

/// One open-loop round at `rate` for `seconds`.
async fn round(
    t: &Target,
    platform: Option<&Platform>,
    tag: &str,
    rate: u64,
    seconds: u64,
) -> Result<Figures> {
    let before = metrics(&t.http).await?;
    let cpu_before = match platform {
        Some(p) => Some(p.cpu_used().await?),
        None => None,
    };
    let n = rate * seconds;
    let start = Instant::now() + Duration::from_millis(100);
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let sampler =
        t.pg.as_ref()
            .map(|pg| backlog(pg, start + Duration::from_secs(seconds + 1)));
    // The pacer is a thread of its own: tokio's timer wakes up to a millisecond late, and
    // since latency is timed from the intended send, that lateness would be charged to the
    // engine. A thread's sleep is late by tens of µs; the lag is measured and printed.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let pacer = std::thread::spawn(move || {
        for i in 0..n {
            let intended = start + interval * i as u32;
            if let Some(wait) = intended.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if tx.send((i, intended)).is_err() {
                return;
            }
        }
    });
    let drive = async {
        let mut tasks = Vec::with_capacity(n as usize);
        let mut lag = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
        while let Some((i, intended)) = rx.recv().await {
            let _ = lag.record(intended.elapsed().as_micros().max(1) as u64);
            let mut c = t.client.clone();
            let req = SubmitOrderRequest {
                client_order_id: format!("bench-{tag}-{i}"),
                account_id: t.account.clone(),
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
        (tasks, lag)
    };
    let ((tasks, lag), max_backlog) = match sampler {
        Some(s) => {
            let (t, b) = tokio::join!(drive, s);
            (t, Some(b))
        }
        None => (drive.await, None),
    };
    pacer
        .join()
        .map_err(|_| anyhow::anyhow!("the pacer panicked"))?;
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = 0u64;
    for task in tasks {
        let (d, ok) = task.await?;
        if ok {
            h.record(d.as_micros().max(1) as u64)?;
        } else {
            errors += 1;
        }
    }
    // Let the returns and the relay of the round's last orders finish.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = metrics(&t.http).await?.since(&before);
    let mut f = Figures::new();
    if let (Some(p), Some(cpu_before)) = (platform, cpu_before) {
        cpu_per_thousand(&mut f, &cpu_before, &p.cpu_used().await?, n);
    }
    f.insert("errors".into(), errors as f64);
    f.insert("ack_p50".into(), h.value_at_quantile(0.5) as f64);
    f.insert("ack_p99".into(), h.value_at_quantile(0.99) as f64);
    f.insert("ack_p999".into(), h.value_at_quantile(0.999) as f64);
    f.insert("ack_max".into(), h.max() as f64);
    f.insert("pacer_lag_p50".into(), lag.value_at_quantile(0.5) as f64);
    f.insert("pacer_lag_p99".into(), lag.value_at_quantile(0.99) as f64);
    for (short, name) in STAGES {
        for (q, qn) in [(0.5, "p50"), (0.99, "p99")] {
            if let Some(v) = r.quantile_us(name, q) {
                f.insert(format!("{short}_{qn}"), v);
            }
        }
    }
    if let (Some(orders), Some(batches)) = (
        r.counter("orders_processed_total"),
        r.counter("order_commit_batches_total"),
    ) {
        f.insert("mean_batch".into(), orders / batches.max(1.0));
    }
    if let Some(b) = max_backlog {
        f.insert("outbox_backlog_max".into(), b);
    }
    Ok(f)
}

/// Each container's CPU time in the round, in ms per 1,000 orders (`cpu_<role>`), and their
/// sum (`cpu_all`): what an order costs the machine, which the machine's other load moves far
/// less than it moves latency. The round's last second (returns and relay settling) is in it.
fn cpu_per_thousand(
    f: &mut Figures,
    before: &BTreeMap<String, Duration>,
    after: &BTreeMap<String, Duration>,
    orders: u64,
) {
    let per_k = |d: Duration| d.as_secs_f64() * 1e3 * 1000.0 / orders.max(1) as f64;
    let mut all = Duration::ZERO;
    for (role, a) in after {
        let used = a.saturating_sub(before.get(role).copied().unwrap_or_default());
        all += used;
        f.insert(format!("cpu_{role}"), per_k(used));
    }
    f.insert("cpu_all".into(), per_k(all));
}

fn line(f: &Figures) -> String {
    f.iter()
        .map(|(k, v)| format!("{k}={v:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
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
    let result = bench(platform.as_ref(), account).await;
    if let Some(platform) = platform {
        platform.shutdown().await?;
    }
    result
}

async fn bench(platform: Option<&Platform>, account: String) -> Result<()> {
    let engine = platform.and_then(|p| p.endpoints().engine.clone());
    let grpc = match &engine {
        Some(e) => format!("http://{}", e.grpc),
        None => format!("http://{}", env("ENGINE_BENCH_GRPC", "127.0.0.1:50051")),
    };
    let http = match &engine {
        Some(e) => format!("http://{}", e.http),
        None => format!("http://{}", env("ENGINE_BENCH_HTTP", "127.0.0.1:8080")),
    };
    let pg = match platform {
        Some(p) => {
            let conn = p.endpoints().postgres.connection_string(false);
            let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
                .await
                .context("connect to the platform's PostgreSQL")?;
            tokio::spawn(connection);
            Some(client)
        }
        None => None,
    };
    let client = OrderServiceClient::connect(grpc.clone())
        .await
        .context("connect to the engine")?;
    let target = Target {
        client,
        http,
        account,
        pg,
    };
    let seconds: u64 = env("ENGINE_BENCH_SECONDS", "10").parse()?;
    let rounds: u32 = env("ENGINE_BENCH_ROUNDS", "5").parse()?;
    let run = std::process::id();
    for rate in env("ENGINE_BENCH_RATES", RATES).split(',') {
        let rate: u64 = rate.trim().parse().context("ENGINE_BENCH_RATES")?;
        let mut all: Vec<Figures> = Vec::new();
        for r in 0..rounds {
            let tag = format!("{run:x}-{rate}-{r}");
            let f = round(&target, platform, &tag, rate, seconds).await?;
            println!("engine at {rate}/s round {}: {}", r + 1, line(&f));
            all.push(f);
        }
        println!("engine at {rate}/s for {seconds} s, median [min..max] of {rounds} rounds (µs unless named):");
        let names: std::collections::BTreeSet<&String> =
            all.iter().flat_map(|f| f.keys()).collect();
        for name in names {
            let values: Vec<f64> = all.iter().filter_map(|f| f.get(name).copied()).collect();
            if let Some(s) = spread(&values) {
                println!("  {name:<20} {s}");
            }
        }
    }
    Ok(())
}
