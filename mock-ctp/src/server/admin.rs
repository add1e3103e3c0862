//! The admin and fault API over HTTP (axum), for the harness: inject exchange faults, read the
//! record. Every route but `GET /health` needs `Authorization: Bearer <token>`.
//!
//! Faults are data the harness can set and clear: each POST sets a fault, `POST /faults/clear`
//! heals them all. Routes and bodies are listed in PROTOCOL.md.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::shared::{Control, Shared};
use crate::exchange::MatchingModel;
use crate::protocol::{error_id, reason};

#[derive(Clone)]
struct AdminState {
    shared: Arc<Shared>,
    token: Arc<str>,
}

/// The admin router.
pub fn router(shared: Arc<Shared>, token: String) -> Router {
    let state = AdminState {
        shared,
        token: token.into(),
    };
    let protected = Router::new()
        .route("/sessions", get(sessions))
        .route("/record", get(record))
        .route("/record/orders", get(record_orders))
        .route("/record/trades", get(record_trades))
        .route("/flows/{investor}", get(flow))
        .route("/flows/{investor}/last", get(flow_last))
        .route("/flows/{investor}/sessions", get(flow_sessions))
        .route("/instruments", get(instruments))
        .route("/instruments/{id}/halt", post(halt))
        .route("/instruments/{id}/resume", post(resume))
        .route("/instruments/{id}/matching", post(matching))
        .route("/faults", get(faults))
        .route("/faults/disconnect", post(disconnect))
        .route("/faults/hang", post(hang))
        .route("/faults/delay-returns", post(delay_returns))
        .route("/faults/drop-returns", post(drop_returns))
        .route("/faults/reject-orders", post(reject_orders))
        .route("/faults/flow-control", post(flow_control))
        .route("/faults/clear", post(clear))
        .route("/reset", post(reset))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/health", get(health))
        .merge(protected)
        .with_state(state)
}

async fn require_token(State(st): State<AdminState>, req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == &*st.token);
    if ok {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "missing or wrong bearer token"})),
        )
            .into_response()
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn sessions(State(st): State<AdminState>) -> impl IntoResponse {
    Json(st.shared.session_infos())
}

async fn record(State(st): State<AdminState>) -> impl IntoResponse {
    Json(st.shared.exchange().record())
}

async fn record_orders(State(st): State<AdminState>) -> impl IntoResponse {
    Json(st.shared.exchange().record().orders)
}

async fn record_trades(State(st): State<AdminState>) -> impl IntoResponse {
    Json(st.shared.exchange().record().trades)
}

async fn flow(State(st): State<AdminState>, Path(investor): Path<String>) -> impl IntoResponse {
    let entries: Vec<_> = st
        .shared
        .exchange()
        .flows()
        .all(&investor)
        .into_iter()
        .map(|e| json!({"seq_no": e.seq_no, "message": e.message}))
        .collect();
    Json(entries)
}

/// The last sequence number of an investor's private flow (0 when empty): what a caught-up
/// client has applied.
async fn flow_last(
    State(st): State<AdminState>,
    Path(investor): Path<String>,
) -> impl IntoResponse {
    let exchange = st.shared.exchange();
    let last = exchange.flows().last_seq(&investor);
    let pending_fills = exchange.pending_fills(&investor);
    Json(json!({ "last_seq": last, "pending_fills": pending_fills }))
}

/// Where each trade session of the investor started and ended its private flow (returns
/// replayed at a start, never written at an end).
async fn flow_sessions(
    State(st): State<AdminState>,
    Path(investor): Path<String>,
) -> impl IntoResponse {
    Json(st.shared.flow_log.marks(Some(&investor)))
}

async fn instruments(State(st): State<AdminState>) -> impl IntoResponse {
    let all = st.shared.exchange().instrument_states();
    let v: Vec<_> = all
        .into_iter()
        .map(|(id, (halted, matching))| json!({"instrument_id": id, "halted": halted, "matching": matching}))
        .collect();
    Json(v)
}

fn found(ok: bool) -> Response {
    if ok {
        Json(json!({"ok": true})).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such instrument"})),
        )
            .into_response()
    }
}

async fn halt(State(st): State<AdminState>, Path(id): Path<String>) -> Response {
    found(st.shared.exchange().set_halted(&id, true))
}

async fn resume(State(st): State<AdminState>, Path(id): Path<String>) -> Response {
    found(st.shared.exchange().set_halted(&id, false))
}

async fn matching(
    State(st): State<AdminState>,
    Path(id): Path<String>,
    Json(model): Json<MatchingModel>,
) -> Response {
    found(st.shared.exchange().set_matching(&id, model))
}

