//! Removal of a run's resources, and the sweep that removes what crashed runs left behind.
//! testcontainers has no reaper for a process killed with SIGKILL, so every resource carries
//! the run's labels and each start sweeps the runs whose owner is gone.

use std::collections::{BTreeSet, HashMap};

use testcontainers::bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
    RemoveVolumeOptions,
};
use testcontainers::bollard::Docker;

use super::labels::{Owner, RUN};
use crate::error::{Error, Result};

/// Removes every container, network and volume of the given run.
pub(crate) async fn remove_run(docker: &Docker, run: &str) -> Result<()> {
    let filter = format!("{RUN}={run}");
    let filters = HashMap::from([("label".to_string(), vec![filter])]);
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .map_err(|e| Error::docker(format!("listing containers of run {run}"), e))?;
    let removals = containers
        .iter()
        .filter_map(|c| c.id.clone())
        .map(|id| async move {
            let options = RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            };
            match docker.remove_container(&id, Some(options)).await {
                Ok(())
                | Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
                    status_code: 404,
                    ..
                }) => Ok(()),
                Err(e) => Err(Error::docker(format!("removing container {id}"), e)),
            }
        });
    futures::future::try_join_all(removals).await?;
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters.clone()),
        }))
        .await
        .map_err(|e| Error::docker(format!("listing networks of run {run}"), e))?;
    for network in networks.into_iter().filter_map(|n| n.id) {
        match docker.remove_network(&network).await {
            Ok(())
            | Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                ..
            }) => {}
            Err(e) => return Err(Error::docker(format!("removing network {network}"), e)),
        }
    }
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filters),
        }))
        .await
        .map_err(|e| Error::docker(format!("listing volumes of run {run}"), e))?;
    for volume in volumes.volumes.unwrap_or_default() {
        match docker
            .remove_volume(&volume.name, Some(RemoveVolumeOptions { force: true }))
            .await
        {
            Ok(())
            | Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                ..
            }) => {}
            Err(e) => return Err(Error::docker(format!("removing volume {}", volume.name), e)),
        }
    }
    Ok(())
}

/// Removes a run from a fresh runtime on a thread of its own: for `Drop`, where the runtime
/// that made the containers may be unwinding or gone. Failures are printed, not returned.
pub(crate) fn remove_run_blocking(run: &str) {
    let owned = run.to_string();
    let cleanup = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        runtime.map(|rt| {
            rt.block_on(async {
                let docker = crate::docker::client().await?;
                remove_run(&docker, &owned).await
            })
        })
    });
    match cleanup.join() {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => eprintln!("harness: removing run {run} on drop failed: {e}"),
        Ok(Err(e)) => eprintln!("harness: no runtime to remove run {run} on drop: {e}"),
        Err(_) => eprintln!("harness: removing run {run} on drop panicked"),
    }
}

/// Removes the resources of every run whose owning process is gone; returns those runs.
pub async fn sweep_dead_runs() -> Result<Vec<String>> {
    let docker = crate::docker::client().await?;
    let filters = HashMap::from([("label".to_string(), vec![RUN.to_string()])]);
    let mut runs: HashMap<String, Option<Owner>> = HashMap::new();
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .map_err(|e| Error::docker("listing harness containers", e))?;
    for labels in containers.into_iter().filter_map(|c| c.labels) {
        if let Some(run) = labels.get(RUN) {
            runs.insert(run.clone(), Owner::from_labels(&labels));
        }
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters.clone()),
        }))
        .await
        .map_err(|e| Error::docker("listing harness networks", e))?;
    for labels in networks.into_iter().filter_map(|n| n.labels) {
        if let Some(run) = labels.get(RUN) {
            runs.entry(run.clone())
                .or_insert_with(|| Owner::from_labels(&labels));
        }
    }
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filters),
        }))
        .await
        .map_err(|e| Error::docker("listing harness volumes", e))?;
    for volume in volumes.volumes.unwrap_or_default() {
        if let Some(run) = volume.labels.get(RUN) {
            runs.entry(run.clone())
                .or_insert_with(|| Owner::from_labels(&volume.labels));
        }
    }
    let dead: BTreeSet<String> = runs
        .into_iter()
        .filter(|(_, owner)| !owner.as_ref().is_some_and(Owner::is_alive))
        .map(|(run, _)| run)
        .collect();
    for run in &dead {
        tracing::info!(run, "sweeping the leftovers of a run whose process is gone");
        remove_run(&docker, run).await?;
    }
    Ok(dead.into_iter().collect())
}

/// The names of a run's containers, networks and volumes that still exist.
pub async fn resources_of_run(run: &str) -> Result<Vec<String>> {
    let docker = crate::docker::client().await?;
    let filters = HashMap::from([("label".to_string(), vec![format!("{RUN}={run}")])]);
    let mut names = Vec::new();
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .map_err(|e| Error::docker("listing containers", e))?;
    names.extend(
        containers
            .into_iter()
            .flat_map(|c| c.names.unwrap_or_default())
            .map(|n| format!("container {n}")),
    );
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters.clone()),
        }))
        .await
        .map_err(|e| Error::docker("listing networks", e))?;
    names.extend(
        networks
            .into_iter()
            .filter_map(|n| n.name)
            .map(|n| format!("network {n}")),
    );
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filters),
        }))
        .await
        .map_err(|e| Error::docker("listing volumes", e))?;
    names.extend(
        volumes
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| format!("volume {}", v.name)),
    );
    Ok(names)
}
