//! The engine's start and stop: a malformed environment stops it at start naming the
//! variable; a graceful shutdown asked for while orders stream in stops taking orders
//! (UNAVAILABLE), lets in-flight ones commit, waits for the exchange's confirmations and
//! flushes the outbox, all within the 30 s a pod gets, and every acknowledged order is then
//! committed in PostgreSQL and at the exchange exactly once.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use contract::trading::v1::Side;
use harness::platform::EngineSpec;
use harness::{Error, Platform, Service, Topology};
use tonic::Code;

use crate::support::{cid, order, Env};

/// The operations documents give a pod 30 s from SIGTERM to exit.
const SHUTDOWN_BUDGET: Duration = Duration::from_secs(30);
const LOAD_PER_S: u64 = 200;
/// Orders sent before the shutdown is asked for; the load goes on until refused.
const LOAD_BEFORE: Duration = Duration::from_secs(2);
const LOAD_MAX: Duration = Duration::from_secs(8);
/// Each submission's deadline, as a real client has one.
const CLIENT_DEADLINE: Duration = Duration::from_secs(10);

pub async fn graceful_shutdown_under_load_drains_and_keeps_every_ack(env: &Env) -> Result<()> {
    let started = Instant::now();
    let interval = Duration::from_nanos(1_000_000_000 / LOAD_PER_S);
    let mut sends = Vec::new();
    let mut asked_at = None;
    let mut down = None;
    for i in 0..(LOAD_MAX.as_nanos() / interval.as_nanos()) as u32 {
        let at = started + interval * i;
        tokio::time::sleep_until(at.into()).await;
        if asked_at.is_none() && started.elapsed() >= LOAD_BEFORE {
            let code = env.admin("graceful-shutdown").await?;
            ensure!(code.is_success(), "graceful-shutdown answered {code}");
            let at = Instant::now();
            asked_at = Some(at);
            down = Some(tokio::spawn(wait_until_down(env.http.clone(), at)));
        }
        // Buy and sell open alternate so that neither position reaches the 500 lot limit.
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let mut c = env.grpc.clone();
        let req = order(&cid("drain"), side, 1);
        let after_ask = asked_at.is_some();
        // A client has a deadline: one sent after the engine exited reaches nobody.
        sends.push((
            after_ask,
            tokio::spawn(async move {
                tokio::time::timeout(CLIENT_DEADLINE, c.submit_order(req)).await
            }),
        ));
        if asked_at.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            break;
        }
    }
    let mut acked = Vec::new();
    let mut refusals: HashMap<Code, usize> = HashMap::new();
    let mut unreachable = 0usize;
    for (after_ask, s) in sends {
        match s.await? {
            Ok(Ok(r)) => match r.into_inner().order {
                Some(o) => acked.push(o.order_id),
                None => bail!("an acknowledgement without an order"),
            },
            Ok(Err(status)) => *refusals.entry(status.code()).or_default() += 1,
            // Sent before the shutdown was asked for: the engine owed it an answer.
            Err(_) if !after_ask => {
                bail!(
                    "a submission sent before the shutdown got no reply within {CLIENT_DEADLINE:?}"
                )
            }
            Err(_) => unreachable += 1,
        }
    }
    // After the shutdown only UNAVAILABLE (or a closed connection) is acceptable.
    let unexpected: Vec<_> = refusals
        .keys()
        .filter(|c| !matches!(c, Code::Unavailable | Code::Cancelled | Code::Unknown))
        .collect();
    ensure!(
        unexpected.is_empty(),
        "refusals other than unavailable: {refusals:?}"
    );
    ensure!(
        acked.len() as u64 >= LOAD_PER_S,
        "only {} orders acknowledged before the shutdown: no load",
        acked.len()
    );
    ensure!(
        !refusals.is_empty() || unreachable > 0,
        "no order was refused after the shutdown was asked for"
    );
    let Some(down) = down else {
        bail!("the shutdown was never asked for");
    };
    let exited = down.await??;
    eprintln!(
        "graceful shutdown: {} acknowledged, refused {refusals:?}, {unreachable} sent to a stopped engine, down after {exited:?}",
        acked.len()
    );
    ensure!(
        exited <= SHUTDOWN_BUDGET,
        "the engine took {exited:?} to stop"
    );
    let rows = env
        .pg
        .query(
            "SELECT order_id, front_id, session_id, order_ref FROM orders WHERE order_id = ANY($1)",
            &[&acked],
        )
        .await?;
    ensure!(
        rows.len() == acked.len(),
        "{} acknowledged orders are not in postgresql",
        acked.len() - rows.len()
    );
    let unsent: i64 = env
        .pg
        .query_one("SELECT count(*) FROM outbox WHERE sent_at IS NULL", &[])
        .await?
        .get(0);
    ensure!(unsent == 0, "{unsent} outbox rows were not flushed");
    let mut at_exchange: HashMap<(i64, i64, String), usize> = HashMap::new();
    for o in env.exchange_orders().await? {
        let key = (
            o["front_id"].as_i64().unwrap_or(-1),
            o["session_id"].as_i64().unwrap_or(-1),
            o["order_ref"].as_str().unwrap_or("").trim().to_owned(),
        );
        *at_exchange.entry(key).or_default() += 1;
    }
    let mut seen = HashSet::new();
    for r in rows {
        let key = (
            i64::from(r.get::<_, i32>(1)),
            i64::from(r.get::<_, i32>(2)),
            r.get::<_, String>(3).trim().to_owned(),
        );
        let n = at_exchange.get(&key).copied().unwrap_or(0);
        ensure!(
            n == 1,
            "order {} is at the exchange {n} times",
            r.get::<_, i64>(0)
        );
        seen.insert(key);
    }
    ensure!(seen.len() == acked.len(), "two orders share a CTP identity");
    Ok(())
}

/// Polls /health until the engine stops answering; how long after `since` that was.
async fn wait_until_down(http: String, since: Instant) -> Result<Duration> {
    let probe = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()?;
    while since.elapsed() < SHUTDOWN_BUDGET + Duration::from_secs(10) {
        if probe.get(format!("{http}/health")).send().await.is_err() {
            return Ok(since.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "the engine still answers /health {:?} after the shutdown",
        since.elapsed()
    )
}

pub async fn malformed_environment_is_named() -> Result<()> {
    let spec = EngineSpec {
        defects: vec!["no-such-defect".into()],
        ..EngineSpec::default()
    };
    let err = match Platform::builder()
        // The default readiness timeout: Kafka, PostgreSQL and Redis must come up before the
        // engine starts, and in CI they share two cores with the other engine_api tests (a 20 s
        // limit once failed on Kafka, not on the engine). An engine that exits is seen at once.
        .topology(Topology::single_dc().with_engine_spec(spec))
        .start()
        .await
    {
        Ok(p) => {
            p.shutdown().await?;
            bail!("an engine with ENGINE_DEFECTS=no-such-defect became ready");
        }
        Err(e) => e,
    };
    let Error::NotReady {
        service,
        last_error,
        logs,
        ..
    } = &err
    else {
        bail!("expected the engine not ready, got {err}");
    };
    ensure!(
        service == Service::Engine.name(),
        "{service} named, not the engine"
    );
    ensure!(
        last_error.contains("exited"),
        "the engine did not exit at start: {last_error}"
    );
    ensure!(
        logs.contains("ENGINE_DEFECTS"),
        "the engine's output does not name the variable: {logs}"
    );
    Ok(())
}
