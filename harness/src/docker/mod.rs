//! The harness's connection to the Docker daemon: a version-negotiated bollard client for the
//! harness's own calls, and a `DOCKER_HOST` that testcontainers can speak to (through the API
//! shim when the daemon is older than testcontainers' API). Internal: no bollard type leaves the
//! crate.

mod api_shim;

use std::sync::OnceLock;

use testcontainers::bollard::{Docker, API_DEFAULT_VERSION};

use crate::error::{Error, Result};

static ORIGINAL_HOST: OnceLock<String> = OnceLock::new();
static SHIM: tokio::sync::OnceCell<Option<api_shim::ApiShim>> = tokio::sync::OnceCell::const_new();

/// The daemon address the user configured (before the shim replaced it for testcontainers).
pub(crate) fn original_host() -> String {
    ORIGINAL_HOST
        .get_or_init(|| {
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
        })
        .clone()
}

/// A bollard client that negotiated the API version with the daemon.
pub(crate) async fn client() -> Result<Docker> {
    let host = original_host();
    let unavailable = |e: testcontainers::bollard::errors::Error| Error::DockerUnavailable {
        host: host.clone(),
        source: Box::new(e),
    };
    let docker = if let Some(path) = host.strip_prefix("unix://") {
        Docker::connect_with_unix(path, 120, API_DEFAULT_VERSION).map_err(unavailable)?
    } else {
        Docker::connect_with_http(&host, 120, API_DEFAULT_VERSION).map_err(unavailable)?
    };
    // A daemon that does not answer within 10 s is asked twice more: once, a stall of the
    // whole machine (about 45 s, in a chaos run) timed out the only attempt, and the run failed
    // with the daemon healthy.
    let mut attempt = 1;
    let docker = loop {
        match tokio::time::timeout(
            std::time::Duration::from_secs(10),
            docker.clone().negotiate_version(),
        )
        .await
        {
            Ok(negotiated) => break negotiated.map_err(unavailable)?,
            Err(elapsed) if attempt >= 3 => {
                return Err(Error::DockerUnavailable {
                    host: host.clone(),
                    source: Box::new(elapsed),
                })
            }
            Err(_) => {
                tracing::warn!(
                    host,
                    attempt,
                    "the docker daemon did not answer in 10 s; asking again"
                );
                attempt += 1;
            }
        }
    };
    Ok(docker)
}

/// Makes testcontainers reach the daemon: when the daemon is older than the API testcontainers
/// speaks, starts the shim once per process and points `DOCKER_HOST` at it. Must run before the
/// first testcontainers call of the process, which `Platform::start` guarantees.
pub(crate) async fn prepare_testcontainers() -> Result<()> {
    SHIM.get_or_try_init(start_shim_if_needed).await?;
    Ok(())
}

async fn start_shim_if_needed() -> Result<Option<api_shim::ApiShim>> {
    let docker = client().await?;
    let negotiated = docker.client_version();
    let wanted = API_DEFAULT_VERSION;
    let needs_shim = (negotiated.major_version, negotiated.minor_version)
        < (wanted.major_version, wanted.minor_version);
    let host = original_host();
    let (true, Some(path)) = (needs_shim, host.strip_prefix("unix://")) else {
        return Ok(None);
    };
    let from = format!("{}.{}", wanted.major_version, wanted.minor_version);
    let to = format!("{}.{}", negotiated.major_version, negotiated.minor_version);
    let shim = api_shim::ApiShim::start(std::path::Path::new(path), &from, &to)
        .map_err(|e| Error::io(std::env::temp_dir(), "starting the docker api shim", e))?;
    tracing::debug!(
        from,
        to,
        socket = shim.docker_host(),
        "docker api shim started"
    );
    // Set once, before any testcontainers client exists; testcontainers reads it lazily.
    std::env::set_var("DOCKER_HOST", shim.docker_host());
    Ok(Some(shim))
}
