//! The platform builder: resolves images, sweeps leftovers of dead runs, creates the run's
//! network and volumes, starts the containers in parallel where their dependencies allow,
//! waits until each answers a real request, and creates the fault proxy's links. Whatever
//! fails, everything created so far is removed before the error is returned.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::models::VolumeCreateRequest;
use testcontainers::bollard::query_parameters::{CreateImageOptions, LogsOptions};
use testcontainers::bollard::Docker;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage};

use super::endpoints::{Endpoint, Endpoints, PostgresEndpoint};
use super::handle::Platform;
use super::labels::{run_labels, Owner};
use super::proxies::{self, Link};
use super::readiness::{wait_ready, Probe};
use super::services::{
    self, Role, RunContext, FAULTPROXY_API_PORT, KAFKA_PORT, POSTGRES_PORT, REDIS_PORT,
};
use super::{sweep, Topology};
use crate::error::{Error, Result};
use crate::images::{Manifest, Service};

const POSTGRES_LINK_PORT: u16 = 15432;
const REDIS_LINK_PORT: u16 = 16379;
const KAFKA_LINK_PORT: u16 = 19092;

/// Builds a [`Platform`].
#[derive(Debug, Clone)]
pub struct PlatformBuilder {
    topology: Topology,
    seed: Option<u64>,
    readiness_timeout: Duration,
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

