//! Handlers of `/proxies/{proxy}/toxics` and `/proxies/{proxy}/toxics/{toxic}`.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::body::{parse, ApiError};
use super::State;

pub(crate) async fn list(
    state: State,
    Path(proxy): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.0.toxics(&proxy).await?))
}

pub(crate) async fn create(
    state: State,
    Path(proxy): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let body: Map<String, Value> = parse(&body)?;
    Ok(Json(state.0.add_toxic(&proxy, &body).await?))
}

pub(crate) async fn show(
    state: State,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.0.toxic(&proxy, &toxic).await?))
}

pub(crate) async fn update(
    state: State,
    Path((proxy, toxic)): Path<(String, String)>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let body: Map<String, Value> = parse(&body)?;
    Ok(Json(state.0.update_toxic(&proxy, &toxic, &body).await?))
}

pub(crate) async fn remove(
    state: State,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    state.0.delete_toxic(&proxy, &toxic).await?;
    Ok(StatusCode::NO_CONTENT)
}
