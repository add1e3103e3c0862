//! The exchange-side ground truth: the mock CTP front's record of every order request and
//! trade (`GET /record` of its admin API).

use super::error::ObserveError;
use crate::check::ExchangeRecord;
use crate::platform::MockCtpEndpoint;

pub async fn record(ctp: &MockCtpEndpoint) -> Result<ExchangeRecord, ObserveError> {
    let url = format!("{}/record", ctp.admin);
    let err = |source| ObserveError::Exchange {
        url: url.clone(),
        source,
    };
    reqwest::Client::new()
        .get(&url)
        .bearer_auth(&ctp.admin_token)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(err)?
        .json()
        .await
        .map_err(err)
}
