//! The platform builder: resolves images, sweeps leftovers of dead runs, creates the run's
//! network and volumes, starts the containers in parallel where their dependencies allow,
//! waits until each answers a real request, and creates the fault proxy's links. Whatever
//! fails, everything created so far is removed before the error is returned.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use testcontainers::bollard::Docker;

use super::docker_ops::ensure_present;
use super::handle::Platform;
use super::labels::{run_labels, Owner};
use super::launch::Launch;
use super::services::{ports, RunContext};
use super::{sweep, Topology};
use crate::error::{Error, Result};
use crate::images::{Manifest, Service};

/// Builds a [`Platform`].
#[derive(Debug, Clone)]
pub struct PlatformBuilder {
    topology: Topology,
    seed: Option<u64>,
    readiness_timeout: Duration,
    readiness_of: BTreeMap<Service, Duration>,
    images: BTreeMap<Service, String>,
    publish_base: Option<u16>,
    workspace: PathBuf,
}

impl Default for PlatformBuilder {
    fn default() -> Self {
        Self {
            topology: Topology::single_dc(),
            seed: None,
            readiness_timeout: Duration::from_secs(60),
            readiness_of: BTreeMap::new(),
            images: BTreeMap::new(),
            publish_base: None,
            workspace: crate::workspace_root(),
        }
    }
}

impl PlatformBuilder {
    pub fn topology(mut self, topology: Topology) -> Self {
        self.topology = topology;
        self
    }

    /// The run's seed (fault proxy randomness, workload and faults); else `HARNESS_SEED`, else
    /// random. Replaying a failed run sets `HARNESS_SEED` to its seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// How long each service may take to answer its readiness probe.
    pub fn readiness_timeout(mut self, timeout: Duration) -> Self {
        self.readiness_timeout = timeout;
        self
    }

    /// How long `service` (in every datacenter) may take to answer its readiness probe,
    /// instead of [`Self::readiness_timeout`]: a test of one broken service gives that one a
    /// short limit without racing every other service's start against it.
    pub fn readiness_timeout_of(mut self, service: Service, timeout: Duration) -> Self {
        self.readiness_of.insert(service, timeout);
        self
    }

    /// Runs `service` from `image` instead of the locally built one (e.g. `postgres:16`).
    pub fn image(mut self, service: Service, image: impl Into<String>) -> Self {
        self.images.insert(service, image.into());
        self
    }

    /// Publishes each service's port on the host: postgres on `base`, redis `base+1`,
    /// kafka `base+2`, the fault proxy API `base+3`. Off by default: the harness reaches
    /// containers by their addresses on the Docker network.
    pub fn publish_base(mut self, base: u16) -> Self {
        self.publish_base = Some(base);
        self
    }

