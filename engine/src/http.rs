//! HTTP 8080: the probes of the operations documents (/health, /ready, /startup), Prometheus
//! /metrics, the admin routes behind `Authorization: Bearer $ADMIN_TOKEN`, and
//! /api/test-order, the post-deployment check: a dry run of an order through validation,
//! the session, risk and the database, which never reaches the exchange.

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use contract::model::{Offset, Side};
use serde::Deserialize;
use serde_json::json;

use crate::engine::Engine;
use crate::{risk, validate};

pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "UP"})) }))
        .route("/ready", get(ready))
        .route("/startup", get(startup))
        .route("/role", get(role))
        .route("/metrics", get(metrics))
        .route("/admin/stop-order-reception", post(stop))
        .route("/admin/resume-order-reception", post(resume))
        .route("/admin/graceful-shutdown", post(graceful))
        .route("/admin/promote", post(promote))
        .route("/api/test-order", post(test_order))
        .with_state(engine)
}

fn probe(ok: bool, body: serde_json::Value) -> Response {
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn ready(State(e): State<Arc<Engine>>) -> Response {
    let ok = e.is_ready();
    probe(
        ok,
        json!({
            "ready": ok,
            "role": e.role().as_str(),
            "active": e.active.load(SeqCst),
            "accepting": e.accepting.load(SeqCst),
            "draining": e.draining.load(SeqCst),
            "ctp_session_ready": *e.session_ready.borrow(),
        }),
    )
}

async fn startup(State(e): State<Arc<Engine>>) -> Response {
    let ok = e.started.load(SeqCst);
    probe(ok, json!({"started": ok}))
}

/// The role state machine's state and the fencing tokens: 200 whatever the state (a fenced
/// engine answers here and on `/startup`, never on `/ready`).
async fn role(State(e): State<Arc<Engine>>) -> Response {
    let fence = e.fence_state();
    let token =
        |t: Option<crate::fence::Token>| t.map(|t| json!({"site": t.site, "epoch": t.epoch}));
    Json(json!({
        "role": e.role().as_str(),
        "site": e.cfg.site,
        "engine_id": e.cfg.engine_id,
        "version": e.cfg.version,
        "serving": token(fence.serving),
        "superseded_by": token(fence.superseded_by),
    }))
    .into_response()
}

async fn metrics(State(e): State<Arc<Engine>>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        format!(
            "# HELP engine_build_info The engine's version and id (value 1).\n\
             # TYPE engine_build_info gauge\n\
             engine_build_info{{version={:?},engine_id={:?}}} 1\n{}",
            e.cfg.version,
            e.cfg.engine_id,
            e.metrics.render()
        ),
    )
}

fn authorized(e: &Engine, h: &HeaderMap) -> Result<(), Box<Response>> {
    let want = format!("Bearer {}", e.cfg.admin_token);
    match h.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(v) if v == want => Ok(()),
        _ => Err(Box::new(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "missing or wrong bearer token"})),
            )
                .into_response(),
        )),
    }
}

async fn stop(State(e): State<Arc<Engine>>, h: HeaderMap) -> Response {
    if let Err(r) = authorized(&e, &h) {
        return *r;
    }
    e.accepting.store(false, SeqCst);
    tracing::info!("order reception stopped");
    Json(json!({"accepting": false})).into_response()
}

async fn resume(State(e): State<Arc<Engine>>, h: HeaderMap) -> Response {
    if let Err(r) = authorized(&e, &h) {
        return *r;
    }
    e.accepting.store(true, SeqCst);
    tracing::info!("order reception resumed");
    Json(json!({"accepting": true})).into_response()
}

async fn graceful(State(e): State<Arc<Engine>>, h: HeaderMap) -> Response {
    if let Err(r) = authorized(&e, &h) {
        return *r;
    }
    e.graceful.notify_one();
    (StatusCode::ACCEPTED, Json(json!({"shutting_down": true}))).into_response()
}

async fn promote(State(e): State<Arc<Engine>>, h: HeaderMap) -> Response {
    if let Err(r) = authorized(&e, &h) {
        return *r;
    }
    let was = e.role();
    if was == crate::engine::RoleState::Fenced {
        return (
            StatusCode::CONFLICT,
            Json(json!({"error": "a fenced engine cannot be promoted; rebuild it as a standby", "role": was.as_str()})),
        )
            .into_response();
    }
    e.promote.notify_one();
    Json(json!({"promoted": true, "was": was.as_str(), "was_active": was == crate::engine::RoleState::Active})).into_response()
}

/// The reference documents' test order: `{"instrument_id", "price", "volume", "direction"}`.
#[derive(Debug, Deserialize)]
struct TestOrder {
    instrument_id: String,
    price: f64,
    volume: i32,
    direction: String,
    #[serde(default)]
    account_id: Option<String>,
}

async fn test_order(State(e): State<Arc<Engine>>, body: Option<Json<TestOrder>>) -> Response {
    let Some(Json(t)) = body else {
        return (StatusCode::BAD_REQUEST, Json(json!({"success": false, "error": "expected a JSON body with instrument_id, price, volume, direction"}))).into_response();
    };
    let fail = |why: String| {
        Json(json!({"success": false, "error": why, "dry_run": true})).into_response()
    };
    let side = match t.direction.to_ascii_uppercase().as_str() {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        other => {
            return fail(format!(
                "invalid direction: {other:?} is neither BUY nor SELL"
            ))
        }
    };
    if !e.is_ready() {
        return fail("engine not ready (standby, draining, stopped or ctp session down)".into());
    }
    if !(t.price.is_finite() && t.price > 0.0) || t.volume <= 0 {
        return fail("invalid price or volume".into());
    }
    let account_id = t.account_id.unwrap_or_else(|| e.cfg.user_id.clone());
    let checked = {
        let book = e.book();
        let Some(inst) = book.instruments.get(&t.instrument_id).cloned() else {
            return fail(format!("instrument {:?} not found", t.instrument_id));
        };
        let Some(account) = book.accounts.get(&account_id).cloned() else {
            return fail(format!("account {account_id:?} not found"));
        };
        let Some(limit) = book.limit(&account_id, &t.instrument_id) else {
            return fail(format!("risk limit missing for account {account_id}"));
        };
        if !validate::on_tick(t.price, inst.price_tick) {
            return fail(format!(
                "price not a multiple of the tick {}",
                inst.price_tick
            ));
        }
        let dir = crate::book::PosiDir::of(side, Offset::Open);
        let pos = book
            .positions
            .get(&(account_id.clone(), t.instrument_id.clone(), dir))
            .cloned()
            .unwrap_or_default();
        let ask = risk::OrderAsk {
            side,
            offset: Offset::Open,
            price: t.price,
            volume: t.volume,
        };
        risk::check(
            &ask,
            &inst,
            &limit,
            &account,
            &pos,
            e.last_price(&t.instrument_id),
        )
    };
    let margin = match checked {
        Ok(m) => m,
        Err(b) => return fail(b.to_string()),
    };
    let db = async {
        let mut pg = crate::db::Pg::new(&e.cfg.database_url).ok()?;
        pg.get()
            .await
            .ok()?
            .query_one("SELECT count(*) FROM orders", &[])
            .await
            .ok()
    };
    if tokio::time::timeout(Duration::from_secs(2), db)
        .await
        .ok()
        .flatten()
        .is_none()
    {
        return fail("database check failed".into());
    }
    Json(json!({"success": true, "dry_run": true, "margin": margin, "account_id": account_id}))
        .into_response()
}
