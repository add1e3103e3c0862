//! Network faults on the fault proxy's links, each measured from the harness through the link
//! the engine uses: latency, reset_peer, down, limit_data, timeout, bandwidth and slicer, and a
//! composition of two.

use std::time::Duration;

use anyhow::ensure;
use harness::fault::{Fault, Nemesis, Stream, ToxiproxyClient};
use harness::Platform;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{median_ping, redis_ping};

pub async fn latency_raises_the_round_trip_and_heal_restores_it(
    platform: &Platform,
) -> anyhow::Result<()> {
    let addr = platform.endpoints().redis.proxied;
    let before = median_ping(addr).await?;
    let mut nemesis = Nemesis::new(platform);
    let fault = Fault::Latency {
        link: "redis".into(),
        stream: Stream::Downstream,
        latency_ms: 120,
        jitter_ms: 10,
    };
    let injected = nemesis.inject(&fault).await?;
    let during = median_ping(addr).await?;
    nemesis.heal(injected).await?;
    let after = median_ping(addr).await?;
    eprintln!("redis PING median: before {before:?}, during {during:?}, after {after:?}");
    ensure!(
        during >= Duration::from_millis(100) && during < Duration::from_millis(1000),
        "a 120±10 ms latency gave {during:?}"
    );
    ensure!(
        after < Duration::from_millis(60),
        "healed link still slow: {after:?}"
    );
    Ok(())
}

pub async fn reset_peer_resets_connections(platform: &Platform) -> anyhow::Result<()> {
    let mut nemesis = Nemesis::new(platform);
    let fault = Fault::ResetPeer {
        link: "postgres".into(),
        stream: Stream::Upstream,
        timeout_ms: 0,
    };
    let injected = nemesis.inject(&fault).await?;
    let mut stream = TcpStream::connect(platform.endpoints().postgres.endpoint.proxied).await?;
    let _ = stream.write_all(&[0, 0, 0, 8, 4, 210, 22, 47]).await;
    let mut buf = [0u8; 8];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await?;
    nemesis.heal(injected).await?;
    let err = read.expect_err("a reset, not data or EOF");
    ensure!(
        err.kind() == std::io::ErrorKind::ConnectionReset,
        "got {err}"
    );
    Ok(())
}

pub async fn down_refuses_and_heal_reopens(platform: &Platform) -> anyhow::Result<()> {
    let addr = platform.endpoints().redis.proxied;
    let mut nemesis = Nemesis::new(platform);
    let injected = nemesis
        .inject(&Fault::Down {
            link: "redis".into(),
        })
        .await?;
    let refused = TcpStream::connect(addr).await;
    nemesis.heal(injected).await?;
    let err = refused
        .err()
        .ok_or_else(|| anyhow::anyhow!("a down link accepted a connection"))?;
    ensure!(
        err.kind() == std::io::ErrorKind::ConnectionRefused,
        "got {err}"
    );
    redis_ping(addr, Duration::from_secs(5)).await?;
    Ok(())
}

pub async fn limit_data_closes_after_the_limit(platform: &Platform) -> anyhow::Result<()> {
    let addr = platform.endpoints().redis.proxied;
    let mut nemesis = Nemesis::new(platform);
    let injected = nemesis
        .inject(&Fault::LimitData {
            link: "redis".into(),
            stream: Stream::Downstream,
            bytes: 70,
        })
        .await?;
    // Each PONG is 7 bytes: ten pass, the connection closes at the limit.
    let mut stream = TcpStream::connect(addr).await?;
    let mut received = 0usize;
    let mut closed = false;
    for _ in 0..50 {
        if stream.write_all(b"PING\r\n").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 64];
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await? {
            Ok(0) | Err(_) => {
                closed = true;
                break;
            }
            Ok(n) => received += n,
        }
    }
    nemesis.heal(injected).await?;
    ensure!(closed, "the connection stayed open after {received} bytes");
    ensure!(
        (63..=70).contains(&received),
        "closed after {received} bytes, not at 70"
    );
    redis_ping(addr, Duration::from_secs(5)).await?;
    Ok(())
}

pub async fn timeout_blackholes_the_link(platform: &Platform) -> anyhow::Result<()> {
    let addr = platform.endpoints().redis.proxied;
    let mut nemesis = Nemesis::new(platform);
    let injected = nemesis
        .inject(&Fault::Timeout {
            link: "redis".into(),
            stream: Stream::Upstream,
            timeout_ms: 0,
        })
        .await?;
    let during = redis_ping(addr, Duration::from_millis(1500)).await;
    nemesis.heal(injected).await?;
    ensure!(during.is_err(), "a black-holed link answered in {during:?}");
    redis_ping(addr, Duration::from_secs(5)).await?;
    Ok(())
}

pub async fn bandwidth_slicer_and_a_composition_inject_and_heal(
    platform: &Platform,
) -> anyhow::Result<()> {
    let mut nemesis = Nemesis::new(platform);
    let fault = Fault::All {
        faults: vec![
            Fault::Bandwidth {
                link: "kafka".into(),
                stream: Stream::Downstream,
                rate_kb_s: 64,
            },
            Fault::Slicer {
                link: "ctp-trade".into(),
                stream: Stream::Downstream,
                average_size: 16,
                size_variation: 4,
                delay_us: 200,
            },
            Fault::Noop,
        ],
        stagger_ms: 0,
    };
    let injected = nemesis.inject(&fault).await?;
    let proxies = ToxiproxyClient::new(&platform.endpoints().faultproxy_api)
        .proxies()
        .await?;
    let kinds = |link: &str| -> Vec<String> {
        proxies[link]
            .toxics
            .iter()
            .map(|t| t.kind.clone())
            .collect()
    };
    ensure!(kinds("kafka") == ["bandwidth"], "{:?}", kinds("kafka"));
    ensure!(kinds("ctp-trade") == ["slicer"], "{:?}", kinds("ctp-trade"));
    nemesis.heal(injected).await?;
    Ok(())
}