async fn faults(State(st): State<AdminState>) -> impl IntoResponse {
    let f = &st.shared.faults;
    let hang_ms = f
        .hang_until()
        .map(|t| t.saturating_duration_since(Instant::now()).as_millis() as u64);
    Json(json!({
        "hang_remaining_ms": hang_ms,
        "delay_returns_ms": f.delay_returns_ms.load(Ordering::Relaxed),
        "drop_returns": f.drop_returns.load(Ordering::Relaxed),
        "reject_orders": st.shared.exchange().reject_fault(),
        "orders_per_second": *f.flow_limit_default.lock().unwrap_or_else(|e| e.into_inner()),
        "orders_per_second_by_session": *f.flow_limit_by_session.lock().unwrap_or_else(|e| e.into_inner()),
    }))
}

#[derive(Deserialize)]
struct DisconnectBody {
    session_id: Option<i32>,
    #[serde(default = "default_reason")]
    reason: i32,
}

/// How long a disconnect waits for its trade sessions to end and note their flow's position.
const CUT_WAIT: Duration = Duration::from_secs(2);

fn default_reason() -> i32 {
    reason::READ_FAILED
}

async fn disconnect(
    State(st): State<AdminState>,
    Json(b): Json<DisconnectBody>,
) -> impl IntoResponse {
    let position = st.shared.flow_log.position();
    let trade = st.shared.trade_sessions(b.session_id);
    let n = st
        .shared
        .control(b.session_id, Control::Disconnect(b.reason));
    if let (Some(id), 0) = (b.session_id, n) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no session with SessionID {id} is connected")})),
        );
    }
    // Each trade session notes where its flow stopped as it ends: the returns sequenced and
    // never written to it are the disconnect's hazard.
    let cut = st
        .shared
        .flow_log
        .told_ends_after(position, trade, CUT_WAIT)
        .await;
    (StatusCode::OK, Json(json!({"disconnected": n, "cut": cut})))
}

#[derive(Deserialize)]
struct MsBody {
    ms: u64,
}

async fn hang(State(st): State<AdminState>, Json(b): Json<MsBody>) -> impl IntoResponse {
    let until = Instant::now() + Duration::from_millis(b.ms);
    st.shared.faults.set_hang(Some(until));
    Json(json!({"ok": true}))
}

async fn delay_returns(State(st): State<AdminState>, Json(b): Json<MsBody>) -> impl IntoResponse {
    st.shared
        .faults
        .delay_returns_ms
        .store(b.ms, Ordering::Relaxed);
    Json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct CountBody {
    count: u64,
}

async fn drop_returns(State(st): State<AdminState>, Json(b): Json<CountBody>) -> impl IntoResponse {
    st.shared
        .faults
        .drop_returns
        .store(b.count, Ordering::Relaxed);
    Json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct RejectBody {
    count: u32,
    #[serde(default = "default_reject_id")]
    error_id: i32,
    #[serde(default)]
    error_msg: Option<String>,
}

fn default_reject_id() -> i32 {
    error_id::INSUFFICIENT_MONEY
}

async fn reject_orders(
    State(st): State<AdminState>,
    Json(b): Json<RejectBody>,
) -> impl IntoResponse {
    let msg = b
        .error_msg
        .unwrap_or_else(|| format!("injected reject (ErrorID {})", b.error_id));
    st.shared.exchange().reject_next(b.count, b.error_id, msg);
    Json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct FlowBody {
    session_id: Option<i32>,
    orders_per_second: Option<u32>,
}

async fn flow_control(State(st): State<AdminState>, Json(b): Json<FlowBody>) -> impl IntoResponse {
    let f = &st.shared.faults;
    match b.session_id {
        Some(id) => {
            let mut per = f
                .flow_limit_by_session
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            per.insert(id, b.orders_per_second.unwrap_or(0));
        }
        None => {
            *f.flow_limit_default
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = b.orders_per_second
        }
    }
    st.shared.control(b.session_id, Control::FlowControlChanged);
    Json(json!({"ok": true}))
}

fn clear_wire_faults(shared: &Shared) {
    let f = &shared.faults;
    f.set_hang(None);
    f.delay_returns_ms.store(0, Ordering::Relaxed);
    f.drop_returns.store(0, Ordering::Relaxed);
    f.flow_limit_by_session
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    *f.flow_limit_default
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = shared.front.orders_per_second;
}

async fn clear(State(st): State<AdminState>) -> impl IntoResponse {
    clear_wire_faults(&st.shared);
    st.shared.exchange().reject_next(0, 0, String::new());
    st.shared.control(None, Control::FlowControlChanged);
    Json(json!({"ok": true}))
}

#[derive(Deserialize, Default)]
struct ResetBody {
    trading_day: Option<String>,
}

/// A clean trading day: every session is dropped (reason 0x1001), faults healed, the
/// exchange back to its fixtures.
async fn reset(State(st): State<AdminState>, body: Option<Json<ResetBody>>) -> impl IntoResponse {
    let day = body.and_then(|Json(b)| b.trading_day);
    clear_wire_faults(&st.shared);
    let n = st
        .shared
        .control(None, Control::Disconnect(reason::READ_FAILED));
    let mut ex = st.shared.exchange();
    ex.reset(day);
    Json(json!({"ok": true, "trading_day": ex.trading_day(), "disconnected": n}))
}
