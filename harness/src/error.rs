//! The harness library's errors. Messages are lowercase fragments that read after "failed to …"
//! or stand alone in a CLI's output; each names the service, file or field at fault and, where
//! a user can act, what to do. Causes from Docker and other crates are boxed so that the public
//! API carries no bollard or testcontainers type.

use std::path::PathBuf;

/// A boxed cause from a dependency.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while building images or running the platform.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("docker daemon at {host} is not reachable: start Docker (or set DOCKER_HOST to a running one)")]
    DockerUnavailable {
        host: String,
        #[source]
        source: Cause,
    },
    #[error("docker request failed: {action}")]
    Docker {
        action: String,
        #[source]
        source: Cause,
    },
    #[error(
        "image {image} for service {service} does not exist locally and cannot be pulled: {hint}"
    )]
    ImageMissing {
        service: String,
        image: String,
        hint: String,
    },
    #[error("building image {image} failed: {reason}")]
    ImageBuild { image: String, reason: String },
    #[error("{tool} is not installed: {hint}")]
    MissingTool { tool: String, hint: String },
    #[error("command `{command}` failed with {status}: {stderr_tail}")]
    Command {
        command: String,
        status: String,
        stderr_tail: String,
    },
    #[error("{path}: {reason}")]
    Io {
        path: PathBuf,
        reason: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration, {field}: {reason}")]
    Config { field: String, reason: String },
    #[error("host port {port} for service {service} is already in use: free it or choose another --publish-base")]
    PortInUse { service: String, port: u16 },
    #[error("starting container {container} for service {service} failed")]
    Start {
        service: String,
        container: String,
        #[source]
        source: Cause,
    },
    #[error("service {service} did not become ready within {timeout_s} s (last check: {last_error}); last log lines of {container}:\n{logs}")]
    NotReady {
        service: String,
        container: String,
        timeout_s: u64,
        last_error: String,
        logs: String,
    },
    #[error("the platform's start was interrupted by a stop signal")]
    Interrupted,
    #[error("{service} request failed: {action}")]
    Service {
        service: String,
        action: String,
        #[source]
        source: Cause,
    },
    #[error("fault proxy request failed: {action}")]
    Proxy {
        action: String,
        #[source]
        source: Cause,
    },
    #[error("pinning service {service} to cpus {wanted} did not take effect: the process runs on {actual}")]
    Pinning {
        service: String,
        wanted: String,
        actual: String,
    },
    #[error("service {service}'s security context: {detail}")]
    Security { service: String, detail: String },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn docker(action: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Docker {
            action: action.into(),
            source: source.into(),
        }
    }

    pub(crate) fn io(
        path: impl Into<PathBuf>,
        reason: impl Into<String>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            path: path.into(),
            reason: reason.into(),
            source,
        }
    }

    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
