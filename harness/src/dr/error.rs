use std::path::PathBuf;

use thiserror::Error;

/// What can stop a drill or a certification before it is judged.
#[derive(Debug, Error)]
pub enum DrError {
    #[error("invalid {field}: {reason}")]
    Config { field: String, reason: String },
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the DR controller's step {step} failed: {reason}")]
    Step { step: &'static str, reason: String },
    #[error(transparent)]
    Platform(#[from] crate::error::Error),
    #[error(transparent)]
    Fault(#[from] crate::fault::FaultError),
    #[error(transparent)]
    Workload(#[from] crate::workload::WorkloadError),
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    #[error(transparent)]
    Observe(#[from] crate::observe::ObserveError),
}

impl DrError {
    pub(crate) fn config(field: &str, reason: impl Into<String>) -> Self {
        Self::Config {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
