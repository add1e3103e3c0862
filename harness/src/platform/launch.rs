//! Launching a run's containers: the network and volumes first, then the containers in parallel
//! where their dependencies allow (Kafka waits for the fault proxy's address, which it
//! advertises; the PostgreSQL standby waits for its primary), then readiness probes, then the
//! fault proxy's links. A two-datacenter topology is launched by `second_dc` on the same
//! pieces.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use testcontainers::bollard::Docker;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::datacenter::Dc;
use super::docker_ops::{container_ip, create_network, create_volume};
use super::endpoints::{Endpoint, Endpoints, EngineEndpoint, MockCtpEndpoint, PostgresEndpoint};
use super::engine::{self, EngineRole, EngineSpec};
use super::proxies::{self, Link};
use super::readiness::Probe;
use super::services::{self, ports, Role, RunContext};
use super::targets::{probe_for, wait_service_ready};
use super::Topology;
use crate::error::{Error, Result};
use crate::images::Service;

/// The containers of a run, by role, as they start.
pub(crate) type Started = Vec<(String, ContainerAsync<GenericImage>)>;

/// Everything a launch needs.
pub(crate) struct Launch<'a> {
    pub docker: &'a Docker,
    pub ctx: &'a RunContext,
    pub images: &'a BTreeMap<Service, String>,
    pub publish: &'a HashMap<Service, Vec<(u16, u16)>>,
    pub topology: &'a Topology,
    pub readiness_timeout: Duration,
    /// Per-service limits that replace `readiness_timeout`.
    pub readiness_of: &'a BTreeMap<Service, Duration>,
}

pub(crate) type Launched = (String, ContainerAsync<GenericImage>, IpAddr);

