//! What injecting and healing need from a running platform, as owned data: endpoints, the
//! container of each service, the run's network, the fault proxy's and the mock CTP front's
//! API clients, and in two datacenters the inter-DC line's proxy, whose link
//! (`postgres-replication`) the network faults act on like any other. Owned, so that the nemesis's drop fallback can heal from a thread and runtime
//! of its own: [`Context::rebuilt`] makes fresh HTTP clients there, and Docker is reached by a
//! fresh client for each operation.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use testcontainers::bollard::Docker;

use super::error::{FaultError, Result};
use super::spec::Catalogue;
use super::toxiproxy::ToxiproxyClient;
use crate::platform::{targets, LineEndpoint};
use crate::{Endpoints, Platform};

#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub endpoints: Endpoints,
    /// Container name by service role.
    pub containers: BTreeMap<String, String>,
    pub proxy: ToxiproxyClient,
    /// The inter-DC line and its proxy's client, in a two-datacenter platform.
    pub line: Option<(LineEndpoint, ToxiproxyClient)>,
    pub http: reqwest::Client,
    pub readiness_timeout: Duration,
}

impl Context {
    pub(crate) fn of(platform: &Platform, readiness_timeout: Duration) -> Self {
        let containers = platform
            .services()
            .into_iter()
            .filter_map(|role| Some((role.clone(), platform.container_of(&role)?)))
            .collect();
        let endpoints = platform.endpoints().clone();
        Self {
            proxy: ToxiproxyClient::new(endpoints.faultproxy_api.clone()),
            line: platform
                .line()
                .map(|line| (line.clone(), ToxiproxyClient::new(line.api.clone()))),
            endpoints,
            containers,
            http: http_client(),
            readiness_timeout,
        }
    }

    /// The same context with new HTTP clients, for another runtime.
    pub(crate) fn rebuilt(&self) -> Self {
        Self {
            proxy: ToxiproxyClient::new(self.endpoints.faultproxy_api.clone()),
            line: self
                .line
                .as_ref()
                .map(|(line, _)| (line.clone(), ToxiproxyClient::new(line.api.clone()))),
            http: http_client(),
            ..self.clone()
        }
    }

    pub(crate) fn catalogue(&self) -> Catalogue {
        Catalogue {
            links: self.links().into_keys().collect(),
            services: self.containers.keys().cloned().collect(),
        }
    }

    /// Each link's proxied address, as the harness reaches it.
    pub(crate) fn links(&self) -> BTreeMap<String, SocketAddr> {
        let e = &self.endpoints;
        [
            &e.postgres.endpoint,
            &e.redis,
            &e.kafka,
            &e.mock_ctp.trade,
            &e.mock_ctp.md,
        ]
        .into_iter()
        .filter(|endpoint| !endpoint.link.is_empty())
        .map(|endpoint| (endpoint.link.clone(), endpoint.proxied))
        .chain(self.line.as_ref().and_then(|(line, _)| {
            let api: SocketAddr = line.api.trim_start_matches("http://").parse().ok()?;
            let port = crate::platform::REPLICATION_LINK_PORT;
            Some((
                line.replication_link.clone(),
                SocketAddr::new(api.ip(), port),
            ))
        }))
        .collect()
    }

    /// The client of the proxy that holds `link`: the line's for its replication link, the
    /// datacenter's fault proxy for every other.
    pub(crate) fn proxy_of(&self, link: &str) -> &ToxiproxyClient {
        match &self.line {
            Some((line, client)) if line.replication_link == link => client,
            _ => &self.proxy,
        }
    }

    pub(crate) fn link_address(&self, link: &str) -> Result<SocketAddr> {
        self.links()
            .get(link)
            .copied()
            .ok_or_else(|| FaultError::UnknownLink {
                link: link.into(),
                known: format!("links {}", self.catalogue().links.join(", ")),
            })
    }

    pub(crate) fn container(&self, service: &str) -> Result<&str> {
        self.containers
            .get(service)
            .map(String::as_str)
            .ok_or_else(|| FaultError::UnknownService {
                service: service.into(),
                known: self.catalogue().services.join(", "),
            })
    }

    /// The service's address and main port on the platform network.
    pub(crate) fn service_address(&self, service: &str) -> Result<SocketAddr> {
        targets::address_of(&self.endpoints, service).ok_or_else(|| FaultError::UnknownService {
            service: service.into(),
            known: self.catalogue().services.join(", "),
        })
    }

    pub(crate) fn network(&self) -> &str {
        &self.endpoints.network
    }

    pub(crate) async fn docker(&self) -> Result<Docker> {
        Ok(crate::docker::client().await?)
    }

    /// Waits until `service` answers its readiness probe.
    pub(crate) async fn wait_ready(&self, docker: &Docker, service: &str) -> Result<Duration> {
        let container = self.container(service)?;
        Ok(targets::wait_role_ready(
            docker,
            &self.endpoints,
            service,
            container,
            self.readiness_timeout,
        )
        .await?)
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}
