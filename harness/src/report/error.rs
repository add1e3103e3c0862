//! Why a report could not be written or read back; every variant names the file.

use std::path::PathBuf;

/// A report that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("create run directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("write report file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("read report file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("encode report {path} as json")]
    Encode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("parse report {path}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("serialize junit report {path}")]
    Junit {
        path: PathBuf,
        #[source]
        source: quick_junit::SerializeError,
    },
}