impl Launch<'_> {
    /// The role `name` of `service` in datacenter `dc`, on that datacenter's network.
    pub(crate) fn in_dc(&self, dc: Dc, service: Service, name: &str) -> Role {
        Role {
            service,
            name: dc.role_name(name),
            network: self.ctx.network_of(dc).to_string(),
            dc: Some(dc),
        }
    }

    async fn launch(
        &self,
        service: Service,
        role: &str,
        env: Vec<(String, String)>,
    ) -> Result<Launched> {
        self.launch_role(self.in_dc(Dc::Dc1, service, role), env, None)
            .await
    }

    pub(crate) async fn launch_role(
        &self,
        role: Role,
        env: Vec<(String, String)>,
        cpuset: Option<String>,
    ) -> Result<Launched> {
        if super::signals::stopping() {
            return Err(Error::Interrupted);
        }
        let service = role.service;
        let publish = self.publish.get(&service).cloned().unwrap_or_default();
        let mut request =
            services::request(self.ctx, &role, &self.images[&service], &env, &publish);
        // testcontainers has no cpuset or security setters and publishes ports on every
        // interface of the host; its host config modifier (one per container) reaches all.
        let confined = services::confined(service, &self.images[&service]);
        let publishes = !publish.is_empty();
        request = request.with_host_config_modifier(move |host| {
            if let Some(cpus) = &cpuset {
                host.cpuset_cpus = Some(cpus.clone());
            }
            // Without ports to publish, testcontainers asks Docker to publish every exposed port
            // on a random host port, and Docker's pick can collide with a port the host is
            // using for an outgoing connection ("bind: address already in use", a container
            // that fails to start once in many runs). The harness reaches every container by
            // its address on the platform network, so nothing is published unless asked.
            if !publishes {
                host.publish_all_ports = Some(false);
            }
            services::publish_on_loopback(host);
            if confined {
                services::confine(host);
            }
        });
        let container = request.start().await.map_err(|e| Error::Start {
            service: role.name.clone(),
            container: self.ctx.container_name(&role.name),
            source: Box::new(e),
        })?;
        let ip = match container_ip(self.docker, container.id(), &role.network).await {
            Ok(ip) => ip,
            // A container that exited at once has no address: say so, with its output.
            Err(e) if !super::docker_ops::is_running(self.docker, container.id()).await => {
                return Err(Error::NotReady {
                    service: role.name.clone(),
                    container: self.ctx.container_name(&role.name),
                    timeout_s: 0,
                    last_error: format!("the container exited at start ({e})"),
                    logs: super::docker_ops::logs_tail(self.docker, container.id(), 20).await,
                });
            }
            Err(e) => return Err(e),
        };
        Ok((role.name, container, ip))
    }

    /// Starts every container; those that started are in `started` whatever the outcome.
    pub(crate) async fn run(&self, started: &mut Started) -> Result<Endpoints> {
        let ctx = self.ctx;
        create_network(self.docker, ctx, &ctx.network).await?;
        let mut stateful = vec!["postgres", "redis", "kafka"];
        if self.topology.postgres_standby {
            stateful.push("postgres-standby");
        }
        for role in stateful {
            create_volume(self.docker, ctx, &ctx.volume_name(role)).await?;
        }
        let proxy_then_kafka = async {
            let proxy = self
                .launch(Service::FaultProxy, "faultproxy", vec![])
                .await?;
            let advertised = SocketAddr::new(proxy.2, ports::KAFKA_LINK).to_string();
            let kafka = self
                .launch(Service::Kafka, "kafka", services::kafka_env(&advertised))
                .await;
            Ok::<_, Error>((proxy, kafka))
        };
        let (proxy_kafka, postgres, redis, mock_ctp) = tokio::join!(
            proxy_then_kafka,
            self.launch(Service::Postgres, "postgres", vec![]),
            self.launch(Service::Redis, "redis", vec![]),
            self.launch_role(
                self.outside(Service::MockCtp, "mock-ctp", &ctx.exchange_network),
                services::mock_ctp_env(ctx, self.topology.ctp_orders_per_second),
                None
            ),
        );
        let mut ips = HashMap::new();
        let mut first_error = None;
        let mut keep = |launched: Result<Launched>| match launched {
            Ok((role, container, ip)) => {
                ips.insert(role.clone(), ip);
                started.push((role, container));
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
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
        keep(mock_ctp);
        if let Some(error) = first_error {
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
            let (role, container, ip) = self
                .launch(Service::Postgres, "postgres-standby", env)
                .await?;
            ips.insert(role.clone(), ip);
            started.push((role, container));
        }
        let mut endpoints = endpoints(ctx, &ips, Dc::Dc1, self.topology.postgres_standby);
        self.wait_all_ready(&endpoints).await?;
        proxies::create(&endpoints.faultproxy_api, &links(ctx, Dc::Dc1)).await?;
        if let Some(spec) = &self.topology.engine {
            endpoints.engine = Some(
                self.start_engine(Dc::Dc1, spec, &endpoints, started)
                    .await?,
            );
        }
        Ok(endpoints)
    }

    /// Starts datacenter `dc`'s engine once its dependencies answer, waits until it is ready
    /// (logged in at the CTP front and reconciled; a standby: started) and checks its pinning.
    pub(crate) async fn start_engine(
        &self,
        dc: Dc,
        spec: &EngineSpec,
        endpoints: &Endpoints,
        started: &mut Started,
    ) -> Result<EngineEndpoint> {
        let (role, container, ip, cpus) = self.launch_engine(dc, spec, endpoints).await?;
        started.push((role.clone(), container));
        self.engine_ready(&role, ip, spec, &cpus).await
    }

    /// Starts datacenter `dc`'s engine container, pinned, without waiting for it.
    pub(crate) async fn launch_engine(
        &self,
        dc: Dc,
        spec: &EngineSpec,
        endpoints: &Endpoints,
    ) -> Result<(String, ContainerAsync<GenericImage>, IpAddr, String)> {
        let cpus = spec.cpuset();
        let engine_id = format!("{dc}-engine-1");
        let env = engine::env(
            self.ctx,
            endpoints,
            spec,
            &engine_id,
            dc,
            &self.fence_peers(dc),
        );
        let role = self.in_dc(dc, Service::Engine, "engine");
        let (role, container, ip) = self.launch_role(role, env, Some(cpus.clone())).await?;
        Ok((role, container, ip, cpus))
    }

    /// Waits for a started engine's probe (`/ready`, a standby's `/startup`) and checks its
    /// pinning from inside its container.
    pub(crate) async fn engine_ready(
        &self,
        role: &str,
        ip: IpAddr,
        spec: &EngineSpec,
        cpus: &str,
    ) -> Result<EngineEndpoint> {
        let cpus = cpus.to_string();
        let http = SocketAddr::new(ip, ports::ENGINE_HTTP);
        // A standby is never ready before its promotion: it is up once it has started.
        let probe = match spec.role {
            EngineRole::Active => "ready",
            EngineRole::Standby => "startup",
        };
        self.wait_ready(
            role,
            &Probe::Http {
                url: format!("http://{http}/{probe}"),
            },
        )
        .await?;
        let container = self.ctx.container_name(role);
        engine::verify_pinning(self.docker, &container, &cpus).await?;
        let security = engine::verify_security(self.docker, &container).await?;
        if !security.is_least_privilege() {
            tracing::warn!(role, shortfalls = ?security.shortfalls(), "the engine does not run with least privilege");
        }
        let version = engine::reported_version(http).await;
        Ok(EngineEndpoint {
            grpc: SocketAddr::new(ip, ports::ENGINE_GRPC),
            http,
            cpus,
            role: spec.role,
            security,
            version,
            admin_token: self.ctx.admin_token.clone(),
        })
    }

    async fn wait_all_ready(&self, endpoints: &Endpoints) -> Result<()> {
        let mut roles = vec!["faultproxy", "postgres", "redis", "kafka", "mock-ctp"];
        if endpoints.postgres_standby.is_some() {
            roles.push("postgres-standby");
        }
        let probes: Vec<(&str, Probe)> = roles
            .into_iter()
            .filter_map(|role| Some((role, probe_for(endpoints, role)?)))
            .collect();
        let waits = probes
            .iter()
            .map(|(role, probe)| self.wait_ready(role, probe));
        futures::future::try_join_all(waits).await.map(|_| ())
    }

    pub(crate) async fn wait_ready(&self, role: &str, probe: &Probe) -> Result<()> {
        let container = self.ctx.container_name(role);
        let timeout = service_of_role(role)
            .and_then(|service| self.readiness_of.get(&service).copied())
            .unwrap_or(self.readiness_timeout);
        wait_service_ready(self.docker, role, &container, probe, timeout)
            .await
            .map(|_| ())
    }
}

/// The service a container role runs (`dc2-postgres`, `postgres-standby`: postgres; the
/// inter-DC line: the fault proxy).
fn service_of_role(role: &str) -> Option<Service> {
    let base = role.strip_prefix("dc2-").unwrap_or(role);
    let base = match base {
        "postgres-standby" => "postgres",
        super::second_dc::LINE => "faultproxy",
        other => other,
    };
    Service::ALL.into_iter().find(|s| s.name() == base)
}

/// One link per engine→service path of datacenter `dc`, named after the service; the CTP
/// links lead to the mock front, outside every datacenter.
pub(crate) fn links(ctx: &RunContext, dc: Dc) -> Vec<Link> {
    let link = |name: &str, listen_port: u16, role: String, port: u16| Link {
        name: name.into(),
        listen_port,
        upstream: format!("{}:{port}", ctx.container_name(&role)),
    };
    let local = |service: &str| dc.role_name(service);
    vec![
        link(
            "postgres",
            ports::POSTGRES_LINK,
            local("postgres"),
            ports::POSTGRES,
        ),
        link("redis", ports::REDIS_LINK, local("redis"), ports::REDIS),
        link("kafka", ports::KAFKA_LINK, local("kafka"), ports::KAFKA),
        link(
            "ctp-trade",
            ports::CTP_TRADE_LINK,
            "mock-ctp".into(),
            ports::CTP_TRADE,
        ),
        link(
            "ctp-md",
            ports::CTP_MD_LINK,
            "mock-ctp".into(),
            ports::CTP_MD,
        ),
    ]
}

/// Datacenter `dc`'s endpoints from the addresses of the containers (by role name).
pub(crate) fn endpoints(
    ctx: &RunContext,
    ips: &HashMap<String, IpAddr>,
    dc: Dc,
    postgres_standby: bool,
) -> Endpoints {
    let local = |service: &str| dc.role_name(service);
    let proxy_ip = ips[&local("faultproxy")];
    let proxy_name = ctx.container_name(&local("faultproxy"));
    let endpoint = |link: &str, role: &str, port: u16, link_port: u16| Endpoint {
        direct: SocketAddr::new(ips[role], port),
        proxied: SocketAddr::new(proxy_ip, link_port),
        in_network: format!("{proxy_name}:{link_port}"),
        link: link.into(),
    };
    let postgres = |role: &str| PostgresEndpoint {
        endpoint: endpoint("postgres", role, ports::POSTGRES, ports::POSTGRES_LINK),
        user: ctx.postgres_user.clone(),
        password: ctx.postgres_password.clone(),
        database: ctx.postgres_db.clone(),
    };
    let standby = postgres_standby.then(|| {
        let mut standby = postgres("postgres-standby");
        // No engine link leads to the standby yet: its proxied address is itself.
        standby.endpoint.proxied = standby.endpoint.direct;
        standby.endpoint.in_network = format!(
            "{}:{}",
            ctx.container_name("postgres-standby"),
            ports::POSTGRES
        );
        standby.endpoint.link = String::new();
        standby
    });
    Endpoints {
        dc,
        network: ctx.network_of(dc).to_string(),
        postgres: postgres(&local("postgres")),
        postgres_standby: standby,
        redis: endpoint("redis", &local("redis"), ports::REDIS, ports::REDIS_LINK),
        kafka: endpoint("kafka", &local("kafka"), ports::KAFKA, ports::KAFKA_LINK),
        faultproxy_api: format!(
            "http://{}",
            SocketAddr::new(proxy_ip, ports::FAULTPROXY_API)
        ),
        mock_ctp: MockCtpEndpoint {
            trade: endpoint(
                "ctp-trade",
                "mock-ctp",
                ports::CTP_TRADE,
                ports::CTP_TRADE_LINK,
            ),
            md: endpoint("ctp-md", "mock-ctp", ports::CTP_MD, ports::CTP_MD_LINK),
            admin: format!(
                "http://{}",
                SocketAddr::new(ips["mock-ctp"], ports::MOCK_CTP_ADMIN)
            ),
            admin_token: ctx.admin_token.clone(),
            password: ctx.ctp_password.clone(),
            auth_code: ctx.ctp_auth_code.clone(),
        },
        engine: None,
    }
}
