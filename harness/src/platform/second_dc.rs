//! Launching the two-datacenter topology. Three networks (dc1, dc2, and the exchange where the
//! mock CTP front lives); each datacenter's fault proxy sits on its own network and on the
//! exchange's, so its engine reaches the front through it; the inter-DC line is one more fault
//! proxy on both datacenters' networks, and dc2's PostgreSQL streams from dc1's through it.
//!
//! Order: every container but the engines starts at once (dc2's standby retries its base
//! backup until the line's link exists); then readiness of all but the standby; then the links
//! (both datacenters' and the line's); then the standby's readiness and its streaming as the
//! replication mode asks; then both engines at once (dc1 active, dc2 standby). The engines come
//! last because under `sync` nothing commits on dc1 until dc2 streams.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::containers::attach;
use super::datacenter::{Dc, Replication};
use super::docker_ops::{create_network, create_volume};
use super::endpoints::{Endpoints, LineEndpoint};
use super::launch::{endpoints, links, Launch, Launched, Started};
use super::proxies::{self, Link};
use super::readiness::Probe;
use super::replication::{self, STANDBY_NAME};
use super::services::{self, ports, Role};
use super::targets::probe_for;
use super::topology::SecondDc;
use crate::error::{Error, Result};
use crate::images::Service;

/// The container role of the inter-DC line's fault proxy.
pub(crate) const LINE: &str = "interdc";
/// The line's link that carries replication from dc1's PostgreSQL to dc2's.
pub(crate) const REPLICATION_LINK: &str = "postgres-replication";

/// The line's link that carries dc1's reads of dc2's PostgreSQL (its engine's site fence).
pub(crate) const DC2_POSTGRES_LINK: &str = "postgres-dc2";

/// What a two-datacenter launch returns: each datacenter's endpoints and the line's.
pub(crate) struct TwoDc {
    pub dc1: Endpoints,
    pub dc2: Endpoints,
    pub line: LineEndpoint,
}

