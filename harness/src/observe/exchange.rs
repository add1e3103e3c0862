//! The exchange-side ground truth: the mock CTP front's record of every order request and
//! trade (`GET /record` of its admin API), and the admin API's other reads.

use serde::de::DeserializeOwned;

use super::error::ObserveError;
use crate::check::ExchangeRecord;
use crate::platform::MockCtpEndpoint;

/// `GET {admin}{path}` with the admin token, as JSON.
pub async fn admin_get<T: DeserializeOwned>(
    http: &reqwest::Client,
    ctp: &MockCtpEndpoint,
    path: &str,
) -> Result<T, ObserveError> {
    let url = format!("{}{path}", ctp.admin);
    let err = |source| ObserveError::Exchange {
        url: url.clone(),
        source,
    };
    http.get(&url)
        .bearer_auth(&ctp.admin_token)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(err)?
        .json()
        .await
        .map_err(err)
}

pub async fn record(ctp: &MockCtpEndpoint) -> Result<ExchangeRecord, ObserveError> {
    admin_get(&reqwest::Client::new(), ctp, "/record").await
}
