//! What the fault proxy costs a round trip when no toxic is set: every engine commit, cache
//! write and Kafka produce crosses it. An echo server on loopback is reached directly and
//! through a faultproxy (started in this process, one proxy, no toxic) in alternating rounds
//! of the same run, at fixed open-loop rates (1,000 and 10,000 round trips per second by
//! default), spread over one connection per 2,500 round trips/s (as the engine spreads its
//! traffic over several connections; one connection at 10,000/s would queue behind its own
//! previous round trip). Each round trip sends 128 bytes and reads them back; its time is
//! taken from its intended send, so a stall counts against every round trip it delays
//! (coordinated omission corrected). Prints each round, then per rate the median [range] over the rounds of each
//! path's median and P99, and of what the proxy adds (proxied minus direct, round by round).
//! Measures and prints; never asserts: the budget (<= 50 µs median, <= 200 µs P99 added) is
//! read from these figures and held by the perf gate.
//!
//! `PROXY_BENCH_RATES` (round trips/s, default `1000,10000`), `PROXY_BENCH_ROUNDS` (default 5),
//! `PROXY_BENCH_SECONDS` per round and path (default 3).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use perf::stats::spread;

const PAYLOAD: usize = 128;
/// Round trips per second one connection carries.
const PER_CONNECTION: u64 = 2_500;

fn env(k: &str, d: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| d.to_owned())
}

/// An echo server on loopback: one thread per connection, writes back what it reads.
fn echo_server() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let _ = conn.set_nodelay(true);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Ok(addr)
}

/// Round trips at `rate` per second for `seconds` to `addr`, over one connection (and thread)
/// per [`PER_CONNECTION`] round trips/s, their schedules interleaved; latency in ns from each
/// round trip's intended send to its whole echo read back.
fn round(addr: SocketAddr, rate: u64, seconds: u64) -> Result<Histogram<u64>> {
    let conns = rate.div_ceil(PER_CONNECTION).max(1);
    let start = Instant::now() + Duration::from_millis(50);
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let offset = Duration::from_nanos(1_000_000_000 / rate.max(1) * c);
            std::thread::spawn(move || one_connection(addr, rate / conns, seconds, start + offset))
        })
        .collect();
    let mut h = Histogram::<u64>::new_with_bounds(1_000, 10_000_000_000, 3)?;
    for t in threads {
        let part = t
            .join()
            .map_err(|_| anyhow::anyhow!("a connection's thread panicked"))??;
        h.add(part)?;
    }
    Ok(h)
}

/// One connection's share: round trips at `rate` per second from `start`.
fn one_connection(
    addr: SocketAddr,
    rate: u64,
    seconds: u64,
    start: Instant,
) -> Result<Histogram<u64>> {
    let mut conn = TcpStream::connect(addr).with_context(|| format!("connect to {addr}"))?;
    conn.set_nodelay(true)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let out = [7u8; PAYLOAD];
    let mut back = [0u8; PAYLOAD];
    // Warm the path (the proxy's upstream connection, both ends' buffers).
    for _ in 0..100 {
        conn.write_all(&out)?;
        conn.read_exact(&mut back)?;
    }
    let mut h = Histogram::<u64>::new_with_bounds(1_000, 10_000_000_000, 3)?;
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let n = rate * seconds;
    for i in 0..n {
        let intended = start + interval * i as u32;
        // Sleep until shortly before the send, then spin: a thread's sleep wakes tens of µs
        // late, as much as the figure measured here.
        loop {
            let now = Instant::now();
            if now >= intended {
                break;
            }
            let left = intended - now;
            if left > Duration::from_micros(200) {
                std::thread::sleep(left - Duration::from_micros(150));
            } else {
                std::hint::spin_loop();
            }
        }
        conn.write_all(&out)?;
        conn.read_exact(&mut back)?;
        h.record(intended.elapsed().as_nanos().max(1_000) as u64)?;
    }
    Ok(h)
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

fn main() -> Result<()> {
    let rates = env("PROXY_BENCH_RATES", "1000,10000");
    let rounds: u32 = env("PROXY_BENCH_ROUNDS", "5").parse()?;
    let seconds: u64 = env("PROXY_BENCH_SECONDS", "3").parse()?;
    let echo = echo_server()?;
    let rt = tokio::runtime::Runtime::new()?;
    let server = rt.block_on(faultproxy::Server::bind("127.0.0.1:0".parse()?, 1))?;
    let proxies = rt.block_on(server.populate(vec![faultproxy::ProxyConfig {
        name: "echo".into(),
        listen: "127.0.0.1:0".into(),
        upstream: echo.to_string(),
        enabled: true,
    }]))?;
    let proxied: SocketAddr = proxies[0].listen.parse()?;
    for rate in rates.split(',') {
        let rate: u64 = rate.trim().parse().context("PROXY_BENCH_RATES")?;
        let mut figures: Vec<[f64; 6]> = Vec::new();
        for r in 0..rounds {
            // Alternate which path goes first, so neither always meets a warmer machine.
            let (d, p) = if r % 2 == 0 {
                let d = round(echo, rate, seconds)?;
                (d, round(proxied, rate, seconds)?)
            } else {
                let p = round(proxied, rate, seconds)?;
                (round(echo, rate, seconds)?, p)
            };
            let f = [
                us(d.value_at_quantile(0.5)),
                us(d.value_at_quantile(0.99)),
                us(p.value_at_quantile(0.5)),
                us(p.value_at_quantile(0.99)),
                us(p.value_at_quantile(0.5)) - us(d.value_at_quantile(0.5)),
                us(p.value_at_quantile(0.99)) - us(d.value_at_quantile(0.99)),
            ];
            println!(
                "proxy at {rate}/s round {}: direct p50={:.1} p99={:.1} proxied p50={:.1} p99={:.1} added p50={:.1} p99={:.1} (µs)",
                r + 1,
                f[0],
                f[1],
                f[2],
                f[3],
                f[4],
                f[5]
            );
            figures.push(f);
        }
        println!(
            "proxy at {rate}/s, {rounds} rounds of {seconds} s per path, median [min..max] (µs):"
        );
        let names = [
            "direct_p50",
            "direct_p99",
            "proxied_p50",
            "proxied_p99",
            "added_p50",
            "added_p99",
        ];
        for (i, name) in names.iter().enumerate() {
            let values: Vec<f64> = figures.iter().map(|f| f[i]).collect();
            if let Some(s) = spread(&values) {
                println!("  {name:<12} {:.1} [{:.1}..{:.1}]", s.median, s.min, s.max);
            }
        }
    }
    rt.block_on(server.shutdown());
    Ok(())
}
