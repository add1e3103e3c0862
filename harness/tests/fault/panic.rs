//! Healing after a panic: a test body that injects faults and panics leaves the nemesis to
//! its drop fallback, which heals every active fault; no toxic stays on the proxy and no
//! container stays paused.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use anyhow::ensure;
use futures::FutureExt;
use harness::fault::{Fault, Nemesis, Stream};
use harness::Platform;

use super::{proxy_is_clean, redis_ping};

pub async fn heal_all_runs_after_a_panic_in_the_test_body(
    platform: &Platform,
) -> anyhow::Result<()> {
    let body = async {
        let mut nemesis = Nemesis::new(platform);
        let _slow = nemesis
            .inject(&Fault::Latency {
                link: "postgres".into(),
                stream: Stream::Upstream,
                latency_ms: 200,
                jitter_ms: 0,
            })
            .await
            .expect("latency");
        let _frozen = nemesis
            .inject(&Fault::Pause {
                service: "redis".into(),
            })
            .await
            .expect("pause");
        assert_eq!(nemesis.active().len(), 2);
        panic!("the test body fails with two faults active");
    };
    let outcome = AssertUnwindSafe(body).catch_unwind().await;
    ensure!(outcome.is_err(), "the body was meant to panic");
    proxy_is_clean(platform).await?;
    redis_ping(platform.endpoints().redis.direct, Duration::from_secs(2))
        .await
        .map_err(|e| anyhow::anyhow!("redis is still frozen: {e}"))?;
    Ok(())
}
