//! Removal of a run's resources, and the sweep that removes what crashed runs left behind.
//! testcontainers has no reaper for a process killed with SIGKILL, so every resource carries
//! the run's labels and each start sweeps the runs whose owner is gone.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use testcontainers::bollard::errors::Error as DockerError;
use testcontainers::bollard::models::{EndpointResource, NetworkDisconnectRequest};
use testcontainers::bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
    RemoveVolumeOptions,
};
use testcontainers::bollard::Docker;

use super::labels::{Owner, OWNER_PID, RUN};
use crate::error::{Error, Result};

/// One labelled Docker resource of a harness run.
#[derive(Debug)]
struct Resource {
    kind: Kind,
    /// The id to remove it by (a volume's name is its id).
    id: String,
    name: String,
    labels: HashMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Container,
    Network,
    Volume,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Container => "container",
            Kind::Network => "network",
            Kind::Volume => "volume",
        }
    }
}

/// Every container, network and volume whose labels match `label` (`harness.run` for all runs,
/// `harness.run=ID` for one), containers first.
async fn list(docker: &Docker, label: String) -> Result<Vec<Resource>> {
    let filters = HashMap::from([("label".to_string(), vec![label])]);
    let mut found = Vec::new();
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .map_err(|e| Error::docker("listing harness containers", e))?;
    for c in containers {
        found.push(Resource {
            kind: Kind::Container,
            id: c.id.unwrap_or_default(),
            name: c.names.unwrap_or_default().join(","),
            labels: c.labels.unwrap_or_default(),
        });
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters.clone()),
        }))
        .await
        .map_err(|e| Error::docker("listing harness networks", e))?;
    for n in networks {
        found.push(Resource {
            kind: Kind::Network,
            id: n.id.unwrap_or_default(),
            name: n.name.unwrap_or_default(),
            labels: n.labels.unwrap_or_default(),
        });
    }
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filters),
        }))
        .await
        .map_err(|e| Error::docker("listing harness volumes", e))?;
    for v in volumes.volumes.unwrap_or_default() {
        found.push(Resource {
            kind: Kind::Volume,
            id: v.name.clone(),
            name: v.name,
            labels: v.labels,
        });
    }
    Ok(found)
}

/// A removal that found nothing to remove succeeded.
fn gone(outcome: std::result::Result<(), DockerError>) -> std::result::Result<(), DockerError> {
    match outcome {
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        other => other,
    }
}

/// How many list-and-remove passes [`remove_run`] makes before it gives up, and the pause after
/// a pass that could not remove everything.
const REMOVAL_PASSES: usize = 10;
const REMOVAL_PAUSE: Duration = Duration::from_millis(250);

/// Removes every container, network and volume of the given run, then lists the run again
/// until nothing of it is left. A container can join a run's network after the list that a
/// pass removed from (a create that Docker was still serving when its client, a harness
/// stopped by Ctrl-C, exited; another sweep removing the same container): the network's
/// removal then fails with "active endpoints", and the next pass removes that container first.
pub(crate) async fn remove_run(docker: &Docker, run: &str) -> Result<()> {
    let mut last_error = None;
    for pass in 0..REMOVAL_PASSES {
        let resources = list(docker, format!("{RUN}={run}")).await?;
        if resources.is_empty() {
            return Ok(());
        }
        if pass > 0 {
            tracing::debug!(run, pass, left = resources.len(), "removing a run again");
        }
        if let Err(e) = remove_pass(docker, resources).await {
            last_error = Some(e);
            tokio::time::sleep(REMOVAL_PAUSE).await;
        }
    }
    Err(last_error.unwrap_or_else(|| {
        Error::docker(
            format!("removing run {run}"),
            format!("its resources were still there after {REMOVAL_PASSES} passes"),
        )
    }))
}

