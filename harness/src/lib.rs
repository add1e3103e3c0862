//! The chaos harness of the CTP trading platform: builds the platform's images offline, starts
//! the platform under test in containers, and (in the modules to come) injects faults, drives
//! workloads, records histories and judges them.
//!
//! The public API carries no bollard or testcontainers type: a user of the harness deals in
//! services, endpoints and verdicts, and the container machinery stays replaceable.

pub mod chaos;
pub mod check;
mod docker;
pub mod dr;
pub mod error;
pub mod fault;
pub mod gate;
pub mod history;
pub mod images;
pub mod observe;
pub mod platform;
pub mod report;
pub mod run;
pub mod workload;

use std::path::PathBuf;

pub use error::{Error, Result};
pub use images::{Manifest, Service};
pub use platform::{Endpoints, Platform, PlatformBuilder, Topology};

/// The workspace whose `docker/` recipes and server crates the images are built from:
/// `HARNESS_WORKSPACE` if set, else the workspace this crate was built in.
pub fn workspace_root() -> PathBuf {
    std::env::var_os("HARNESS_WORKSPACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("harness/ has a parent")
                .to_path_buf()
        })
}

/// The cache outside the clone: `HARNESS_CACHE_DIR`, else `$XDG_CACHE_HOME/trading-harness`,
/// else `~/.cache/trading-harness`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HARNESS_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into())).join(".cache")
        });
    base.join("trading-harness")
}
