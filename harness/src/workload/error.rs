//! Errors of configuring or running a workload.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum WorkloadError {
    #[error("the order router has no engine in {0} to send to")]
    NoRoute(crate::platform::Dc),
    #[error("invalid workload {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("failed to read the fixtures the workload draws from")]
    Fixtures(#[source] contract::ContractError),
    #[error("workload account {0} is not in fixtures/accounts.json")]
    UnknownAccount(String),
    #[error("failed to connect to the engine's order entry at {addr}")]
    Connect {
        addr: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("failed to record the history")]
    History(#[source] crate::history::HistoryError),
}

impl WorkloadError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