impl Launch<'_> {
    /// Where datacenter `dc`'s engine reads the other sites' fencing tokens: the other site's
    /// PostgreSQL across the inter-DC line; none in a single datacenter.
    pub(crate) fn fence_peers(&self, dc: Dc) -> Vec<String> {
        if self.ctx.dc2_network.is_none() {
            return Vec::new();
        }
        let line = self.ctx.container_name(LINE);
        let port = match dc {
            Dc::Dc1 => ports::DC2_POSTGRES_LINK,
            Dc::Dc2 => ports::REPLICATION_LINK,
        };
        vec![format!("{line}:{port}")]
    }

    /// A container outside every datacenter (the mock CTP front, the inter-DC line).
    pub(crate) fn outside(&self, service: Service, name: &str, network: &str) -> Role {
        Role {
            service,
            name: name.into(),
            network: network.into(),
            dc: None,
        }
    }

    /// One datacenter's fault proxy (joined to the exchange network), then its Kafka, which
    /// advertises the proxy's address.
    async fn proxy_then_kafka(&self, dc: Dc) -> Vec<Result<Launched>> {
        let proxy = match self
            .launch_role(
                self.in_dc(dc, Service::FaultProxy, "faultproxy"),
                vec![],
                None,
            )
            .await
        {
            Ok(proxy) => proxy,
            Err(e) => return vec![Err(e)],
        };
        let name = self.ctx.container_name(&proxy.0);
        if let Err(e) = attach(self.docker, &name, &self.ctx.exchange_network).await {
            return vec![Ok(proxy), Err(e)];
        }
        let advertised = SocketAddr::new(proxy.2, ports::KAFKA_LINK).to_string();
        let kafka = self
            .launch_role(
                self.in_dc(dc, Service::Kafka, "kafka"),
                services::kafka_env(&advertised),
                None,
            )
            .await;
        vec![Ok(proxy), kafka]
    }

    /// The inter-DC line: a fault proxy on dc1's network, joined to dc2's.
    async fn line(&self) -> Vec<Result<Launched>> {
        let dc2 = self.ctx.network_of(Dc::Dc2).to_string();
        let line = match self
            .launch_role(
                self.outside(Service::FaultProxy, LINE, &self.ctx.network),
                vec![],
                None,
            )
            .await
        {
            Ok(line) => line,
            Err(e) => return vec![Err(e)],
        };
        match attach(self.docker, &self.ctx.container_name(LINE), &dc2).await {
            Ok(()) => vec![Ok(line)],
            Err(e) => vec![Ok(line), Err(e)],
        }
    }

    fn primary_env(mode: Replication) -> Vec<(String, String)> {
        match mode {
            Replication::Sync => vec![
                ("PG_SYNC_STANDBY".into(), STANDBY_NAME.into()),
                ("PG_SYNCHRONOUS_COMMIT".into(), "remote_apply".into()),
            ],
            Replication::Async => vec![],
        }
    }

    fn standby_env(&self) -> Vec<(String, String)> {
        vec![
            ("PG_ROLE".into(), "standby".into()),
            ("PG_PRIMARY_HOST".into(), self.ctx.container_name(LINE)),
            (
                "PG_PRIMARY_PORT".into(),
                ports::REPLICATION_LINK.to_string(),
            ),
            ("PG_APPLICATION_NAME".into(), STANDBY_NAME.into()),
        ]
    }

    /// Starts both datacenters; the containers that started are in `started` whatever the
    /// outcome.
    pub(crate) async fn run_two_dc(&self, dr: &SecondDc, started: &mut Started) -> Result<TwoDc> {
        let ctx = self.ctx;
        let dc2_network = ctx.network_of(Dc::Dc2).to_string();
        for network in [&ctx.network, &dc2_network, &ctx.exchange_network] {
            create_network(self.docker, ctx, network).await?;
        }
        for dc in Dc::ALL {
            for service in ["postgres", "redis", "kafka"] {
                create_volume(self.docker, ctx, &ctx.volume_name(&dc.role_name(service))).await?;
            }
        }
        let one = |launched: Result<Launched>| vec![launched];
        let (dc1_pk, dc2_pk, line, primary, standby, dc1_redis, dc2_redis, mock_ctp) = tokio::join!(
            self.proxy_then_kafka(Dc::Dc1),
            self.proxy_then_kafka(Dc::Dc2),
            self.line(),
            async {
                let role = self.in_dc(Dc::Dc1, Service::Postgres, "postgres");
                one(self
                    .launch_role(role, Self::primary_env(dr.replication), None)
                    .await)
            },
            async {
                let role = self.in_dc(Dc::Dc2, Service::Postgres, "postgres");
                one(self.launch_role(role, self.standby_env(), None).await)
            },
            async {
                let role = self.in_dc(Dc::Dc1, Service::Redis, "redis");
                one(self.launch_role(role, vec![], None).await)
            },
            async {
                let role = self.in_dc(Dc::Dc2, Service::Redis, "redis");
                one(self.launch_role(role, vec![], None).await)
            },
            async {
                let role = self.outside(Service::MockCtp, "mock-ctp", &ctx.exchange_network);
                one(self
                    .launch_role(
                        role,
                        services::mock_ctp_env(ctx, self.topology.ctp_orders_per_second),
                        None,
                    )
                    .await)
            },
        );
        let mut ips = HashMap::new();
        let mut first_error = None;
        for launched in [
            dc1_pk, dc2_pk, line, primary, standby, dc1_redis, dc2_redis, mock_ctp,
        ]
        .into_iter()
        .flatten()
        {
            match launched {
                Ok((role, container, ip)) => {
                    ips.insert(role.clone(), ip);
                    started.push((role, container));
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        let mut dc1 = endpoints(ctx, &ips, Dc::Dc1, false);
        let mut dc2 = endpoints(ctx, &ips, Dc::Dc2, false);
        let line = LineEndpoint {
            api: format!(
                "http://{}",
                SocketAddr::new(ips[LINE], ports::FAULTPROXY_API)
            ),
            replication_link: REPLICATION_LINK.into(),
            peer_link: DC2_POSTGRES_LINK.into(),
            replication: dr.replication,
            latency_ms: dr.line_latency_ms,
        };

        let mut probes = vec![
            (
                LINE.to_string(),
                Probe::FaultProxy {
                    api: line.api.clone(),
                },
            ),
            ("mock-ctp".to_string(), probe_of(&dc1, "mock-ctp")?),
        ];
        for (dc, eps) in [(Dc::Dc1, &dc1), (Dc::Dc2, &dc2)] {
            for service in ["faultproxy", "postgres", "redis", "kafka"] {
                // dc2's PostgreSQL cannot answer before the line's link exists.
                if dc == Dc::Dc2 && service == "postgres" {
                    continue;
                }
                probes.push((dc.role_name(service), probe_of(eps, service)?));
            }
        }
        let waits = probes
            .iter()
            .map(|(role, probe)| self.wait_ready(role, probe));
        futures::future::try_join_all(waits).await?;

        proxies::create(&dc1.faultproxy_api, &links(ctx, Dc::Dc1)).await?;
        proxies::create(&dc2.faultproxy_api, &links(ctx, Dc::Dc2)).await?;
        let replication_link = Link {
            name: REPLICATION_LINK.into(),
            listen_port: ports::REPLICATION_LINK,
            upstream: format!("{}:{}", ctx.container_name("postgres"), ports::POSTGRES),
        };
        let dc2_postgres_link = Link {
            name: DC2_POSTGRES_LINK.into(),
            listen_port: ports::DC2_POSTGRES_LINK,
            upstream: format!(
                "{}:{}",
                ctx.container_name(&Dc::Dc2.role_name("postgres")),
                ports::POSTGRES
            ),
        };
        proxies::create(&line.api, &[replication_link, dc2_postgres_link]).await?;
        if dr.line_latency_ms > 0 {
            for link in [REPLICATION_LINK, DC2_POSTGRES_LINK] {
                proxies::base_latency(&line.api, link, dr.line_latency_ms).await?;
            }
        }

        self.wait_ready(&Dc::Dc2.role_name("postgres"), &probe_of(&dc2, "postgres")?)
            .await?;
        let took = replication::wait_streaming(
            &dc1.postgres.connection_string(false),
            dr.replication,
            self.readiness_timeout,
        )
        .await?;
        tracing::info!(mode = %dr.replication, ?took, "dc2 streams from dc1");

        let dc1_engine = async {
            match &self.topology.engine {
                Some(spec) => self.launch_engine(Dc::Dc1, spec, &dc1).await.map(Some),
                None => Ok(None),
            }
        };
        let dc2_engine = async {
            match &dr.engine {
                Some(spec) => self.launch_engine(Dc::Dc2, spec, &dc2).await.map(Some),
                None => Ok(None),
            }
        };
        let (dc1_engine, dc2_engine) = tokio::join!(dc1_engine, dc2_engine);
        let mut launched = Vec::new();
        let mut first_error = None;
        for (dc, engine) in [(Dc::Dc1, dc1_engine), (Dc::Dc2, dc2_engine)] {
            match engine {
                Ok(Some((role, container, ip, cpus))) => {
                    started.push((role.clone(), container));
                    launched.push((dc, role, ip, cpus));
                }
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        let readies = launched.iter().map(|(dc, role, ip, cpus)| async move {
            let spec = match dc {
                Dc::Dc1 => self.topology.engine.as_ref(),
                Dc::Dc2 => dr.engine.as_ref(),
            }
            .expect("a launched engine has its spec");
            self.engine_ready(role, *ip, spec, cpus)
                .await
                .map(|endpoint| (*dc, endpoint))
        });
        for (dc, endpoint) in futures::future::try_join_all(readies).await? {
            match dc {
                Dc::Dc1 => dc1.engine = Some(endpoint),
                Dc::Dc2 => dc2.engine = Some(endpoint),
            }
        }
        Ok(TwoDc { dc1, dc2, line })
    }
}

fn probe_of(endpoints: &Endpoints, service: &str) -> Result<Probe> {
    probe_for(endpoints, service)
        .ok_or_else(|| Error::config("topology", format!("no readiness probe for {service}")))
}
