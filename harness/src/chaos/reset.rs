//! The state reset between chaos cases on one platform, so that each case starts from the same
//! state as on fresh containers and replays by its seed: the engine is killed; PostgreSQL's
//! engine tables are emptied and seeded again from `fixtures/` (the contract's seed); the mock
//! CTP front goes back to a clean trading day (orders, trades, flows and its record); Redis,
//! a cache, is flushed; the engine is started again and waits until ready. Kafka keeps its
//! events: each run reads only those published after it began. A broker that no longer
//! answers (the case before wedged it) is restarted, with its storage kept, so that one
//! broken case does not spoil every case after it, and shrinking replays on a sound broker.
//!
//! Order ids are not reset (the sequence goes on), so no event of an earlier case shares a key
//! with one of the next.

use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

use super::error::ChaosError;
use crate::fault::{Fault, Nemesis};
use crate::platform::Platform;

/// The engine's tables, every row of which belongs to one trading day of one case.
const TABLES: &str =
    "orders, trades, positions, accounts, risk_limits, instruments, ctp_private_flow, outbox";

fn failed(step: &'static str) -> impl Fn(String) -> ChaosError {
    move |reason| ChaosError::Reset { step, reason }
}

/// Resets `platform` to its seeded state; returns how long it took.
pub async fn reset(platform: &Platform) -> Result<Duration, ChaosError> {
    let t0 = Instant::now();
    let endpoints = platform.endpoints();
    let mut nemesis = Nemesis::new(platform);
    let engine = match endpoints.engine {
        Some(_) => Some(
            nemesis
                .inject(&Fault::Kill {
                    service: "engine".into(),
                })
                .await?,
        ),
        None => None,
    };
    let result = async {
        let seed = contract::fixtures::seed_sql(&crate::workspace_root().join("fixtures"))
            .map_err(|e| failed("reading the seed")(e.to_string()))?;
        let pg = &endpoints.postgres;
        let (client, conn) = tokio_postgres::connect(&pg.connection_string(false), NoTls)
            .await
            .map_err(|e| failed("connecting to postgresql")(e.to_string()))?;
        tokio::spawn(conn);
        client
            .batch_execute(&format!(
                "{}\nTRUNCATE {TABLES};\n{seed}",
                contract::SCHEMA_SQL
            ))
            .await
            .map_err(|e| failed("emptying and seeding postgresql")(e.to_string()))?;
        let mock = &endpoints.mock_ctp;
        reqwest::Client::new()
            .post(format!("{}/reset", mock.admin))
            .bearer_auth(&mock.admin_token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| failed("resetting the mock ctp front")(e.to_string()))?;
        let redis = redis::Client::open(endpoints.redis_url(false))
            .map_err(|e| failed("connecting to redis")(e.to_string()))?;
        let mut c = redis
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| failed("connecting to redis")(e.to_string()))?;
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut c)
            .await
            .map_err(|e| failed("flushing redis")(e.to_string()))?;
        if let Err(e) = crate::observe::kafka_answers(&endpoints.kafka_bootstrap(false)).await {
            tracing::warn!(error = %crate::fault::chain(&e), "kafka does not answer after the last case: restarting it");
            let kill = Fault::Kill {
                service: "kafka".into(),
            };
            let handle = nemesis.inject(&kill).await?;
            nemesis.heal(handle).await?;
        }
        Ok::<(), ChaosError>(())
    }
    .await;
    // The engine starts again whatever happened above, so the platform is never left without it.
    let started = match engine {
        Some(handle) => nemesis.heal(handle).await.map_err(ChaosError::from),
        None => Ok(()),
    };
    result?;
    started?;
    Ok(t0.elapsed())
}
