//! The Toxiproxy 2.x HTTP API over the registry: routes here, handlers by resource in
//! `proxies` and `toxics`, request bodies and error responses in `body`.

mod body;
mod proxies;
mod toxics;

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
        .with_state(registry)
}
