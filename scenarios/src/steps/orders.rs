//! Steps about single, labelled orders: submit, submit again, cancel, and what the engine and
//! the exchange made of them. Each operation is recorded in the run's history, so the checks
//! judge it like the workload's.

use anyhow::{anyhow, bail, Result};
use contract::model::{Offset, Side};
use cucumber::{then, when};
use harness::check::{Observations, OrderRow};
use harness::history::{CancelOrder, SubmitOrder};
use harness::workload::{Intent, PlannedOp, Reply};

use crate::TradingWorld;

fn client_id(label: &str) -> String {
    format!("f-{label}")
}

async fn perform(w: &mut TradingWorld, label: &str, op: PlannedOp) -> Result<()> {
    let reply = w.run_mut()?.perform(&op).await?;
    println!("{label}: {reply:?}");
    w.replies.entry(label.to_owned()).or_default().push(reply);
    Ok(())
}

fn order(
    w: &TradingWorld,
    label: &str,
    side: &str,
    lots: i32,
    inst: &str,
    price: f64,
) -> Result<SubmitOrder> {
    let side = match side {
        "buys" => contract_side("buy")?,
        "sells" => contract_side("sell")?,
        other => bail!("{other:?} is neither buys nor sells"),
    };
    Ok(SubmitOrder {
        client_order_id: client_id(label),
        account_id: w.investor.clone(),
        instrument_id: inst.to_owned(),
        side,
        offset: Offset::Open,
        limit_price: price,
        volume: lots,
    })
}

fn contract_side(s: &str) -> Result<Side> {
    Side::parse(s).map_err(|e| anyhow!("{e}"))
}

#[when(expr = "the order {string} {word} {int} lot(s) of {word} at {float}")]
async fn submit(
    w: &mut TradingWorld,
    label: String,
    side: String,
    lots: i32,
    inst: String,
    price: f64,
) -> Result<()> {
    let o = order(w, &label, &side, lots, &inst, price)?;
    perform(w, &label, PlannedOp::Submit(o.clone(), Intent::Order)).await?;
    w.orders.insert(label, o);
    Ok(())
}

#[when(expr = "the order {string} is submitted again")]
async fn again(w: &mut TradingWorld, label: String) -> Result<()> {
    let o = w
        .orders
        .get(&label)
        .cloned()
        .ok_or_else(|| anyhow!("no order {label:?} was submitted before"))?;
    perform(w, &label, PlannedOp::Submit(o, Intent::Duplicate)).await
}

#[when(expr = "the order {string} is canceled")]
async fn cancel(w: &mut TradingWorld, label: String) -> Result<()> {
    let cid = client_id(&label);
    let op = PlannedOp::Cancel(CancelOrder {
        client_order_id: cid,
        order_id: None,
    });
    perform(w, &format!("{label}/cancel"), op).await
}

fn replies<'a>(w: &'a TradingWorld, label: &str) -> Result<&'a Vec<Reply>> {
    w.replies
        .get(label)
        .ok_or_else(|| anyhow!("no operation labelled {label:?} was sent"))
}

#[then(expr = "the order {string} was acknowledged")]
fn acknowledged(w: &mut TradingWorld, label: String) -> Result<()> {
    match replies(w, &label)?.first() {
        Some(Reply::Ok(r)) if r.order_id.is_some() && !r.duplicate => Ok(()),
        other => bail!("order {label:?}: expected an acknowledgement, got {other:?}"),
    }
}

#[then(expr = "the order {string} was refused with {word} naming {string}")]
fn refused(w: &mut TradingWorld, label: String, code: String, field: String) -> Result<()> {
    match replies(w, &label)?.first() {
        Some(Reply::Fail(e)) if e.code == code && e.field.as_deref() == Some(field.as_str()) => {
            Ok(())
        }
        other => bail!("order {label:?}: expected {code} naming {field:?}, got {other:?}"),
    }
}

#[then(expr = "every submission of {string} returned the same order")]
fn same_order(w: &mut TradingWorld, label: String) -> Result<()> {
    let all = replies(w, &label)?;
    let ids: Vec<Option<i64>> = all
        .iter()
        .map(|r| match r {
            Reply::Ok(r) => r.order_id,
            _ => None,
        })
        .collect();
    let dup_flags: Vec<bool> = all
        .iter()
        .map(|r| matches!(r, Reply::Ok(r) if r.duplicate))
        .collect();
    if all.len() < 2 || ids.iter().any(|i| i.is_none() || *i != ids[0]) {
        bail!("submissions of {label:?} returned {all:?}");
    }
    if dup_flags[0] || !dup_flags[1..].iter().all(|d| *d) {
        bail!("only the resubmissions are duplicates: {all:?}");
    }
    Ok(())
}

/// The PostgreSQL row of a labelled order.
fn order_row<'a>(obs: &'a Observations, label: &str) -> Result<&'a OrderRow> {
    let cid = client_id(label);
    obs.db
        .orders
        .iter()
        .find(|o| o.client_order_id == cid)
        .ok_or_else(|| anyhow!("order {label:?} ({cid}) is not in postgresql"))
}

#[then(expr = "the order {string} reached the exchange {int} time(s)")]
async fn at_exchange(w: &mut TradingWorld, label: String, times: usize) -> Result<()> {
    let obs = &w.judged().await?.observations;
    let row = order_row(obs, &label)?;
    let n = obs
        .exchange
        .orders
        .iter()
        .filter(|x| {
            (x.front_id, x.session_id, x.order_ref.trim())
                == (row.front_id, row.session_id, row.order_ref.trim())
        })
        .count();
    if n != times {
        bail!("order {label:?} reached the exchange {n} times, expected {times}");
    }
    Ok(())
}

#[then(expr = "the order {string} ended {word}")]
async fn ended(w: &mut TradingWorld, label: String, status: String) -> Result<()> {
    let obs = &w.judged().await?.observations;
    let row = order_row(obs, &label)?;
    if row.status.as_str() != status {
        bail!("order {label:?} ended {}, expected {status}", row.status);
    }
    Ok(())
}