    /// Starts the platform; see the module documentation.
    pub async fn start(self) -> Result<Platform> {
        if self.readiness_timeout.is_zero() || self.readiness_of.values().any(Duration::is_zero) {
            return Err(Error::config(
                "readiness_timeout",
                "must be longer than zero",
            ));
        }
        if self.topology.second_dc.is_some() && self.topology.postgres_standby {
            return Err(Error::config(
                "postgres_standby",
                "a two-datacenter topology has its PostgreSQL standby in dc2; \
                 with_postgres_standby is for a single datacenter",
            ));
        }
        if self.topology.second_dc.is_some() && self.publish_base.is_some() {
            return Err(Error::config(
                "publish_base",
                "publishing host ports is for a single datacenter (two would clash)",
            ));
        }
        crate::docker::prepare_testcontainers().await?;
        super::signals::remove_runs_on_signal();
        let docker = crate::docker::client().await?;
        if let Err(e) = sweep::sweep_dead_runs().await {
            tracing::warn!(error = %e, "sweeping leftovers of dead runs failed");
        }
        let images = self.resolve_images(&docker).await?;
        let publish = self.check_publish_ports()?;
        let seed = match (self.seed, std::env::var("HARNESS_SEED")) {
            (Some(seed), _) => seed,
            (None, Ok(text)) => text.trim().parse().map_err(|_| Error::Config {
                field: "HARNESS_SEED".into(),
                reason: format!("{text:?} is not an unsigned integer"),
            })?,
            (None, Err(_)) => rand::random(),
        };
        let run = format!("{:08x}", rand::random::<u32>());
        let two_dc = self.topology.second_dc.is_some();
        let ctx = RunContext {
            run: run.clone(),
            network: format!("h-{run}-dc1"),
            dc2_network: two_dc.then(|| format!("h-{run}-dc2")),
            exchange_network: if two_dc {
                format!("h-{run}-exchange")
            } else {
                format!("h-{run}-dc1")
            },
            labels: run_labels(&run, &Owner::current()),
            seed,
            postgres_password: format!("pw-{:016x}", rand::random::<u64>()),
            postgres_user: "harness".into(),
            postgres_db: "trading".into(),
            admin_token: format!("{:032x}", rand::random::<u128>()),
            ctp_password: format!("ctp-{:016x}", rand::random::<u64>()),
            ctp_auth_code: format!("{:016X}", rand::random::<u64>()),
        };
        tracing::info!(run, seed, "starting the platform");
        let mut started = Vec::new();
        let launch = Launch {
            docker: &docker,
            ctx: &ctx,
            images: &images,
            publish: &publish,
            topology: &self.topology,
            readiness_timeout: self.readiness_timeout,
            readiness_of: &self.readiness_of,
        };
        // Until the handle exists, a panic anywhere in the launch must not leave the run behind.
        let mut guard = StartGuard {
            run: run.clone(),
            armed: true,
        };
        let outcome = match &self.topology.second_dc {
            None => launch
                .run(&mut started)
                .await
                .map(|endpoints| (endpoints, None)),
            Some(dr) => launch
                .run_two_dc(dr, &mut started)
                .await
                .map(|two| (two.dc1, Some((two.dc2, two.line)))),
        };
        guard.armed = false;
        match outcome {
            Ok((endpoints, dr)) => {
                Ok(Platform::new(run, seed, endpoints, images, started).with_second_dc(dr))
            }
            Err(error) => {
                if super::signals::stopping() {
                    // The signal thread removes the run and ends the process with 128 + the
                    // signal; returning now would let the caller exit first, mid-cleanup.
                    tracing::info!(
                        run,
                        "start interrupted by a signal; waiting for its cleanup"
                    );
                    std::future::pending::<()>().await;
                }
                drop(started);
                if let Err(e) = sweep::remove_run(&docker, &run).await {
                    tracing::error!(run, error = %e, "cleaning up after a failed start failed");
                }
                Err(error)
            }
        }
    }

    async fn resolve_images(&self, docker: &Docker) -> Result<BTreeMap<Service, String>> {
        let overridden = |s: Service| {
            self.images.get(&s).cloned().or_else(|| {
                std::env::var(s.override_var())
                    .ok()
                    .filter(|v| !v.is_empty())
            })
        };
        let needed: Vec<Service> = Service::ALL
            .into_iter()
            .filter(|s| *s != Service::Engine || self.topology.engine.is_some())
            .collect();
        let manifest = if needed.iter().all(|s| overridden(*s).is_some()) {
            Manifest::default()
        } else {
            Manifest::load(&self.workspace)?
        };
        let mut images = BTreeMap::new();
        for service in needed {
            let image = overridden(service).or_else(|| manifest.image(service)).ok_or_else(|| Error::ImageMissing {
                service: service.name().into(),
                image: "(none)".into(),
                hint: "the image manifest has no entry: run `cargo run -p harness -- images build`".into(),
            })?;
            ensure_present(docker, service, &image).await?;
            images.insert(service, image);
        }
        Ok(images)
    }

    fn check_publish_ports(&self) -> Result<HashMap<Service, Vec<(u16, u16)>>> {
        let Some(base) = self.publish_base else {
            return Ok(HashMap::new());
        };
        let wanted = [
            (Service::Postgres, 0u16, ports::POSTGRES),
            (Service::Redis, 1, ports::REDIS),
            (Service::Kafka, 2, ports::KAFKA),
            (Service::FaultProxy, 3, ports::FAULTPROXY_API),
        ];
        let mut publish = HashMap::new();
        for (service, offset, port) in wanted {
            let host = base.checked_add(offset).ok_or_else(|| {
                Error::config(
                    "publish_base",
                    format!("{base} leaves no room for four ports"),
                )
            })?;
            if std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, host)).is_err() {
                return Err(Error::PortInUse {
                    service: service.name().into(),
                    port: host,
                });
            }
            publish.insert(service, vec![(host, port)]);
        }
        Ok(publish)
    }
}

/// Removes a run whose start panicked (or whose start future was dropped) before a
/// [`Platform`] took it over.
struct StartGuard {
    run: String,
    armed: bool,
}

impl Drop for StartGuard {
    fn drop(&mut self) {
        if self.armed {
            sweep::remove_run_blocking(&self.run);
        }
    }
}
