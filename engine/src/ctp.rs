//! The CTP trade session: resolve the front's host name, connect (RESUME from the persisted
//! private-flow position), authenticate, log in, confirm settlement, reconcile the orders
//! whose fate is unknown with ReqQryOrder, then route; apply private-flow returns in batches,
//! one transaction each. On a disconnect it resolves and connects again with the position it
//! has persisted, so a return is never lost and never applied twice.
//!
//! Known gaps: one investor per engine (CTP_USER_ID); no ReqQryTrade cross-check at login
//! (the private flow is the source of trades); a CTP-rejected order whose ErrRtnOrderInsert
//! is delayed past the reconciliation query would be re-sent once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use contract::trading::v1 as pb;
use mock_ctp::client::{TraderClient, TraderEvent, TraderEvents};
use mock_ctp::protocol::{
    Order, QryFilter, ReqAuthenticate, ReqUserLogin, ResumeType, SettlementInfoConfirm,
};

use crate::db::Pg;
use crate::engine::Engine;
use crate::persist::{self, Changes};
use crate::returns::{self, Flow, Ret};
use crate::{cache, router};

/// Resolves `host:port` now (a container's address may change across restarts).
pub async fn resolve(addr: &str) -> Option<std::net::SocketAddr> {
    match tokio::net::lookup_host(addr).await {
        Ok(mut it) => it.next(),
        Err(e) => {
            tracing::warn!(addr, error = %e, "cannot resolve");
            None
        }
    }
}

pub async fn run(engine: Arc<Engine>, mut pg: Pg) {
    let (trading_day, applied_seq) = loop {
        match crate::db::timed(
            "read the flow position",
            crate::db::load_flow(&mut pg, &engine.cfg.broker_id, &engine.cfg.user_id),
        )
        .await
        {
            Ok(v) => break v,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the private-flow position; retrying");
                pg.reset();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut flow = Flow {
        trading_day,
        applied_seq,
        ..Default::default()
    };
    tracing::info!(seq = flow.applied_seq, day = %flow.trading_day, "private flow position");
    while !engine.shutdown.is_cancelled() {
        if let Some(addr) = resolve(&engine.cfg.ctp_front_address).await {
            let connect = TraderClient::builder(addr)
                .resume(ResumeType::Resume)
                .last_private_seq(flow.applied_seq)
                .reconnect(None)
                .connect()
                .await;
            match connect {
                Ok((client, events)) => {
                    *engine.trader.lock().unwrap_or_else(|e| e.into_inner()) = Some(client.clone());
                    session(&engine, &mut pg, &mut flow, &client, events).await;
                    client.release().await;
                }
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "cannot connect to the ctp trade front")
                }
            }
        }
        set_down(&engine);
        tokio::select! {
            _ = engine.shutdown.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

fn set_down(engine: &Engine) {
    let mut book = engine.book();
    book.session.logged_in = false;
    book.session.ready = false;
    let _ = engine.session_ready.send(false);
}

fn is_return(e: &TraderEvent) -> bool {
    matches!(
        e,
        TraderEvent::OnRtnOrder(_)
            | TraderEvent::OnRtnTrade(_)
            | TraderEvent::OnErrRtnOrderInsert(_)
            | TraderEvent::OnErrRtnOrderAction(_)
    )
}

struct Ctx<'a> {
    engine: &'a Engine,
    pg: &'a mut Pg,
    flow: &'a mut Flow,
    client: &'a TraderClient,
    request_id: i32,
    query: Option<Vec<Order>>,
}

async fn session(
    engine: &Engine,
    pg: &mut Pg,
    flow: &mut Flow,
    client: &TraderClient,
    mut events: TraderEvents,
) {
    let mut cx = Ctx {
        engine,
        pg,
        flow,
        client,
        request_id: 0,
        query: None,
    };
    let mut gap_check = tokio::time::interval(Duration::from_millis(250));
    loop {
        let first = tokio::select! {
            _ = engine.shutdown.cancelled() => return,
            _ = gap_check.tick() => {
                if cx.flow.gap_since.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
                    tracing::warn!(applied = cx.flow.applied_seq, "private-flow gap; re-subscribing with RESUME");
                    client.subscribe_private_topic(ResumeType::Resume).await;
                    cx.flow.gap_since = Some(Instant::now());
                }
                continue;
            }
            e = events.recv() => match e {
                Some(e) => e,
                None => return,
            },
        };
        let mut batch = vec![(first, Instant::now())];
        while batch.len() < 1024 {
            match events.try_recv() {
                Some(e) => batch.push((e, Instant::now())),
                None => break,
            }
        }
        let mut rets = Vec::new();
        for (e, t) in batch {
            if is_return(&e) {
                rets.push((to_ret(e), t));
                continue;
            }
            if !rets.is_empty() {
                apply_returns(&mut cx, std::mem::take(&mut rets)).await;
            }
            if !handle(&mut cx, e).await {
                return;
            }
        }
        if !rets.is_empty() {
            apply_returns(&mut cx, rets).await;
        }
    }
}

fn to_ret(e: TraderEvent) -> Ret {
    match e {
        TraderEvent::OnRtnOrder(p) => Ret::Order(p),
        TraderEvent::OnRtnTrade(p) => Ret::Trade(p),
        TraderEvent::OnErrRtnOrderInsert(p) => Ret::ErrInsert(p),
        TraderEvent::OnErrRtnOrderAction(p) => Ret::ErrAction(p),
        _ => unreachable!("is_return checked"),
    }
}

async fn apply_returns(cx: &mut Ctx<'_>, rets: Vec<(Ret, Instant)>) {
    let mut updates = Vec::new();
    let (ch, times) = returns::apply(cx.engine, cx.flow, rets, &mut updates);
    if ch.is_empty() {
        return;
    }
    write_retrying(cx.engine, cx.pg, &ch).await;
    for t in times {
        cx.engine.metrics.trade_return.observe(t.elapsed());
    }
    for u in updates {
        let _ = cx.engine.updates.send(u);
    }
    cache::positions(cx.engine, &ch.positions);
    cx.engine.outbox_notify.notify_one();
}

/// Persists until it succeeds: the returns are already in the book, and the flow position
/// must not move past them in the database without them.
async fn write_retrying(engine: &Engine, pg: &mut Pg, ch: &Changes) {
    let mut attempt = 0u64;
    loop {
        match crate::db::timed("commit a return batch", persist::write(pg, engine, ch)).await {
            Ok(()) => return,
            Err(e) => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "return batch commit failed; retrying");
                pg.reset();
                // The next attempt finds an earlier one that committed (persist::write).
                tokio::time::sleep(Duration::from_millis(100 * attempt.min(20))).await;
            }
        }
    }
}

