//! Process faults: pause then resume, kill -9 then restart of PostgreSQL and of the engine;
//! the service is gone while the fault lasts and answers at the same address after heal.

use std::time::Duration;

use anyhow::ensure;
use harness::fault::{Fault, Nemesis};
use harness::Platform;

use super::redis_ping;

pub async fn pause_freezes_and_resume_answers(platform: &Platform) -> anyhow::Result<()> {
    let direct = platform.endpoints().redis.direct;
    let mut nemesis = Nemesis::new(platform);
    let injected = nemesis
        .inject(&Fault::Pause {
            service: "redis".into(),
        })
        .await?;
    let frozen = redis_ping(direct, Duration::from_secs(1)).await;
    nemesis.heal(injected).await?;
    ensure!(frozen.is_err(), "a paused redis answered");
    redis_ping(direct, Duration::from_secs(5)).await?;
    Ok(())
}

async fn postgres_answers(platform: &Platform) -> anyhow::Result<()> {
    let conn = platform.endpoints().postgres.connection_string(false);
    let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(connection);
    let one: i32 = client.query_one("SELECT 1::int4", &[]).await?.get(0);
    drop(client);
    let _ = task.await;
    ensure!(one == 1);
    Ok(())
}

pub async fn kill_9_postgres_then_restart_with_the_same_address(
    platform: &Platform,
) -> anyhow::Result<()> {
    postgres_answers(platform).await?;
    let mut nemesis = Nemesis::new(platform);
    let injected = nemesis
        .inject(&Fault::Kill {
            service: "postgres".into(),
        })
        .await?;
    let gone = tokio::time::timeout(Duration::from_secs(3), postgres_answers(platform)).await;
    let started = std::time::Instant::now();
    nemesis.heal(injected).await?;
    eprintln!("postgres back after kill -9 in {:?}", started.elapsed());
    ensure!(!matches!(gone, Ok(Ok(()))), "a killed postgres answered");
    // The endpoint holds the address from the start.
    postgres_answers(platform).await?;
    Ok(())
}

async fn engine_ready(platform: &Platform) -> anyhow::Result<()> {
    let engine = platform
        .endpoints()
        .engine
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no engine"))?;
    let answer = reqwest::Client::new()
        .get(format!("http://{}/ready", engine.http))
        .timeout(Duration::from_secs(2))
        .send()
        .await?;
    ensure!(
        answer.status().is_success(),
        "/ready answered {}",
        answer.status()
    );
    Ok(())
}

pub async fn kill_9_engine_then_restart_ready_with_the_same_address(
    platform: &Platform,
) -> anyhow::Result<()> {
    // The engine may still be reconnecting after the postgres case: wait for it, bounded.
    for _ in 0..100 {
        if engine_ready(platform).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    engine_ready(platform).await?;
    let mut nemesis = Nemesis::new(platform);
    let injected = nemesis
        .inject(&Fault::Kill {
            service: "engine".into(),
        })
        .await?;
    let gone = engine_ready(platform).await;
    let started = std::time::Instant::now();
    nemesis.heal(injected).await?;
    eprintln!("engine ready after kill -9 in {:?}", started.elapsed());
    ensure!(gone.is_err(), "a killed engine answered /ready");
    engine_ready(platform).await?;
    Ok(())
}
