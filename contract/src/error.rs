//! The contract crate's errors.

use std::path::PathBuf;

/// What can fail while reading fixtures or decoding contract values.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("read fixture {path}")]
    ReadFixture {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parse fixture {path}")]
    ParseFixture {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("fixture {path}: {what}")]
    InvalidFixture { path: PathBuf, what: String },
    #[error("decode {kind} value {value:?}")]
    UnknownValue { kind: &'static str, value: String },
}
