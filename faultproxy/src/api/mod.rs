//! The Toxiproxy 2.x HTTP API over the registry: routes here, handlers by resource in
//! `proxies` and `toxics`, request bodies and error responses in `body`.

mod body;
mod proxies;
mod toxics;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

use crate::registry::Registry;

pub(crate) type State = axum::extract::State<Arc<Registry>>;

pub(crate) fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/version", get(proxies::version))
        .route("/reset", post(proxies::reset))
        .route("/populate", post(proxies::populate))
        .route("/proxies", get(proxies::list).post(proxies::create))
        .route(
            "/proxies/{proxy}",
            get(proxies::show)
                .post(proxies::update)
                .patch(proxies::update)
                .delete(proxies::remove),
        )
        .route(
            "/proxies/{proxy}/toxics",
            get(toxics::list).post(toxics::create),
        )
        .route(
            "/proxies/{proxy}/toxics/{toxic}",
            get(toxics::show)
                .post(toxics::update)
                .patch(toxics::update)
                .delete(toxics::remove),
        )
        .layer(axum::middleware::from_fn(stop_browsers))
        .with_state(registry)
}

/// Refuses a browser, as Toxiproxy does (any User-Agent beginning `Mozilla/`: 403, "User agent
/// not allowed"), so that a web page a developer opens cannot drive the fault API of the
/// proxies on their machine. Clients (curl, Toxiproxy's libraries, the harness) are served.
async fn stop_browsers(request: Request, next: Next) -> Response {
    let browser = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("Mozilla/"));
    if browser {
        return (StatusCode::FORBIDDEN, "User agent not allowed\n").into_response();
    }
    next.run(request).await
}
