//! A standby engine: it serves its probes and gRPC but takes no order (UNAVAILABLE) and is
//! not ready until `POST /admin/promote` with the admin token; promoted, it logs in at the
//! CTP front, becomes ready and takes orders.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use contract::trading::v1::Side;
use harness::platform::{EngineRole, EngineSpec};
use harness::{Platform, Topology};
use tonic::Code;

use crate::support::{cid, order, Env};

pub async fn refuses_until_promoted() -> Result<()> {
    let spec = EngineSpec {
        investor: crate::INVESTOR.into(),
        role: EngineRole::Standby,
        ..EngineSpec::default()
    };
    let platform = Platform::builder()
        .topology(Topology::single_dc().with_engine_spec(spec))
        .start()
        .await
        .context("the platform with a standby engine starts")?;
    let result = scenario(&platform).await;
    platform.shutdown().await?;
    result
}

async fn ready(env: &Env) -> Result<(reqwest::StatusCode, serde_json::Value)> {
    let r = env
        .http_client
        .get(format!("{}/ready", env.http))
        .send()
        .await?;
    Ok((r.status(), r.json().await?))
}

async fn scenario(platform: &Platform) -> Result<()> {
    let env = Env::new(platform).await?;
    let (code, body) = ready(&env).await?;
    ensure!(code == 503, "a standby answers /ready with {code}: {body}");
    ensure!(
        body["active"] == false,
        "a standby says it is active: {body}"
    );
    let refused = env
        .grpc
        .clone()
        .submit_order(order(&cid("standby"), Side::Buy, 1))
        .await;
    match refused {
        Ok(r) => bail!("a standby acknowledged {:?}", r.into_inner()),
        Err(s) => ensure!(
            s.code() == Code::Unavailable && s.message().contains("standby"),
            "a standby refused with {:?}: {}",
            s.code(),
            s.message()
        ),
    }
    // Refused without the token, with a wrong one, and with the right one in a query string
    // (a token in a URL ends up in logs and histories): only the Authorization header counts.
    let url = format!("{}/admin/promote", env.http);
    let attempts = [
        ("without the token", env.http_client.post(&url)),
        (
            "with a wrong token",
            env.http_client.post(&url).bearer_auth("not-the-token"),
        ),
        (
            "with the token in the query string",
            env.http_client
                .post(format!("{url}?token={0}&access_token={0}", env.admin_token)),
        ),
    ];
    for (how, request) in attempts {
        let status = request.send().await?.status();
        ensure!(status == 401, "promote {how} answered {status}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(
        ready(&env).await?.0 == 503,
        "ready after a refused promotion"
    );

    let promoted = env.admin("promote").await?;
    ensure!(promoted.is_success(), "promote answered {promoted}");
    let since = Instant::now();
    loop {
        let (code, body) = ready(&env).await?;
        if code == 200 {
            break;
        }
        if since.elapsed() > Duration::from_secs(30) {
            bail!("not ready 30 s after the promotion: {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let acked = env
        .grpc
        .clone()
        .submit_order(order(&cid("promoted"), Side::Buy, 1))
        .await
        .context("the promoted engine takes an order")?
        .into_inner();
    ensure!(!acked.duplicate && acked.order.is_some(), "{acked:?}");
    Ok(())
}
