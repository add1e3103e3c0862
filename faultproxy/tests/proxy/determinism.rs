//! The seed decides: with toxicity 0.5, which of a sequence of connections gets the latency
//! is the same for two servers with the same seed, and differs across seeds.

use serde_json::json;
use tokio::net::TcpStream;

use crate::common::{ms, round_trip, start};

/// For each of `n` connections opened one after another: was it slowed?
async fn slowed_pattern(seed: u64, n: usize) -> anyhow::Result<Vec<bool>> {
    let (server, echo) = start(seed).await;
    let http = reqwest::Client::new();
    let base = server.url();
    let proxy: serde_json::Value = http
        .post(format!("{base}/proxies"))
        .json(&json!({"name": "d", "listen": "127.0.0.1:0", "upstream": echo.to_string()}))
        .send()
        .await?
        .json()
        .await?;
    let toxic = json!({"type": "latency", "toxicity": 0.5, "attributes": {"latency": 60}});
    http.post(format!("{base}/proxies/d/toxics"))
        .json(&toxic)
        .send()
        .await?
        .error_for_status()?;
    let listen = proxy["listen"].as_str().unwrap_or_default().to_owned();
    let mut pattern = Vec::with_capacity(n);
    for _ in 0..n {
        let mut conn = TcpStream::connect(&listen).await?;
        pattern.push(ms(round_trip(&mut conn, b"?").await?) >= 40);
    }
    server.shutdown().await;
    Ok(pattern)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_choices() -> anyhow::Result<()> {
    let first = slowed_pattern(7, 12).await?;
    assert_eq!(first, slowed_pattern(7, 12).await?);
    assert!(
        first.contains(&true) && first.contains(&false),
        "toxicity 0.5 gave {first:?}"
    );
    let others = [slowed_pattern(8, 12).await?, slowed_pattern(9, 12).await?];
    assert!(
        others.iter().any(|p| *p != first),
        "other seeds gave the same choices"
    );
    Ok(())
}
