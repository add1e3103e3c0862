//! Bad input over gRPC: an invalid field is INVALID_ARGUMENT naming the field (message and
//! `x-field`), an unknown account or instrument NOT_FOUND naming it, a risk breach
//! FAILED_PRECONDITION naming the limit (message and `x-risk-limit`); none of them creates an
//! order.

use anyhow::{bail, ensure, Result};
use contract::trading::v1::{Side, SubmitOrderRequest};
use tonic::Code;

use crate::support::{cid, order, Env};

/// Submits `req` and checks it is refused with `code`, the message containing `named` and,
/// when given, the metadata `key` equal to `named`.
async fn refused(
    env: &Env,
    what: &str,
    req: SubmitOrderRequest,
    code: Code,
    named: &str,
    key: Option<&str>,
) -> Result<()> {
    let status = match env.grpc.clone().submit_order(req).await {
        Ok(r) => bail!("{what}: accepted as {:?}", r.into_inner().order),
        Err(s) => s,
    };
    ensure!(
        status.code() == code,
        "{what}: expected {code:?}, got {:?}: {}",
        status.code(),
        status.message()
    );
    ensure!(
        status.message().contains(named),
        "{what}: the message does not name {named}: {}",
        status.message()
    );
    if let Some(key) = key {
        let got = status.metadata().get(key).and_then(|v| v.to_str().ok());
        ensure!(got == Some(named), "{what}: {key} is {got:?}, not {named}");
    }
    Ok(())
}

async fn orders_in_db(env: &Env) -> Result<i64> {
    Ok(env
        .pg
        .query_one("SELECT count(*) FROM orders", &[])
        .await?
        .get(0))
}

pub async fn each_invalid_field_is_named(env: &Env) -> Result<()> {
    let before = orders_in_db(env).await?;
    type Breaker = fn(&mut SubmitOrderRequest);
    let cases: [(&str, Breaker); 8] = [
        ("client_order_id", |r| r.client_order_id.clear()),
        ("account_id", |r| r.account_id = "a b".into()),
        ("instrument_id", |r| r.instrument_id = "x".repeat(40)),
        ("side", |r| r.side = 0),
        ("offset", |r| r.offset = 17),
        ("limit_price", |r| r.limit_price = -1.0),
        ("limit_price", |r| r.limit_price = 3600.5),
        ("volume", |r| r.volume = 0),
    ];
    for (field, break_it) in cases {
        let mut req = order(&cid("bad"), Side::Buy, 1);
        break_it(&mut req);
        let what = format!("invalid {field} ({req:?})");
        refused(
            env,
            &what,
            req,
            Code::InvalidArgument,
            field,
            Some("x-field"),
        )
        .await?;
    }
    ensure!(
        orders_in_db(env).await? == before,
        "an invalid order was written"
    );
    Ok(())
}

pub async fn unknown_account_and_instrument_are_not_found(env: &Env) -> Result<()> {
    let mut req = order(&cid("nf"), Side::Buy, 1);
    req.account_id = "999999".into();
    refused(env, "unknown account", req, Code::NotFound, "999999", None).await?;
    let mut req = order(&cid("nf"), Side::Buy, 1);
    req.instrument_id = "zz9999".into();
    refused(
        env,
        "unknown instrument",
        req,
        Code::NotFound,
        "zz9999",
        None,
    )
    .await
}

pub async fn risk_breaches_name_the_limit(env: &Env) -> Result<()> {
    let limit = Some("x-risk-limit");
    let fp = Code::FailedPrecondition;
    // Fixtures: 000001 may send 100 lots at once; rb2410 trades within 3492..3708.
    let req = order(&cid("risk"), Side::Buy, 101);
    refused(env, "101 lots", req, fp, "max_order_volume", limit).await?;
    let mut req = order(&cid("risk"), Side::Buy, 1);
    req.limit_price = 3800.0;
    refused(
        env,
        "above the daily limit",
        req,
        fp,
        "daily_price_limit",
        limit,
    )
    .await?;
    let mut req = order(&cid("risk"), Side::Sell, 1);
    req.offset = contract::trading::v1::Offset::CloseToday as i32;
    req.volume = 50;
    refused(
        env,
        "closing more than held",
        req,
        fp,
        "close_position",
        limit,
    )
    .await
}