/// One pass of [`remove_run`]: containers first (in parallel), since a network or volume in use
/// cannot be removed.
async fn remove_pass(docker: &Docker, resources: Vec<Resource>) -> Result<()> {
    let (containers, rest): (Vec<_>, Vec<_>) = resources
        .into_iter()
        .partition(|r| r.kind == Kind::Container);
    let removals = containers.iter().map(|c| async move {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        gone(docker.remove_container(&c.id, Some(options)).await)
            .map_err(|e| Error::docker(format!("removing container {}", c.name), e))
    });
    // Best effort: one resource that cannot go must not keep the others; the first error is
    // returned once all were tried.
    let mut first_error = futures::future::join_all(removals)
        .await
        .into_iter()
        .find_map(Result::err);
    for r in rest {
        let outcome = match r.kind {
            Kind::Network => remove_network(docker, &r.id).await,
            _ => {
                docker
                    .remove_volume(&r.id, Some(RemoveVolumeOptions { force: true }))
                    .await
            }
        };
        if let Err(e) = gone(outcome) {
            first_error.get_or_insert(Error::docker(
                format!("removing {} {}", r.kind.name(), r.name),
                e,
            ));
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Removes a network; when Docker refuses because endpoints are still on it, deletes those
/// whose container no longer exists and tries once more. Docker can keep such a stale endpoint
/// after a container's removal (a CI run left a network with "active endpoints" and no
/// container of its run); no later pass would ever free it. An endpoint whose container still
/// exists is left alone: the next pass removes it if it is the run's, or waits for its owner.
async fn remove_network(docker: &Docker, id: &str) -> std::result::Result<(), DockerError> {
    let refused = match docker.remove_network(id).await {
        Err(
            e @ DockerError::DockerResponseServerError {
                status_code: 403, ..
            },
        ) => e,
        other => return other,
    };
    let Ok(network) = docker.inspect_network(id, None).await else {
        return Err(refused);
    };
    let mut existing = BTreeSet::new();
    for container_id in network.containers.iter().flat_map(HashMap::keys) {
        // Only Docker's "no such container" marks an endpoint stale.
        let missing = matches!(
            docker.inspect_container(container_id, None).await,
            Err(DockerError::DockerResponseServerError {
                status_code: 404,
                ..
            })
        );
        if !missing {
            existing.insert(container_id.clone());
        }
    }
    let stale = stale_endpoints(network.containers.as_ref(), &existing);
    if stale.is_empty() {
        return Err(refused);
    }
    for name in &stale {
        tracing::warn!(network = id, endpoint = name, "deleting a stale endpoint");
        let request = NetworkDisconnectRequest {
            container: name.clone(),
            force: Some(true),
        };
        gone(docker.disconnect_network(id, request).await)?;
    }
    docker.remove_network(id).await
}

/// The names of a network's endpoints (Docker's `Containers`, keyed by container id) whose
/// container is not among `existing`.
fn stale_endpoints(
    endpoints: Option<&HashMap<String, EndpointResource>>,
    existing: &BTreeSet<String>,
) -> Vec<String> {
    let mut stale: Vec<String> = endpoints
        .into_iter()
        .flatten()
        .filter(|(id, _)| !existing.contains(*id))
        .map(|(id, endpoint)| endpoint.name.clone().unwrap_or_else(|| id.clone()))
        .collect();
    stale.sort();
    stale
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

/// Removes every run this process owns (by its pid label); returns those runs.
pub(crate) async fn remove_own_runs(docker: &Docker) -> Result<Vec<String>> {
    let pid = std::process::id();
    let runs: BTreeSet<String> = list(docker, format!("{OWNER_PID}={pid}"))
        .await?
        .into_iter()
        .filter_map(|r| r.labels.get(RUN).cloned())
        .collect();
    for run in &runs {
        remove_run(docker, run).await?;
    }
    Ok(runs.into_iter().collect())
}

/// Removes the resources of every run whose owning process is gone; returns those runs.
pub async fn sweep_dead_runs() -> Result<Vec<String>> {
    let docker = crate::docker::client().await?;
    let mut runs: HashMap<String, Option<Owner>> = HashMap::new();
    for r in list(&docker, RUN.to_string()).await? {
        if let Some(run) = r.labels.get(RUN) {
            runs.entry(run.clone())
                .or_insert_with(|| Owner::from_labels(&r.labels));
        }
    }
    let dead: BTreeSet<String> = runs
        .into_iter()
        .filter(|(_, owner)| !owner.as_ref().is_some_and(Owner::is_alive))
        .map(|(run, _)| run)
        .collect();
    // One run that cannot go must not keep the others: the first error is returned once every
    // dead run was tried.
    let mut first_error = None;
    for run in &dead {
        tracing::info!(run, "sweeping the leftovers of a run whose process is gone");
        if let Err(e) = remove_run(&docker, run).await {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(dead.into_iter().collect()), Err)
}

/// The names of a run's containers, networks and volumes that still exist.
pub async fn resources_of_run(run: &str) -> Result<Vec<String>> {
    let docker = crate::docker::client().await?;
    let resources = list(&docker, format!("{RUN}={run}")).await?;
    Ok(resources
        .into_iter()
        .map(|r| format!("{} {}", r.kind.name(), r.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str) -> EndpointResource {
        EndpointResource {
            name: Some(name.to_string()),
            ..Default::default()
        }
    }

    #[test]
    fn an_endpoint_whose_container_is_gone_is_stale_by_its_name() {
        let endpoints = HashMap::from([
            ("ep-4711".to_string(), endpoint("h-run-dc1-engine")),
            ("c0ffee".to_string(), endpoint("h-run-dc1-postgres")),
        ]);
        let existing = BTreeSet::from(["c0ffee".to_string()]);
        assert_eq!(
            stale_endpoints(Some(&endpoints), &existing),
            ["h-run-dc1-engine"]
        );
    }

    #[test]
    fn a_network_whose_endpoints_all_have_containers_has_none_stale() {
        let endpoints = HashMap::from([("c0ffee".to_string(), endpoint("holder"))]);
        let existing = BTreeSet::from(["c0ffee".to_string()]);
        assert!(stale_endpoints(Some(&endpoints), &existing).is_empty());
        assert!(stale_endpoints(None, &existing).is_empty());
    }

    #[test]
    fn a_stale_endpoint_without_a_name_is_named_by_its_key() {
        let endpoints = HashMap::from([("ep-1".to_string(), EndpointResource::default())]);
        assert_eq!(
            stale_endpoints(Some(&endpoints), &BTreeSet::new()),
            ["ep-1"]
        );
    }
}
