//! Driven by `noxious-client` 1.x, unchanged. Its `populate` expects a bare array where
//! Toxiproxy 2.x (and this server) answer `{"proxies": [...]}`, so it is not used here; the
//! raw API test covers populate. It has no reset_peer kind either.

use noxious_client::{Client, StreamDirection, Toxic, ToxicKind};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::common::{ms, read_to_end_within, round_trip, start};

fn toxic(name: &str, kind: ToxicKind) -> Toxic {
    Toxic {
        kind,
        name: name.to_owned(),
        toxicity: 1.0,
        direction: StreamDirection::Downstream,
    }
}

async fn proxy_addr(client: &Client, name: &str) -> String {
    client
        .proxy(name)
        .await
        .expect("proxy exists")
        .config
        .listen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_slows_an_existing_connection_and_removal_restores_it() -> anyhow::Result<()> {
    let (server, echo) = start(1).await;
    let client = Client::new(&server.url());
    let proxy = client
        .create_proxy("pg", "127.0.0.1:0", &echo.to_string())
        .await?;
    let listen = proxy_addr(&client, "pg").await;
    assert_ne!(listen, "127.0.0.1:0", "the bound port is reported");
    let mut conn = TcpStream::connect(&listen).await?;
    let before = round_trip(&mut conn, b"ping").await?;
    assert!(ms(before) < 50, "baseline {before:?}");

    let added = proxy
        .add_toxic(&toxic(
            "slow",
            ToxicKind::Latency {
                latency: 100,
                jitter: 0,
            },
        ))
        .await?;
    assert_eq!(added.name, "slow");
    let slowed = round_trip(&mut conn, b"ping").await?;
    assert!(
        (95..300).contains(&ms(slowed)),
        "with 100 ms latency {slowed:?}"
    );
    assert_eq!(proxy.toxics().await?.len(), 1);

    let updated = proxy
        .update_toxic(
            "slow",
            1.0,
            ToxicKind::Latency {
                latency: 250,
                jitter: 0,
            },
            StreamDirection::Downstream,
        )
        .await?;
    assert_eq!(
        updated.kind,
        ToxicKind::Latency {
            latency: 250,
            jitter: 0
        }
    );
    let slower = round_trip(&mut conn, b"ping").await?;
    assert!(
        (245..450).contains(&ms(slower)),
        "with 250 ms latency {slower:?}"
    );

    proxy.remove_toxic("slow").await?;
    let after = round_trip(&mut conn, b"ping").await?;
    assert!(ms(after) < 50, "after removal {after:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_refuses_and_closes_and_enable_listens_again() -> anyhow::Result<()> {
    let (server, echo) = start(2).await;
    let client = Client::new(&server.url());
    let mut proxy = client
        .create_proxy("redis", "127.0.0.1:0", &echo.to_string())
        .await?;
    let listen = proxy_addr(&client, "redis").await;
    let mut open = TcpStream::connect(&listen).await?;
    round_trip(&mut open, b"x").await?;

    proxy.disable().await?;
    assert!(!client.proxy("redis").await?.is_enabled());
    assert!(
        TcpStream::connect(&listen).await.is_err(),
        "disabled proxy accepts"
    );
    let (_, ended) = read_to_end_within(&mut open, Duration::from_secs(2)).await;
    assert!(ended, "existing connection survived disable");

    proxy.enable().await?;
    assert_eq!(
        proxy_addr(&client, "redis").await,
        listen,
        "same address after enable"
    );
    let mut again = TcpStream::connect(&listen).await?;
    round_trip(&mut again, b"back").await?;

    proxy.delete().await?;
    assert!(client.proxy("redis").await.is_err());
    assert!(TcpStream::connect(&listen).await.is_err());
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_data_closes_after_n_bytes() -> anyhow::Result<()> {
    let (server, echo) = start(3).await;
    let client = Client::new(&server.url());
    let proxy = client
        .create_proxy("kafka", "127.0.0.1:0", &echo.to_string())
        .await?;
    proxy
        .add_toxic(&toxic("cut", ToxicKind::LimitData { bytes: 10 }))
        .await?;
    let mut conn = TcpStream::connect(proxy_addr(&client, "kafka").await).await?;
    conn.write_all(&[7u8; 100]).await?;
    let (got, ended) = read_to_end_within(&mut conn, Duration::from_secs(2)).await;
    assert!(ended, "connection not closed");
    assert_eq!(got.len(), 10);
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_blackholes_then_closes() -> anyhow::Result<()> {
    let (server, echo) = start(4).await;
    let client = Client::new(&server.url());
    let proxy = client
        .create_proxy("md", "127.0.0.1:0", &echo.to_string())
        .await?;
    let listen = proxy_addr(&client, "md").await;

    proxy
        .add_toxic(&toxic("hole", ToxicKind::Timeout { timeout: 0 }))
        .await?;
    let mut conn = TcpStream::connect(&listen).await?;
    conn.write_all(b"lost").await?;
    let (got, ended) = read_to_end_within(&mut conn, Duration::from_millis(300)).await;
    assert!(
        got.is_empty() && !ended,
        "timeout 0 let {got:?} through (ended: {ended})"
    );
    proxy.remove_toxic("hole").await?;
    round_trip(&mut conn, b"flows again").await?;

    proxy
        .add_toxic(&toxic("close", ToxicKind::Timeout { timeout: 200 }))
        .await?;
    let started = std::time::Instant::now();
    let (got, ended) = read_to_end_within(&mut conn, Duration::from_secs(2)).await;
    assert!(got.is_empty() && ended, "timeout 200 did not close");
    assert!(
        (150..1000).contains(&ms(started.elapsed())),
        "closed after {:?}",
        started.elapsed()
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_throttles() -> anyhow::Result<()> {
    let (server, echo) = start(5).await;
    let client = Client::new(&server.url());
    let proxy = client
        .create_proxy("front", "127.0.0.1:0", &echo.to_string())
        .await?;
    let mut conn = TcpStream::connect(proxy_addr(&client, "front").await).await?;
    let payload = vec![1u8; 50_000];
    let fast = round_trip(&mut conn, &payload).await?;
    assert!(ms(fast) < 200, "unthrottled 50 kB took {fast:?}");
    proxy
        .add_toxic(&toxic("thin", ToxicKind::Bandwidth { rate: 100 }))
        .await?;
    let slow = round_trip(&mut conn, &payload).await?;
    assert!(
        (450..1500).contains(&ms(slow)),
        "50 kB at 100 KB/s took {slow:?}"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_state_clears_toxics_and_enables() -> anyhow::Result<()> {
    let (server, echo) = start(6).await;
    let client = Client::new(&server.url());
    let mut proxy = client
        .create_proxy("a", "127.0.0.1:0", &echo.to_string())
        .await?;
    proxy
        .add_toxic(&toxic(
            "slow",
            ToxicKind::Latency {
                latency: 500,
                jitter: 0,
            },
        ))
        .await?;
    proxy.disable().await?;
    client.reset_state().await?;
    let after = client.proxy("a").await?;
    assert!(after.is_enabled());
    assert!(after.toxics().await?.is_empty());
    let mut conn = TcpStream::connect(&after.config.listen).await?;
    assert!(ms(round_trip(&mut conn, b"x").await?) < 50);
    assert_eq!(client.proxies().await?.len(), 1);
    server.shutdown().await;
    Ok(())
}
