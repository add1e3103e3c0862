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
use crate::platform::{targets, Dc, LineEndpoint, Role};
use crate::{Endpoints, Platform};

#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub endpoints: Endpoints,
    /// Container name by service role.
    pub containers: BTreeMap<String, String>,
    /// The network each role's container was started on.
    pub networks: BTreeMap<String, String>,
    /// Every datacenter's endpoints (dc1's are `endpoints`).
    pub sites: BTreeMap<Dc, Endpoints>,
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
        let networks = platform
            .services()
            .into_iter()
            .map(|role| (role.clone(), platform.network_of(&role)))
            .collect();
        let sites = platform
            .datacenters()
            .into_iter()
            .filter_map(|dc| Some((dc, platform.datacenter(dc)?.clone())))
            .collect();
        let endpoints = platform.endpoints().clone();
        Self {
            networks,
            sites,
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
        .chain(self.line_links())
        .collect()
    }

    /// The inter-DC line's links and their proxied addresses (none in one datacenter).
    pub(crate) fn line_links(&self) -> Vec<(String, SocketAddr)> {
        let Some((line, _)) = &self.line else {
            return Vec::new();
        };
        let Ok(api) = line.api.trim_start_matches("http://").parse::<SocketAddr>() else {
            return Vec::new();
        };
        vec![
            (
                line.replication_link.clone(),
                SocketAddr::new(api.ip(), crate::platform::REPLICATION_LINK_PORT),
            ),
            (
                line.peer_link.clone(),
                SocketAddr::new(api.ip(), crate::platform::DC2_POSTGRES_LINK_PORT),
            ),
        ]
    }

    /// The faults that cut the inter-DC line: each of its links down (none in one datacenter).
    pub(crate) fn line_cut(&self) -> Vec<super::Fault> {
        self.line_links()
            .into_iter()
            .map(|(link, _)| super::Fault::Down { link })
            .collect()
    }

    /// The client of the proxy that holds `link`: the line's for its replication link, the
    /// datacenter's fault proxy for every other.
    pub(crate) fn proxy_of(&self, link: &str) -> &ToxiproxyClient {
        match &self.line {
            Some((line, client)) if line.replication_link == link || line.peer_link == link => {
                client
            }
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

    /// The container role a fault names, typed (`dc2/engine`) or as the role itself
    /// (`dc2-engine`, `engine`).
    pub(crate) fn role_name(&self, service: &str) -> Result<String> {
        if !service.contains('/') {
            return Ok(service.to_string());
        }
        service
            .parse::<Role>()
            .map(Role::container_role)
            .map_err(|e| FaultError::UnknownService {
                service: service.into(),
                known: format!(
                    "{e}; the platform has {}",
                    self.catalogue().services.join(", ")
                ),
            })
    }

    fn unknown(&self, service: &str) -> FaultError {
        FaultError::UnknownService {
            service: service.into(),
            known: self.catalogue().services.join(", "),
        }
    }

    pub(crate) fn container(&self, service: &str) -> Result<&str> {
        let role = self.role_name(service)?;
        self.containers
            .get(&role)
            .map(String::as_str)
            .ok_or_else(|| self.unknown(service))
    }

    /// The datacenter endpoints a role belongs to (the mock CTP front and the line: dc1's,
    /// which reach them as well) and the role's name inside its datacenter.
    fn site_of(&self, service: &str) -> Result<(&Endpoints, String)> {
        let role = self.role_name(service)?;
        match role.strip_prefix("dc2-") {
            Some(base) => self
                .sites
                .get(&Dc::Dc2)
                .map(|site| (site, base.to_string()))
                .ok_or_else(|| self.unknown(service)),
            None => Ok((&self.endpoints, role)),
        }
    }

    /// The service's address and main port on its network.
    pub(crate) fn service_address(&self, service: &str) -> Result<SocketAddr> {
        let (site, base) = self.site_of(service)?;
        if base == crate::platform::LINE_ROLE {
            if let Some((line, _)) = &self.line {
                return line
                    .api
                    .trim_start_matches("http://")
                    .parse()
                    .map_err(|_| self.unknown(service));
            }
        }
        targets::address_of(site, &base).ok_or_else(|| self.unknown(service))
    }

    /// The network the service's container was started on.
    pub(crate) fn network_of(&self, service: &str) -> Result<&str> {
        let role = self.role_name(service)?;
        self.networks
            .get(&role)
            .map(String::as_str)
            .ok_or_else(|| self.unknown(service))
    }

    /// The fault proxy client of a fault proxy role (`faultproxy`, `dc2-faultproxy`,
    /// `interdc`), for its links' snapshot and restore; `None` for any other role.
    pub(crate) fn proxy_client_of(&self, service: &str) -> Result<Option<ToxiproxyClient>> {
        let (site, base) = self.site_of(service)?;
        Ok(match base.as_str() {
            "faultproxy" => Some(ToxiproxyClient::new(site.faultproxy_api.clone())),
            crate::platform::LINE_ROLE => self.line.as_ref().map(|(_, client)| client.clone()),
            _ => None,
        })
    }

    /// The roles of datacenter `dc`'s containers, in kill order (the engine first, its fault
    /// proxy last), so that a heal in reverse order starts each before what depends on it.
    pub(crate) fn roles_in(&self, dc: Dc) -> Vec<String> {
        crate::platform::site_roles(dc)
            .into_iter()
            .filter(|role| self.containers.contains_key(role))
            .collect()
    }

    pub(crate) async fn docker(&self) -> Result<Docker> {
        Ok(crate::docker::client().await?)
    }

    /// Waits until `service` answers its readiness probe.
    pub(crate) async fn wait_ready(&self, docker: &Docker, service: &str) -> Result<Duration> {
        let container = self.container(service)?;
        let (site, base) = self.site_of(service)?;
        let mut site = site.clone();
        if base == crate::platform::LINE_ROLE {
            // The line is a fault proxy: probe its API as the datacenter's would be.
            if let Some((line, _)) = &self.line {
                site.faultproxy_api = line.api.clone();
            }
            return Ok(targets::wait_role_ready(
                docker,
                &site,
                "faultproxy",
                container,
                self.readiness_timeout,
            )
            .await?);
        }
        Ok(
            targets::wait_role_ready(docker, &site, &base, container, self.readiness_timeout)
                .await?,
        )
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}
