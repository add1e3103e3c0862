use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ChaosError {
    #[error("fault mix {origin}: {reason}")]
    Mix { origin: String, reason: String },
    #[error("{path}:{line}: field {field}: {reason}")]
    CaseFile {
        path: PathBuf,
        line: usize,
        field: String,
        reason: String,
    },
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("resetting the platform between cases: {step}: {reason}")]
    Reset { step: &'static str, reason: String },
    #[error(transparent)]
    Platform(#[from] crate::error::Error),
    #[error(transparent)]
    Fault(#[from] crate::fault::FaultError),
    #[error(transparent)]
    Run(#[from] crate::run::RunError),
}
