//! Faults on a link through the fault proxy, driven with an existing Toxiproxy client crate
//! (noxious-client, unchanged): latency delays by what it says, disabling cuts, reset_peer resets.

use std::time::{Duration, Instant};

use noxious_client::{Client, StreamDirection, Toxic, ToxicKind};

async fn ping_ms(conn: &mut redis::aio::MultiplexedConnection) -> redis::RedisResult<f64> {
    let started = Instant::now();
    let _: String = redis::cmd("PING").query_async(conn).await?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

async fn median_ping_ms(conn: &mut redis::aio::MultiplexedConnection) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..5 {
        samples.push(ping_ms(conn).await.expect("ping through the proxy"));
    }
    samples.sort_by(f64::total_cmp);
    samples[2]
}

fn latency(name: &str, ms: u32) -> Toxic {
    Toxic {
        name: name.into(),
        kind: ToxicKind::Latency {
            latency: ms.into(),
            jitter: 0,
        },
        direction: StreamDirection::Downstream,
        toxicity: 1.0,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_delays_the_link_and_removal_restores_it() {
    let platform = super::platform().await;
    let endpoints = platform.endpoints().clone();
    let redis = redis::Client::open(endpoints.redis_url(true)).unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    let before = median_ping_ms(&mut conn).await;
    assert!(
        before < 50.0,
        "a healthy link answers fast, not in {before:.1} ms"
    );

    let proxy = Client::new(&endpoints.faultproxy_api)
        .proxy("redis")
        .await
        .unwrap();
    proxy
        .add_toxic(&latency("slow", 150))
        .await
        .expect("add a latency toxic");
    let during = median_ping_ms(&mut conn).await;
    assert!(
        (140.0..400.0).contains(&during),
        "a 150 ms latency toxic gave {during:.1} ms"
    );

    proxy.remove_toxic("slow").await.expect("remove the toxic");
    let after = median_ping_ms(&mut conn).await;
    assert!(
        after < 50.0,
        "removing the toxic restores the link, not {after:.1} ms"
    );
    platform.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_cuts_the_link_and_enabling_restores_it() {
    let platform = super::platform().await;
    let endpoints = platform.endpoints().clone();
    let redis = redis::Client::open(endpoints.redis_url(true)).unwrap();
    let client = Client::new(&endpoints.faultproxy_api);
    let mut proxy = client.proxy("redis").await.unwrap();

    proxy.disable().await.expect("disable the link");
    let cut = tokio::time::timeout(
        Duration::from_secs(5),
        redis.get_multiplexed_async_connection(),
    )
    .await;
    assert!(
        !matches!(cut, Ok(Ok(_))),
        "a disabled link refuses connections"
    );
    let direct = redis::Client::open(endpoints.redis_url(false)).unwrap();
    let mut direct = direct
        .get_multiplexed_async_connection()
        .await
        .expect("the service itself is up");
    let _: String = redis::cmd("PING").query_async(&mut direct).await.unwrap();

    proxy.enable().await.expect("enable the link");
    let mut conn = redis
        .get_multiplexed_async_connection()
        .await
        .expect("an enabled link connects");
    assert!(ping_ms(&mut conn).await.is_ok());
    platform.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_peer_resets_the_connection() {
    let platform = super::platform().await;
    let endpoints = platform.endpoints().clone();
    // Neither noxious-client nor toxiproxy_rust knows reset_peer: post the Toxiproxy JSON as is.
    let url = format!("{}/proxies/postgres/toxics", endpoints.faultproxy_api);
    let body = serde_json::json!({"name": "reset", "type": "reset_peer", "stream": "upstream", "toxicity": 1.0, "attributes": {"timeout": 0}});
    let answer = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("the toxics API answers");
    assert!(
        answer.status().is_success(),
        "adding reset_peer: {}",
        answer.status()
    );
    let addr = endpoints.postgres.endpoint.proxied;
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the proxy accepts, then resets");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.write_all(&[0, 0, 0, 8, 4, 210, 22, 47]).await;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("no hang");
    let err = read.expect_err("a reset connection reads an error, not data or EOF");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "got {err}");
    platform.shutdown().await.unwrap();
}
