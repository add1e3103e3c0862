//! Exchange faults through the mock CTP front's admin API: what the front reports while the
//! fault is active, and after heal.

use std::time::Duration;

use anyhow::ensure;
use harness::fault::{Fault, Nemesis};
use harness::Platform;
use serde_json::Value;

async fn admin_get(platform: &Platform, path: &str) -> anyhow::Result<Value> {
    let mock = &platform.endpoints().mock_ctp;
    Ok(reqwest::Client::new()
        .get(format!("{}{path}", mock.admin))
        .bearer_auth(&mock.admin_token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

pub async fn delayed_returns_and_rejects_show_on_the_front_and_heal(
    platform: &Platform,
) -> anyhow::Result<()> {
    // The request limit is the topology's, raised for this firm, not the front's own default.
    let start = admin_get(platform, "/faults").await?;
    ensure!(
        start["orders_per_second"] == harness::platform::DEFAULT_CTP_ORDERS_PER_SECOND,
        "the front's request limit is not the topology's: {start}"
    );
    let mut nemesis = Nemesis::new(platform);
    let delay = nemesis.inject(&Fault::DelayReturns { ms: 250 }).await?;
    let reject = nemesis
        .inject(&Fault::RejectOrders {
            count: 3,
            error_id: 31,
            error_msg: None,
        })
        .await?;
    let during = admin_get(platform, "/faults").await?;
    nemesis.heal(reject).await?;
    nemesis.heal(delay).await?;
    let after = admin_get(platform, "/faults").await?;
    ensure!(during["delay_returns_ms"] == 250, "{during}");
    ensure!(during["reject_orders"]["remaining"] == 3, "{during}");
    ensure!(after["delay_returns_ms"] == 0, "{after}");
    ensure!(after["reject_orders"].is_null(), "{after}");
    Ok(())
}

/// The connection ids of the logged-in sessions (the engine's) at the front.
async fn sessions(platform: &Platform) -> anyhow::Result<Vec<u64>> {
    let all = admin_get(platform, "/sessions").await?;
    Ok(all
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["logged_in"] == true)
        .filter_map(|s| s["conn_id"].as_u64())
        .collect())
}

pub async fn front_disconnect_with_a_reason_closes_the_engine_session(
    platform: &Platform,
) -> anyhow::Result<()> {
    let before = sessions(platform).await?;
    ensure!(!before.is_empty(), "the engine has no session at the front");
    let mut nemesis = Nemesis::new(platform);
    let injected = nemesis
        .inject(&Fault::FrontDisconnect {
            reason: 0x2001,
            session_id: None,
        })
        .await?;
    nemesis.heal(injected).await?;
    // The engine reconnects and logs in again by itself (as with CTP's API): wait, bounded.
    let renewed = |after: &[u64]| !after.is_empty() && after.iter().all(|s| !before.contains(s));
    let mut after = Vec::new();
    for _ in 0..100 {
        after = sessions(platform).await?;
        if renewed(&after) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        renewed(&after),
        "the sessions did not change: before {before:?}, after {after:?}"
    );
    Ok(())
}