    /// The run's seed (fault proxy randomness, and later workload and faults); random if unset.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// How long each service may take to answer its readiness probe.
    pub fn readiness_timeout(mut self, timeout: Duration) -> Self {
        self.readiness_timeout = timeout;
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
        if self.readiness_timeout.is_zero() {
            return Err(Error::config(
                "readiness_timeout",
                "must be longer than zero",
            ));
        }
        crate::docker::prepare_testcontainers().await?;
        let docker = crate::docker::client().await?;
        if let Err(e) = sweep::sweep_dead_runs().await {
            tracing::warn!(error = %e, "sweeping leftovers of dead runs failed");
        }
        let images = self.resolve_images(&docker).await?;
        let publish = self.check_publish_ports()?;
        let seed = self.seed.unwrap_or_else(rand::random);
        let run = format!("{:08x}", rand::random::<u32>());
        let ctx = RunContext {
            run: run.clone(),
            network: format!("h-{run}-dc1"),
            labels: run_labels(&run, &Owner::current()),
            seed,
            postgres_password: format!("pw-{:016x}", rand::random::<u64>()),
            postgres_user: "harness".into(),
            postgres_db: "trading".into(),
        };
        tracing::info!(run, seed, "starting the platform");
        let mut started = Vec::new();
        match self
            .start_run(&docker, &ctx, &images, &publish, &mut started)
            .await
        {
            Ok(endpoints) => Ok(Platform::new(run, seed, endpoints, started)),
            Err(error) => {
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
        let manifest = if Service::ALL.iter().all(|s| overridden(*s).is_some()) {
            Manifest::default()
        } else {
            Manifest::load(&self.workspace)?
        };
        let mut images = BTreeMap::new();
        for service in Service::ALL {
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
            (Service::Postgres, 0u16, POSTGRES_PORT),
            (Service::Redis, 1, REDIS_PORT),
            (Service::Kafka, 2, KAFKA_PORT),
            (Service::FaultProxy, 3, FAULTPROXY_API_PORT),
        ];
        let mut publish = HashMap::new();
        for (service, offset, port) in wanted {
            let host = base.checked_add(offset).ok_or_else(|| {
                Error::config(
                    "publish_base",
                    format!("{base} leaves no room for four ports"),
                )
            })?;
            if std::net::TcpListener::bind(("0.0.0.0", host)).is_err() {
                return Err(Error::PortInUse {
                    service: service.name().into(),
                    port: host,
                });
            }
            publish.insert(service, vec![(host, port)]);
        }
        Ok(publish)
    }

    async fn start_run(
        &self,
        docker: &Docker,
        ctx: &RunContext,
        images: &BTreeMap<Service, String>,
        publish: &HashMap<Service, Vec<(u16, u16)>>,
        started: &mut Vec<(String, ContainerAsync<GenericImage>)>,
    ) -> Result<Endpoints> {
        create_network(docker, ctx).await?;
        let mut roles = vec![
            Role {
                service: Service::Postgres,
                name: "postgres".into(),
            },
            Role {
                service: Service::Redis,
                name: "redis".into(),
            },
            Role {
                service: Service::Kafka,
                name: "kafka".into(),
            },
        ];
        if self.topology.postgres_standby {
            roles.push(Role {
                service: Service::Postgres,
                name: "postgres-standby".into(),
            });
        }
        for role in &roles {
            create_volume(docker, ctx, &ctx.volume_name(&role.name)).await?;
        }
        let no_publish = Vec::new();
        let launch = |role: Role, env: Vec<(String, String)>| {
            let image = images[&role.service].clone();
            let publish = publish.get(&role.service).unwrap_or(&no_publish).clone();
            async move {
                let request = services::request(ctx, &role, &image, &env, &publish);
                let container = request.start().await.map_err(|e| Error::Start {
                    service: role.name.clone(),
                    container: ctx.container_name(&role.name),
                    source: Box::new(e),
                })?;
                let ip = container_ip(docker, container.id(), &ctx.network).await?;
                Ok::<_, Error>((role.name, container, ip))
            }
        };
        // Kafka advertises the fault proxy's address, so it starts once the proxy has one;
        // postgres and redis start meanwhile.
        let proxy_then_kafka = async {
            let proxy = launch(
                Role {
                    service: Service::FaultProxy,
                    name: "faultproxy".into(),
                },
                vec![],
            )
            .await?;
            let advertised = SocketAddr::new(proxy.2, KAFKA_LINK_PORT).to_string();
            let kafka = launch(roles[2].clone(), services::kafka_env(&advertised)).await;
            Ok::<_, Error>((proxy, kafka))
        };
        let (proxy_kafka, postgres, redis) = tokio::join!(
            proxy_then_kafka,
            launch(roles[0].clone(), vec![]),
            launch(roles[1].clone(), vec![])
        );
        let mut failures = Vec::new();
        let mut ips = HashMap::new();
        let mut keep = |r: Result<(String, ContainerAsync<GenericImage>, IpAddr)>| match r {
            Ok((name, container, ip)) => {
                ips.insert(name.clone(), ip);
                started.push((name, container));
            }
            Err(e) => failures.push(e),
        };
        match proxy_kafka {
            Ok((proxy, kafka)) => {
                keep(Ok(proxy));
                keep(kafka);
            }
            Err(e) => keep(Err(e)),
        }
        keep(postgres);
        keep(redis);
        if let Some(error) = failures.into_iter().next() {
            return Err(error);
        }
        if self.topology.postgres_standby {
            let env = vec![
                ("PG_ROLE".to_string(), "standby".to_string()),
                (
                    "PG_PRIMARY_HOST".to_string(),
                    ctx.container_name("postgres"),
                ),
            ];
            let (name, container, ip) = launch(roles[3].clone(), env).await?;
            ips.insert(name.clone(), ip);
            started.push((name, container));
        }

        let proxy_ip = ips["faultproxy"];
        let proxy_name = ctx.container_name("faultproxy");
        let endpoint = |link: &str, direct: SocketAddr, port: u16| Endpoint {
            direct,
            proxied: SocketAddr::new(proxy_ip, port),
            in_network: format!("{proxy_name}:{port}"),
            link: link.into(),
        };
        let postgres_endpoint = |role: &str| PostgresEndpoint {
            endpoint: endpoint(
                "postgres",
                SocketAddr::new(ips[role], POSTGRES_PORT),
                POSTGRES_LINK_PORT,
            ),
            user: ctx.postgres_user.clone(),
            password: ctx.postgres_password.clone(),
            database: ctx.postgres_db.clone(),
        };
        let mut standby = self
            .topology
            .postgres_standby
            .then(|| postgres_endpoint("postgres-standby"));
        if let Some(s) = standby.as_mut() {
            s.endpoint.proxied = s.endpoint.direct;
            s.endpoint.in_network =
                format!("{}:{POSTGRES_PORT}", ctx.container_name("postgres-standby"));
            s.endpoint.link = String::new();
        }
        let endpoints = Endpoints {
            network: ctx.network.clone(),
            postgres: postgres_endpoint("postgres"),
            postgres_standby: standby,
            redis: endpoint(
                "redis",
                SocketAddr::new(ips["redis"], REDIS_PORT),
                REDIS_LINK_PORT,
            ),
            kafka: endpoint(
                "kafka",
                SocketAddr::new(ips["kafka"], KAFKA_PORT),
                KAFKA_LINK_PORT,
            ),
            faultproxy_api: format!("http://{}", SocketAddr::new(proxy_ip, FAULTPROXY_API_PORT)),
        };

        let mut probes = vec![
            (
                "faultproxy".to_string(),
                Probe::FaultProxy {
                    api: endpoints.faultproxy_api.clone(),
                },
            ),
            (
                "postgres".to_string(),
                Probe::Postgres {
                    conn: endpoints.postgres.connection_string(false),
                },
            ),
            (
                "redis".to_string(),
                Probe::Redis {
                    addr: endpoints.redis.direct,
                },
            ),
            (
                "kafka".to_string(),
                Probe::Kafka {
                    bootstrap: endpoints.kafka_bootstrap(false),
                },
            ),
        ];
        if let Some(s) = &endpoints.postgres_standby {
            probes.push((
                "postgres-standby".to_string(),
                Probe::Postgres {
                    conn: s.connection_string(false),
                },
            ));
        }
        let timeout = self.readiness_timeout;
        let waits = probes.iter().map(|(role, probe)| async move {
            let container = ctx.container_name(role);
            let alive = || is_running(docker, &container);
            match wait_ready(probe, timeout, alive).await {
                Ok(took) => {
                    tracing::debug!(role, ?took, service = %probe.service(), "ready");
                    Ok(())
                }
                Err(last_error) => Err(Error::NotReady {
                    service: role.clone(),
                    container: container.clone(),
                    timeout_s: timeout.as_secs(),
                    last_error,
                    logs: logs_tail(docker, &container, 20).await,
                }),
            }
        });
        futures::future::try_join_all(waits).await?;

        let links = vec![
            Link {
                name: "postgres".into(),
                listen_port: POSTGRES_LINK_PORT,
                upstream: format!("{}:{POSTGRES_PORT}", ctx.container_name("postgres")),
            },
            Link {
                name: "redis".into(),
                listen_port: REDIS_LINK_PORT,
                upstream: format!("{}:{REDIS_PORT}", ctx.container_name("redis")),
            },
            Link {
                name: "kafka".into(),
                listen_port: KAFKA_LINK_PORT,
                upstream: format!("{}:{KAFKA_PORT}", ctx.container_name("kafka")),
            },
        ];
        proxies::create(&endpoints.faultproxy_api, &links).await?;
        Ok(endpoints)
    }
}

/// A local image passes; a missing one is pulled within a bounded time (for users with a
/// registry), else the error names the service and what to do.
async fn ensure_present(docker: &Docker, service: Service, image: &str) -> Result<()> {
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

async fn create_network(docker: &Docker, ctx: &RunContext) -> Result<()> {
    let request = NetworkCreateRequest {
        name: ctx.network.clone(),
        driver: Some("bridge".into()),
        labels: Some(ctx.labels.clone()),
        ..Default::default()
    };
    docker
        .create_network(request)
        .await
        .map_err(|e| Error::docker(format!("creating network {}", ctx.network), e))?;
    Ok(())
}

async fn create_volume(docker: &Docker, ctx: &RunContext, name: &str) -> Result<()> {
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

async fn container_ip(docker: &Docker, id: &str, network: &str) -> Result<IpAddr> {
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

async fn is_running(docker: &Docker, container: &str) -> bool {
    docker
        .inspect_container(container, None)
        .await
        .ok()
        .and_then(|i| i.state)
        .and_then(|s| s.running)
        .unwrap_or(false)
}

pub(crate) async fn logs_tail(docker: &Docker, container: &str, lines: usize) -> String {
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: lines.to_string(),
        ..Default::default()
    };
    let mut stream = docker.logs(container, Some(options));
    let mut out = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        out.push_str(&chunk.to_string());
    }
    out
}
