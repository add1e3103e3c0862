//! Why a history could not be written or read back; every variant names the file, and the
//! reading ones the line, so a broken run directory is diagnosed without opening it.

use std::path::PathBuf;

/// A history that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("open history file {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("write history file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("read history file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The last line has no newline: the writer died mid-entry, so the run is unknown.
    #[error("read history {path}: line {line} is truncated")]
    Truncated { path: PathBuf, line: usize },
    #[error("parse history {path} at line {line}")]
    Malformed {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    /// A completion whose invocation is not in the history (or completed twice).
    #[error(
        "pair history {path} at line {line}: completion of operation {id} without a pending invoke"
    )]
    Unpaired { path: PathBuf, line: usize, id: u64 },
}
