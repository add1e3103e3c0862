//! The binaries that images COPY: this workspace's own servers, built in release mode, and the
//! tansu broker, installed from crates.io once per version into a cache outside the clone
//! (it takes about nine minutes on two cores, so a fresh clone must not pay it again).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::base::tail;
use crate::error::{Error, Result};

/// The tansu version and features the kafka image runs.
pub(crate) const TANSU_VERSION: &str = "0.6.0";
const TANSU_FEATURES: &str = "dynostore,libsql";

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

async fn run(mut command: tokio::process::Command, what: &str) -> Result<()> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let output = command
        .output()
        .await
        .map_err(|e| Error::io(cargo(), what.to_string(), e))?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::Command {
        command: what.into(),
        status: output.status.to_string(),
        stderr_tail: tail(&String::from_utf8_lossy(&output.stderr), 30),
    })
}

/// Builds the workspace's server binaries in release mode and returns the folder holding them.
pub(crate) async fn build_workspace_bins(
    workspace: &Path,
    bins: &[(&str, &str)],
) -> Result<PathBuf> {
    let mut command = tokio::process::Command::new(cargo());
    command.current_dir(workspace).args(["build", "--release"]);
    for (package, bin) in bins {
        command.args(["-p", package, "--bin", bin]);
    }
    tracing::info!(?bins, "building server binaries (release)");
    run(command, "cargo build --release (server binaries)").await?;
    Ok(super::target_dir(workspace).join("release"))
}

/// The cached tansu binary, installed on first use.
pub(crate) async fn tansu(cache_dir: &Path) -> Result<PathBuf> {
    let root = cache_dir.join("tansu").join(TANSU_VERSION);
    let binary = root.join("bin").join("tansu");
    if binary.is_file() {
        return Ok(binary);
    }
    tracing::warn!(version = TANSU_VERSION, root = %root.display(), "installing tansu from crates.io (about 9 minutes, once)");
    let mut command = tokio::process::Command::new(cargo());
    command.args([
        "install",
        "tansu",
        "--version",
        TANSU_VERSION,
        "--features",
        TANSU_FEATURES,
        "--locked",
        "--root",
    ]);
    command.arg(&root);
    run(command, &format!("cargo install tansu@{TANSU_VERSION}")).await?;
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(Error::ImageBuild {
            image: "kafka".into(),
            reason: format!(
                "cargo install tansu finished but {} is missing",
                binary.display()
            ),
        })
    }
}
