//! Docker operations of a run that testcontainers does not offer: networks and volumes with
//! labels, a container's address on its network, its state and its last log lines, and the
//! bounded pull of an overridden image.

use std::net::IpAddr;
use std::time::Duration;

use futures::StreamExt;
use testcontainers::bollard::models::{
    Ipam, IpamConfig, NetworkCreateRequest, VolumeCreateRequest,
};
use testcontainers::bollard::query_parameters::{CreateImageOptions, LogsOptions};
use testcontainers::bollard::Docker;

use super::services::RunContext;
use crate::error::{Error, Result};
use crate::images::Service;

/// A local image passes; a missing one is pulled within a bounded time (for users with a
/// registry), else the error names the service and what to do.
pub(crate) async fn ensure_present(docker: &Docker, service: Service, image: &str) -> Result<()> {
    if docker.inspect_image(image).await.is_ok() {
        return Ok(());
    }
    let hint = if image.starts_with("harness/") {
        "build it with `cargo run -p harness -- images build`".to_string()
    } else {
        format!(
            "pull it where a registry is reachable, or unset {} to use the locally built image",
            service.override_var()
        )
    };
    let pull = async {
        let options = CreateImageOptions {
            from_image: Some(image.to_string()),
            ..Default::default()
        };
        let mut stream = docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            item?;
        }
        Ok::<_, testcontainers::bollard::errors::Error>(())
    };
    match tokio::time::timeout(Duration::from_secs(60), pull).await {
        Ok(Ok(())) if docker.inspect_image(image).await.is_ok() => Ok(()),
        _ => Err(Error::ImageMissing {
            service: service.name().into(),
            image: image.into(),
            hint,
        }),
    }
}

/// Creates the run's network with a subnet of its own choosing: Docker lets a container be
/// (re)connected with a fixed address only on a network with a user-configured subnet, and a
/// partition healed or a service restarted must keep its address. The /24 is drawn at random
/// from 10.200.0.0–10.254.255.0, outside Docker's default pools; one already taken by another
/// network is refused by Docker and another is drawn, a bounded number of times.
pub(crate) async fn create_network(docker: &Docker, ctx: &RunContext, name: &str) -> Result<()> {
    if super::signals::stopping() {
        return Err(Error::Interrupted);
    }
    const ATTEMPTS: usize = 16;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let (b, c) = (rand::random_range(200u8..=254), rand::random::<u8>());
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            labels: Some(ctx.labels.clone()),
            ipam: Some(Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some(format!("10.{b}.{c}.0/24")),
                    gateway: Some(format!("10.{b}.{c}.1")),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        match docker.create_network(request).await {
            Ok(_) => return Ok(()),
            Err(e) if e.to_string().contains("overlap") => last = Some(e),
            Err(e) => return Err(Error::docker(format!("creating network {name}"), e)),
        }
    }
    Err(Error::docker(
        format!("creating network {name} (every subnet drawn overlapped another network)"),
        last.map(|e| e.to_string()).unwrap_or_default(),
    ))
}

pub(crate) async fn create_volume(docker: &Docker, ctx: &RunContext, name: &str) -> Result<()> {
    if super::signals::stopping() {
        return Err(Error::Interrupted);
    }
    let request = VolumeCreateRequest {
        name: Some(name.into()),
        labels: Some(ctx.labels.clone()),
        ..Default::default()
    };
    docker
        .create_volume(request)
        .await
        .map_err(|e| Error::docker(format!("creating volume {name}"), e))?;
    Ok(())
}

pub(crate) async fn container_ip(docker: &Docker, id: &str, network: &str) -> Result<IpAddr> {
    let info = docker
        .inspect_container(id, None)
        .await
        .map_err(|e| Error::docker(format!("inspecting container {id}"), e))?;
    info.network_settings
        .and_then(|s| s.networks)
        .and_then(|n| n.get(network).cloned())
        .and_then(|e| e.ip_address)
        .and_then(|ip| ip.parse().ok())
        .ok_or_else(|| {
            Error::docker(
                format!("reading the address of container {id} on {network}"),
                "no address",
            )
        })
}

pub(crate) async fn is_running(docker: &Docker, container: &str) -> bool {
    docker
        .inspect_container(container, None)
        .await
        .ok()
        .and_then(|i| i.state)
        .and_then(|s| s.running)
        .unwrap_or(false)
}

/// The last `lines` lines of a container's log (stdout and stderr), or all of it for `None`.
pub(crate) async fn logs_tail(
    docker: &Docker,
    container: &str,
    lines: impl Into<Option<usize>>,
) -> String {
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: lines
            .into()
            .map_or_else(|| "all".to_string(), |n| n.to_string()),
        ..Default::default()
    };
    let mut stream = docker.logs(container, Some(options));
    let mut out = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        out.push_str(&chunk.to_string());
    }
    out
}
