//! The handle of a started platform. `shutdown().await` removes every container, volume and
//! network of the run and confirms that nothing is left; `Drop` does the same as a fallback
//! (after a panic, say) on a thread of its own, so it works inside or outside a runtime.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use testcontainers::bollard::query_parameters::StatsOptions;
use testcontainers::{ContainerAsync, GenericImage};

use super::datacenter::Dc;
use super::endpoints::{Endpoints, LineEndpoint};
use super::sweep;
use crate::error::{Error, Result};

/// A running platform. Removing it is explicit (`shutdown`) or happens on drop.
#[must_use = "dropping the platform tears it down"]
pub struct Platform {
    run: String,
    seed: u64,
    endpoints: Endpoints,
    /// dc2's endpoints and the inter-DC line, in a two-datacenter platform.
    second_dc: Option<(Endpoints, LineEndpoint)>,
    images: BTreeMap<crate::images::Service, String>,
    containers: Vec<(String, ContainerAsync<GenericImage>)>,
    removed: bool,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("run", &self.run)
            .field("seed", &self.seed)
            .field("containers", &self.container_names())
            .finish()
    }
}

impl Platform {
    pub(crate) fn new(
        run: String,
        seed: u64,
        endpoints: Endpoints,
        images: BTreeMap<crate::images::Service, String>,
        containers: Vec<(String, ContainerAsync<GenericImage>)>,
    ) -> Self {
        Self {
            run,
            seed,
            endpoints,
            second_dc: None,
            images,
            containers,
            removed: false,
        }
    }

    pub(crate) fn with_second_dc(mut self, second_dc: Option<(Endpoints, LineEndpoint)>) -> Self {
        self.second_dc = second_dc;
        self
    }

    /// A builder with the single-datacenter topology and a random seed.
    pub fn builder() -> super::PlatformBuilder {
        super::PlatformBuilder::default()
    }

    /// The run's id, found in every resource's `harness.run` label and name.
    pub fn run_id(&self) -> &str {
        &self.run
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The image each service runs.
    pub fn images(&self) -> &BTreeMap<crate::images::Service, String> {
        &self.images
    }

    /// dc1's endpoints (the only datacenter of a single-datacenter platform).
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The endpoints of datacenter `dc`, if the platform has it.
    pub fn datacenter(&self, dc: Dc) -> Option<&Endpoints> {
        match dc {
            Dc::Dc1 => Some(&self.endpoints),
            Dc::Dc2 => self.second_dc.as_ref().map(|(dc2, _)| dc2),
        }
    }

    /// The datacenters the platform runs.
    pub fn datacenters(&self) -> Vec<Dc> {
        Dc::ALL
            .into_iter()
            .filter(|dc| self.datacenter(*dc).is_some())
            .collect()
    }

    /// The Docker network a role's container was started on: its datacenter's; the exchange
    /// network for the mock CTP front of two datacenters; dc1's for the inter-DC line.
    pub(crate) fn network_of(&self, role: &str) -> String {
        match (role, &self.second_dc) {
            ("mock-ctp", Some(_)) => format!("h-{}-exchange", self.run),
            (_, Some((dc2, _))) if role.starts_with("dc2-") => dc2.network.clone(),
            _ => self.endpoints.network.clone(),
        }
    }

    /// The inter-DC line, in a two-datacenter platform.
    pub fn line(&self) -> Option<&LineEndpoint> {
        self.second_dc.as_ref().map(|(_, line)| line)
    }

    /// Docker names of the run's containers.
    pub fn container_names(&self) -> Vec<String> {
        self.containers
            .iter()
            .map(|(role, _)| format!("h-{}-{role}", self.run))
            .collect()
    }

    /// The role names of the platform's services (`postgres`, `redis`, `kafka`, `faultproxy`,
    /// `mock-ctp`, `engine`, …): what process and partition faults name.
    pub fn services(&self) -> Vec<String> {
        self.containers
            .iter()
            .map(|(role, _)| role.clone())
            .collect()
    }

    /// The Docker name of the container of `role`, if the platform has that service.
    pub(crate) fn container_of(&self, role: &str) -> Option<String> {
        self.containers
            .iter()
            .any(|(r, _)| r == role)
            .then(|| format!("h-{}-{role}", self.run))
    }

    /// Each container's whole log (stdout and stderr) so far, by role: for a test that greps
    /// them (secrets must not be there) or a report that keeps them.
    pub async fn logs(&self) -> Result<BTreeMap<String, String>> {
        let docker = crate::docker::client().await?;
        let mut logs = BTreeMap::new();
        for (role, container) in &self.containers {
            let text = super::docker_ops::logs_tail(&docker, container.id(), None).await;
            logs.insert(role.clone(), text);
        }
        Ok(logs)
    }

    /// Each container's peak memory in bytes since it started (cgroup v1 `max_usage`; on
    /// cgroup v2, where Docker reports no peak, the current usage).
    pub async fn memory_peak_bytes(&self) -> Result<BTreeMap<String, u64>> {
        self.each_stats(|stats| {
            let memory = stats.memory_stats.unwrap_or_default();
            memory.max_usage.or(memory.usage).unwrap_or(0)
        })
        .await
    }

    /// Each container's CPU time since it started (user and system, all cores): the
    /// difference of two readings is what the container cost in between, a figure that the
    /// machine's other load changes far less than latency.
    pub async fn cpu_used(&self) -> Result<BTreeMap<String, Duration>> {
        self.each_stats(|stats| {
            let ns = stats
                .cpu_stats
                .and_then(|c| c.cpu_usage)
                .and_then(|u| u.total_usage)
                .unwrap_or(0);
            Duration::from_nanos(ns)
        })
        .await
    }

    /// One reading of each container's stats, by role, through `read`.
    async fn each_stats<T>(
        &self,
        read: impl Fn(testcontainers::bollard::models::ContainerStatsResponse) -> T,
    ) -> Result<BTreeMap<String, T>> {
        let docker = crate::docker::client().await?;
        let mut out = BTreeMap::new();
        for (role, container) in &self.containers {
            let options = StatsOptions {
                stream: false,
                one_shot: false,
            };
            let stats = docker
                .stats(container.id(), Some(options))
                .next()
                .await
                .ok_or_else(|| Error::docker(format!("reading stats of {role}"), "no stats"))?
                .map_err(|e| Error::docker(format!("reading stats of {role}"), e))?;
            out.insert(role.clone(), read(stats));
        }
        Ok(out)
    }

    /// Removes every container, volume and network of the run.
    pub async fn shutdown(mut self) -> Result<()> {
        self.removed = true;
        let containers = std::mem::take(&mut self.containers);
        let removals = containers.into_iter().map(|(role, container)| async move {
            if let Err(e) = container.rm().await {
                tracing::warn!(role, error = %e, "removing a container failed; the run sweep retries");
            }
        });
        futures::future::join_all(removals).await;
        let docker = crate::docker::client().await?;
        sweep::remove_run(&docker, &self.run).await
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        sweep::remove_run_blocking(&self.run);
        for (_, container) in self.containers.drain(..) {
            std::mem::forget(container);
        }
    }
}
