//! Orders that are accepted: a repeated client_order_id, sequential or concurrent, returns the
//! original order (same order_id, `duplicate = true`) and the exchange receives it once; a
//! resting order is cancelled at the exchange.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use contract::trading::v1::{CancelOrderRequest, OrderStatus, Side};

use crate::support::{cid, order, Env};

fn investor_orders(record: &[serde_json::Value]) -> usize {
    record
        .iter()
        .filter(|o| o["investor_id"] == crate::INVESTOR)
        .count()
}

pub async fn a_duplicate_returns_the_original_and_reaches_the_exchange_once(
    env: &Env,
) -> Result<()> {
    let at_exchange_before = investor_orders(&env.exchange_orders().await?);
    let id = cid("dup");
    let first = env
        .grpc
        .clone()
        .submit_order(order(&id, Side::Buy, 1))
        .await
        .context("the first submission")?
        .into_inner();
    ensure!(!first.duplicate, "the first submission is not a duplicate");
    let original = first.order.context("an order in the answer")?;
    // The same request again, once alone and eight times at once.
    let mut repeats = vec![
        env.grpc
            .clone()
            .submit_order(order(&id, Side::Buy, 1))
            .await,
    ];
    let concurrent = (0..8).map(|_| {
        let mut c = env.grpc.clone();
        let req = order(&id, Side::Buy, 1);
        async move { c.submit_order(req).await }
    });
    repeats.extend(futures::future::join_all(concurrent).await);
    for r in repeats {
        let r = r.context("a repeated submission")?.into_inner();
        ensure!(r.duplicate, "a repeat is flagged duplicate: {r:?}");
        let o = r.order.context("an order in the duplicate answer")?;
        ensure!(
            o.order_id == original.order_id,
            "a repeat returned order {} instead of the original {}",
            o.order_id,
            original.order_id
        );
    }
    env.await_order(original.order_id, Duration::from_secs(10), |o| {
        !o.exchange_order_id.is_empty()
    })
    .await?;
    // Returns of a second copy would follow the first within milliseconds.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let record = env.exchange_orders().await?;
    let (front, session, oref) = env.ctp_identity(original.order_id).await?;
    let copies = record
        .iter()
        .filter(|o| {
            o["front_id"] == front && o["session_id"] == session && o["order_ref"] == oref.as_str()
        })
        .count();
    ensure!(
        copies == 1,
        "the exchange holds {copies} copies of the order"
    );
    let added = investor_orders(&record) - at_exchange_before;
    ensure!(added == 1, "the exchange received {added} orders, not one");
    let rows: i64 = env
        .pg
        .query_one(
            "SELECT count(*) FROM orders WHERE client_order_id = $1",
            &[&id],
        )
        .await?
        .get(0);
    ensure!(rows == 1, "{rows} order rows for one client_order_id");
    Ok(())
}

pub async fn a_resting_order_is_cancelled(env: &Env) -> Result<()> {
    // au2412 rests at the mock exchange (matching model "rest").
    let mut req = order(&cid("rest"), Side::Buy, 1);
    req.instrument_id = "au2412".into();
    req.limit_price = 550.0;
    let placed = env
        .grpc
        .clone()
        .submit_order(req)
        .await?
        .into_inner()
        .order
        .context("an order")?;
    let accepted = OrderStatus::Accepted as i32;
    env.await_order(placed.order_id, Duration::from_secs(10), |o| {
        o.status == accepted && !o.exchange_order_id.is_empty()
    })
    .await
    .context("the order rests at the exchange")?;
    env.grpc
        .clone()
        .cancel_order(CancelOrderRequest {
            order_id: placed.order_id,
            client_order_id: String::new(),
        })
        .await
        .context("the cancel is sent")?;
    let canceled = OrderStatus::Canceled as i32;
    let o = env
        .await_order(placed.order_id, Duration::from_secs(10), |o| {
            o.status == canceled
        })
        .await?;
    ensure!(
        o.volume_traded == 0,
        "a cancelled resting order traded: {o:?}"
    );
    // The engine answers from its book; the row follows with the return's commit.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        let status: String = env
            .pg
            .query_one(
                "SELECT status FROM orders WHERE order_id = $1",
                &[&placed.order_id],
            )
            .await?
            .get(0);
        if status == "canceled" || std::time::Instant::now() >= deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ensure!(
        status == "canceled",
        "postgresql says {status} 10 s after the cancel"
    );
    let again = env
        .grpc
        .clone()
        .cancel_order(CancelOrderRequest {
            order_id: placed.order_id,
            client_order_id: String::new(),
        })
        .await;
    ensure!(
        matches!(&again, Err(s) if s.code() == tonic::Code::FailedPrecondition),
        "cancelling a cancelled order: {again:?}"
    );
    Ok(())
}
