//! Container operations of the nemesis that testcontainers does not offer: kill with a
//! signal, graceful stop, start, pause and resume, the container's state, and disconnecting it
//! from the run's network and connecting it back with the same IPv4 address and aliases.
//! Crate-private: callers get plain data ([`ContainerState`], addresses), never a bollard type.
//!
//! A stopped container gives its address back to Docker, and Docker hands out another one on
//! start if the old one was taken meanwhile; [`pin_address`] reconnects a container with its
//! address fixed in its endpoint settings, so that every later start keeps it.

use std::net::Ipv4Addr;

use testcontainers::bollard::errors::Error as DockerError;
use testcontainers::bollard::models::{
    EndpointIpamConfig, EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest,
};
use testcontainers::bollard::query_parameters::{KillContainerOptions, StopContainerOptions};
use testcontainers::bollard::Docker;

use crate::error::{Error, Result};

/// What Docker says about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContainerState {
    pub running: bool,
    pub paused: bool,
    pub exit_code: Option<i64>,
    /// When it last started (Docker's RFC 3339 text): a restart changes it.
    pub started_at: String,
    /// Its IPv4 address on the network asked about; `None` when not attached.
    pub address: Option<Ipv4Addr>,
    /// Its aliases on that network, without the short id Docker adds by itself.
    pub aliases: Vec<String>,
}

/// Reads a container's state and its endpoint on `network`.
pub(crate) async fn state(
    docker: &Docker,
    container: &str,
    network: &str,
) -> Result<ContainerState> {
    let info = docker
        .inspect_container(container, None)
        .await
        .map_err(|e| Error::docker(format!("inspecting container {container}"), e))?;
    let short_id: String = info
        .id
        .clone()
        .unwrap_or_default()
        .chars()
        .take(12)
        .collect();
    let state = info.state.unwrap_or_default();
    let endpoint = info
        .network_settings
        .and_then(|s| s.networks)
        .and_then(|n| n.get(network).cloned());
    let address = endpoint
        .as_ref()
        .and_then(|e| e.ip_address.clone())
        .and_then(|ip| ip.parse().ok())
        .or_else(|| {
            endpoint
                .as_ref()?
                .ipam_config
                .as_ref()?
                .ipv4_address
                .as_ref()?
                .parse()
                .ok()
        });
    let aliases = endpoint
        .and_then(|e| e.aliases)
        .unwrap_or_default()
        .into_iter()
        .filter(|a| *a != short_id)
        .collect();
    Ok(ContainerState {
        running: state.running.unwrap_or(false),
        paused: state.paused.unwrap_or(false),
        exit_code: state.exit_code,
        started_at: state.started_at.unwrap_or_default(),
        address,
        aliases,
    })
}

/// A request whose target is already in the wanted state (Docker's 304) succeeded.
fn done(outcome: std::result::Result<(), DockerError>) -> std::result::Result<(), DockerError> {
    match outcome {
        Err(DockerError::DockerResponseServerError {
            status_code: 304, ..
        }) => Ok(()),
        other => other,
    }
}

/// Sends `signal` (e.g. `SIGKILL`) to the container's main process.
pub(crate) async fn kill(docker: &Docker, container: &str, signal: &str) -> Result<()> {
    let options = KillContainerOptions {
        signal: signal.to_string(),
    };
    docker
        .kill_container(container, Some(options))
        .await
        .map_err(|e| Error::docker(format!("sending {signal} to container {container}"), e))
}

/// Stops the container: SIGTERM, then SIGKILL after `timeout_s`.
pub(crate) async fn stop(docker: &Docker, container: &str, timeout_s: u32) -> Result<()> {
    let options = StopContainerOptions {
        signal: None,
        t: Some(i32::try_from(timeout_s).unwrap_or(i32::MAX)),
    };
    done(docker.stop_container(container, Some(options)).await)
        .map_err(|e| Error::docker(format!("stopping container {container}"), e))
}

pub(crate) async fn start(docker: &Docker, container: &str) -> Result<()> {
    done(docker.start_container(container, None).await)
        .map_err(|e| Error::docker(format!("starting container {container}"), e))
}

pub(crate) async fn pause(docker: &Docker, container: &str) -> Result<()> {
    docker
        .pause_container(container)
        .await
        .map_err(|e| Error::docker(format!("pausing container {container}"), e))
}

pub(crate) async fn unpause(docker: &Docker, container: &str) -> Result<()> {
    docker
        .unpause_container(container)
        .await
        .map_err(|e| Error::docker(format!("resuming container {container}"), e))
}

/// Disconnects the container from `network` (forcibly: a stopped one too).
pub(crate) async fn disconnect(docker: &Docker, container: &str, network: &str) -> Result<()> {
    let request = NetworkDisconnectRequest {
        container: container.to_string(),
        force: Some(true),
    };
    docker
        .disconnect_network(network, request)
        .await
        .map_err(|e| Error::docker(format!("disconnecting {container} from {network}"), e))
}

/// Connects the container to `network` with `address` fixed and `aliases`.
pub(crate) async fn connect(
    docker: &Docker,
    container: &str,
    network: &str,
    address: Ipv4Addr,
    aliases: &[String],
) -> Result<()> {
    let request = NetworkConnectRequest {
        container: container.to_string(),
        endpoint_config: Some(EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: Some(address.to_string()),
                ..Default::default()
            }),
            aliases: (!aliases.is_empty()).then(|| aliases.to_vec()),
            ..Default::default()
        }),
    };
    docker.connect_network(network, request).await.map_err(|e| {
        Error::docker(
            format!("connecting {container} to {network} with address {address}"),
            e,
        )
    })
}

/// Connects the container to one more `network`, with an address Docker chooses (a fault
/// proxy joining the exchange network, the inter-DC line joining dc2).
pub(crate) async fn attach(docker: &Docker, container: &str, network: &str) -> Result<()> {
    let request = NetworkConnectRequest {
        container: container.to_string(),
        endpoint_config: Some(EndpointSettings::default()),
    };
    docker
        .connect_network(network, request)
        .await
        .map_err(|e| Error::docker(format!("connecting {container} to {network}"), e))
}

/// Reconnects the container (running or not) with `address` fixed in its endpoint settings,
/// so that it keeps that address across later starts.
pub(crate) async fn pin_address(
    docker: &Docker,
    container: &str,
    network: &str,
    address: Ipv4Addr,
    aliases: &[String],
) -> Result<()> {
    disconnect(docker, container, network).await?;
    connect(docker, container, network, address, aliases).await
}
