//! Partition: the service is unreachable while partitioned and comes back at the same
//! address.

use std::time::Duration;

use anyhow::ensure;
use harness::fault::{Fault, Nemesis};
use harness::Platform;

use super::redis_ping;

pub async fn partition_cuts_the_service_and_heal_keeps_its_address(
    platform: &Platform,
) -> anyhow::Result<()> {
    let direct = platform.endpoints().redis.direct;
    let proxied = platform.endpoints().redis.proxied;
    redis_ping(direct, Duration::from_secs(2)).await?;
    let mut nemesis = Nemesis::new(platform);
    let injected = nemesis
        .inject(&Fault::Partition {
            service: "redis".into(),
        })
        .await?;
    let cut_direct = redis_ping(direct, Duration::from_secs(2)).await;
    let cut_proxied = redis_ping(proxied, Duration::from_secs(2)).await;
    nemesis.heal(injected).await?;
    ensure!(
        cut_direct.is_err(),
        "redis answered directly while partitioned"
    );
    ensure!(
        cut_proxied.is_err(),
        "redis answered through its link while partitioned"
    );
    // The endpoints hold the address from the start: answering there is the same address.
    redis_ping(direct, Duration::from_secs(5)).await?;
    redis_ping(proxied, Duration::from_secs(5)).await?;
    Ok(())
}