fn next_id(cx: &mut Ctx<'_>) -> i32 {
    cx.request_id += 1;
    cx.request_id
}

async fn authenticate(cx: &mut Ctx<'_>) {
    let cfg = &cx.engine.cfg;
    let req = ReqAuthenticate {
        broker_id: cfg.broker_id.clone(),
        user_id: cfg.user_id.clone(),
        app_id: cfg.app_id.clone(),
        auth_code: cfg.auth_code.clone(),
    };
    let id = next_id(cx);
    cx.client.req_authenticate(&req, id).await;
}

/// Handles one non-return callback; false ends the session.
async fn handle(cx: &mut Ctx<'_>, e: TraderEvent) -> bool {
    let cfg = &cx.engine.cfg;
    match e {
        TraderEvent::OnFrontConnected => authenticate(cx).await,
        TraderEvent::OnFrontDisconnected(reason) => {
            tracing::warn!(
                reason = format!("{reason:#x}"),
                "ctp trade front disconnected"
            );
            return false;
        }
        TraderEvent::OnRspAuthenticate(r) => {
            if r.rsp_info.is_error() {
                tracing::error!(error_id = r.rsp_info.error_id, msg = %r.rsp_info.error_msg, "ctp authentication refused");
                tokio::time::sleep(Duration::from_secs(2)).await;
                authenticate(cx).await;
            } else {
                let req = ReqUserLogin {
                    broker_id: cfg.broker_id.clone(),
                    user_id: cfg.user_id.clone(),
                    password: cfg.password.clone(),
                };
                let id = next_id(cx);
                cx.client.req_user_login(&req, id).await;
            }
        }
        TraderEvent::OnRspUserLogin(r) => {
            let Some(f) = r.field.filter(|_| !r.rsp_info.is_error()) else {
                tracing::error!(error_id = r.rsp_info.error_id, msg = %r.rsp_info.error_msg, "ctp login refused");
                tokio::time::sleep(Duration::from_secs(2)).await;
                authenticate(cx).await;
                return true;
            };
            tracing::info!(front = f.front_id, session = f.session_id, day = %f.trading_day, "ctp logged in");
            {
                let mut book = cx.engine.book();
                let s = &mut book.session;
                s.logged_in = true;
                s.ready = false;
                s.front_id = f.front_id;
                s.session_id = f.session_id;
                s.next_order_ref = f.max_order_ref.trim().parse().unwrap_or(0);
                s.trading_day = f.trading_day.clone();
            }
            if !cx.flow.trading_day.is_empty() && cx.flow.trading_day != f.trading_day {
                tracing::warn!(old = %cx.flow.trading_day, new = %f.trading_day, "new trading day: private flow restarts");
                cx.flow.applied_seq = 0;
                cx.flow.ahead.clear();
                cx.client.subscribe_private_topic(ResumeType::Restart).await;
            }
            cx.flow.trading_day = f.trading_day;
            let req = SettlementInfoConfirm {
                broker_id: cfg.broker_id.clone(),
                investor_id: cfg.user_id.clone(),
                ..Default::default()
            };
            let id = next_id(cx);
            cx.client.req_settlement_info_confirm(&req, id).await;
        }
        TraderEvent::OnRspSettlementInfoConfirm(_) => {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !cx
                .engine
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            cx.query = Some(Vec::new());
            let q = QryFilter {
                broker_id: cfg.broker_id.clone(),
                investor_id: cfg.user_id.clone(),
                instrument_id: String::new(),
            };
            let id = next_id(cx);
            let code = cx.client.req_qry_order(&q, id).await;
            if code != 0 {
                tracing::warn!(code, "ReqQryOrder not sent; dropping the session to retry");
                return false;
            }
        }
        TraderEvent::OnRspQryOrder(r) => {
            if let (Some(rows), Some(f)) = (cx.query.as_mut(), r.field) {
                rows.push(f);
            }
            if r.is_last {
                if let Some(rows) = cx.query.take() {
                    reconcile(cx, rows).await;
                }
            }
        }
        TraderEvent::OnRspOrderInsert(r) => {
            tracing::info!(error_id = r.rsp_info.error_id, msg = %r.rsp_info.error_msg, "order refused by ctp (ErrRtnOrderInsert follows)");
        }
        TraderEvent::OnRspOrderAction(r) => {
            tracing::info!(error_id = r.rsp_info.error_id, msg = %r.rsp_info.error_msg, "cancel refused by ctp");
        }
        TraderEvent::OnRspError(r) => {
            tracing::warn!(error_id = r.rsp_info.error_id, msg = %r.rsp_info.error_msg, "ctp error");
        }
        TraderEvent::OnFlowControl(f) => {
            tracing::info!(limit = ?f.max_orders_per_second, "ctp flow control");
        }
        TraderEvent::OnProtocolError(e) => tracing::warn!(?e, "ctp protocol error"),
        other => tracing::debug!(?other, "ctp callback ignored"),
    }
    true
}

