//! Handlers of `/proxies`, `/proxies/{proxy}`, `/populate`, `/reset` and `/version`.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use bytes::Bytes;
use serde_json::json;

use super::body::{parse, ApiError};
use super::State;
use crate::registry::ProxyFields;

/// The Toxiproxy version whose API this server follows.
pub(crate) const TOXIPROXY_API_VERSION: &str = "2.12.0";

pub(crate) async fn version() -> impl IntoResponse {
    Json(
        json!({ "version": TOXIPROXY_API_VERSION, "server": concat!("faultproxy ", env!("CARGO_PKG_VERSION")) }),
    )
}

pub(crate) async fn list(state: State) -> impl IntoResponse {
    Json(state.0.list().await)
}

pub(crate) async fn create(state: State, body: Bytes) -> Result<impl IntoResponse, ApiError> {
    let fields: ProxyFields = parse(&body)?;
    let view = state.0.create(fields).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub(crate) async fn populate(state: State, body: Bytes) -> Result<impl IntoResponse, ApiError> {
    let configs: Vec<ProxyFields> = parse(&body)?;
    match state.0.populate(configs).await {
        Ok(proxies) => Ok((StatusCode::CREATED, Json(json!({ "proxies": proxies })))),
        Err((error, done)) => Err(ApiError::with_proxies(error, done)),
    }
}

pub(crate) async fn show(
    state: State,
    Path(proxy): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.0.get(&proxy).await?))
}

pub(crate) async fn update(
    state: State,
    Path(proxy): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let fields: ProxyFields = parse(&body)?;
    Ok(Json(state.0.update(&proxy, fields).await?))
}

pub(crate) async fn remove(
    state: State,
    Path(proxy): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state.0.delete(&proxy).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn reset(state: State) -> Result<impl IntoResponse, ApiError> {
    state.0.reset().await?;
    Ok(StatusCode::NO_CONTENT)
}
