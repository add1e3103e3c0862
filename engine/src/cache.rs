//! Positions cached in Redis (hash `positions:{account}`, field `{instrument}:{long|short}`,
//! value JSON) for readers that want them without PostgreSQL. Redis is only a cache: writes
//! go through a bounded queue that drops (and counts) when full, every command has a short
//! timeout, and a failure is logged and never reaches the order or return path.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::book::PosKey;
use crate::engine::Engine;

/// One cache write: hash key, field, value.
pub type CacheWrite = (String, String, String);

const TIMEOUT: Duration = Duration::from_millis(200);

/// Queues the current values of `keys`; never blocks.
pub fn positions(engine: &Engine, keys: &BTreeSet<PosKey>) {
    let writes: Vec<CacheWrite> = {
        let book = engine.book();
        keys.iter()
            .filter_map(|k| {
                let p = book.positions.get(k)?;
                Some((
                    format!("positions:{}", k.0),
                    format!("{}:{}", k.1, k.2.as_str()),
                    format!(
                        r#"{{"today":{},"yd":{},"margin":{:.2}}}"#,
                        p.today, p.yd, p.margin
                    ),
                ))
            })
            .collect()
    };
    for w in writes {
        if engine.cache_tx.try_send(w).is_err() {
            engine.metrics.cache_errors.fetch_add(1, Relaxed);
        }
    }
}

pub async fn run(engine: Arc<Engine>, mut rx: mpsc::Receiver<CacheWrite>) {
    let client = match redis::Client::open(engine.cfg.redis_url.as_str()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "redis url unusable; cache disabled");
            while rx.recv().await.is_some() {}
            return;
        }
    };
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    let mut next_try = Instant::now();
    while let Some((key, field, value)) = rx.recv().await {
        if conn.is_none() {
            if Instant::now() < next_try {
                engine.metrics.cache_errors.fetch_add(1, Relaxed);
                continue;
            }
            match tokio::time::timeout(TIMEOUT, client.get_multiplexed_async_connection()).await {
                Ok(Ok(c)) => conn = Some(c),
                other => {
                    tracing::warn!(?other, "redis unreachable; cache writes dropped for 1 s");
                    next_try = Instant::now() + Duration::from_secs(1);
                    engine.metrics.cache_errors.fetch_add(1, Relaxed);
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let cmd = redis::cmd("HSET")
            .arg(&key)
            .arg(&field)
            .arg(&value)
            .to_owned();
        match tokio::time::timeout(TIMEOUT, cmd.query_async::<i64>(c)).await {
            Ok(Ok(_)) => {}
            other => {
                tracing::warn!(?other, "redis write failed");
                engine.metrics.cache_errors.fetch_add(1, Relaxed);
                conn = None;
                next_try = Instant::now() + Duration::from_secs(1);
            }
        }
    }
}
