//! Request bodies and error responses. Bodies are parsed by hand rather than with axum's
//! `Json` extractor because Toxiproxy ignores the content type (some clients send none) and
//! answers every error, bad JSON included, as `{"error": "...", "status": N}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Error;
use crate::proxy::ProxyView;

pub(crate) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::from(Error::BadBody(e)))
}

/// An error as the API answers it.
#[derive(Debug)]
pub(crate) struct ApiError {
    error: Error,
    /// What `/populate` did before it failed, which Toxiproxy reports with the error.
    proxies: Option<Vec<ProxyView>>,
}

impl ApiError {
    pub(crate) fn with_proxies(error: Error, proxies: Vec<ProxyView>) -> ApiError {
        ApiError {
            error,
            proxies: Some(proxies),
        }
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        ApiError {
            error,
            proxies: None,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxies: Option<Vec<ProxyView>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let body = ErrorBody {
            error: self.error.chain_message(),
            status,
            proxies: self.proxies,
        };
        tracing::debug!(status, error = %body.error, "api error");
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, Json(body)).into_response()
    }
}