/// Settles the orders whose fate is unknown (routed in an earlier session, no return yet)
/// against the exchange's own list: found ones are at the exchange and their returns come
/// through the flow; missing ones never arrived and are sent again under a new OrderRef,
/// persisted first. Then the session opens for new orders.
async fn reconcile(cx: &mut Ctx<'_>, rows: Vec<Order>) {
    let engine = cx.engine;
    let at_exchange: HashSet<(i32, i32, String)> = rows
        .iter()
        .map(|o| (o.front_id, o.session_id, o.order_ref.trim().to_owned()))
        .collect();
    let mut ch = Changes::default();
    let mut to_send = Vec::new();
    let mut updates = Vec::new();
    {
        let mut book = engine.book();
        let (front, session) = (book.session.front_id, book.session.session_id);
        let mut unknown: Vec<i64> = book
            .orders
            .values()
            .filter(|o| !o.status.is_final() && o.order_sys_id.trim().is_empty())
            .filter(|o| (o.front_id, o.session_id) != (front, session))
            .map(|o| o.order_id)
            .collect();
        unknown.sort_unstable();
        for id in unknown {
            let o = book.orders.get(&id).expect("listed above");
            let key = (o.front_id, o.session_id, o.order_ref.trim().to_owned());
            let found = at_exchange.contains(&key);
            // DEFECT (test only): resend-without-idempotency re-sends found orders as well.
            if found && !engine.cfg.defects.resend_without_idempotency {
                continue;
            }
            let order_ref = book.session.take_order_ref();
            let o = book.orders.get_mut(&id).expect("listed above");
            o.front_id = front;
            o.session_id = session;
            o.order_ref = order_ref;
            o.sent = false;
            o.updated_at_us = crate::convert::now_us();
            let rec = o.clone();
            book.index(&rec);
            ch.orders.insert(id);
            to_send.push(id);
            updates.push(pb::Update {
                kind: Some(pb::update::Kind::Order(crate::convert::order_pb(&rec))),
            });
        }
    }
    if !ch.orders.is_empty() {
        tracing::info!(
            count = ch.orders.len(),
            "orders not at the exchange: sending under new OrderRefs"
        );
        write_retrying(engine, cx.pg, &ch).await;
    }
    for id in to_send {
        router::send(engine, id).await;
    }
    for u in updates {
        let _ = engine.updates.send(u);
    }
    engine.book().session.ready = true;
    let _ = engine.session_ready.send(true);
    tracing::info!(exchange_orders = rows.len(), "reconciled; accepting orders");
}
