//! Where the platform's services answer: directly (the container's address, which the harness
//! uses for its verdicts) and through their fault proxy (the path the engine takes, and the
//! one faults act on).

use std::net::SocketAddr;

use serde::Serialize;

use super::datacenter::{Dc, Replication};

/// One service's addresses as seen from the harness.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// The service itself, bypassing the proxy.
    pub direct: SocketAddr,
    /// The service through its link in the fault proxy.
    pub proxied: SocketAddr,
    /// The proxied address as containers on the platform's network reach it (`name:port`).
    pub in_network: String,
    /// The proxy (link) name in the fault proxy's API.
    pub link: String,
}

/// PostgreSQL's addresses and credentials.
#[derive(Debug, Clone, Serialize)]
pub struct PostgresEndpoint {
    pub endpoint: Endpoint,
    pub user: String,
    #[serde(skip_serializing)]
    pub password: String,
    pub database: String,
}

impl PostgresEndpoint {
    /// A libpq-style connection string for tokio-postgres, direct or through the proxy.
    pub fn connection_string(&self, proxied: bool) -> String {
        let addr = if proxied {
            self.endpoint.proxied
        } else {
            self.endpoint.direct
        };
        self.connection_string_at(&addr.ip().to_string(), addr.port())
    }

    /// The same database reached at `host:port` (another proxy in front of it, such as the
    /// inter-DC line's).
    pub fn connection_string_at(&self, host: &str, port: u16) -> String {
        format!(
            "host={host} port={port} user={} password={} dbname={} connect_timeout=5",
            self.user, self.password, self.database
        )
    }
}

/// Every endpoint of one datacenter of a started platform (the mock CTP front as that
/// datacenter's engine reaches it, through that datacenter's fault proxy).
#[derive(Debug, Clone, Serialize)]
pub struct Endpoints {
    /// The datacenter these endpoints are in.
    pub dc: Dc,
    /// The Docker network of the datacenter.
    pub network: String,
    pub postgres: PostgresEndpoint,
    /// A streaming standby of `postgres`, when the topology has one (`direct` only; its
    /// `proxied` is the same address because no engine link leads to it yet).
    pub postgres_standby: Option<PostgresEndpoint>,
    pub redis: Endpoint,
    /// Kafka. Clients follow the broker's advertised listener, which is the proxied address:
    /// the only one that both the engine (through its proxy) and the harness can reach. So a
    /// Kafka client bootstrapping on `direct` still produces and fetches through the proxy;
    /// the harness reads Kafka after faults are healed, when the proxy is transparent.
    pub kafka: Endpoint,
    /// The fault proxy's Toxiproxy HTTP API, e.g. `http://172.18.0.2:8474`.
    pub faultproxy_api: String,
    /// The mock CTP front: trade and market-data fronts (links `ctp-trade`, `ctp-md`) and its
    /// admin API (faults, and the exchange's record of every order and trade).
    pub mock_ctp: MockCtpEndpoint,
    /// The trading engine, when the topology has one.
    pub engine: Option<EngineEndpoint>,
}

/// The trading engine's addresses.
#[derive(Debug, Clone, Serialize)]
pub struct EngineEndpoint {
    /// gRPC order entry (`trading.v1`).
    pub grpc: SocketAddr,
    /// HTTP probes, metrics and admin routes.
    pub http: SocketAddr,
    /// The cpuset the engine is pinned to (checked from inside the container).
    pub cpus: String,
    /// The role it was started in: its readiness is `/ready` when active, `/startup` when a
    /// standby (which is never ready before its promotion).
    pub role: super::engine::EngineRole,
    /// Its process's security context, read from inside the container at start.
    pub security: super::engine::SecurityContext,
    /// The version it reports (`/role`'s `version`), read at start; none if it does not say.
    pub version: Option<String>,
    /// Bearer token of the admin routes.
    #[serde(skip_serializing)]
    pub admin_token: String,
}

/// The mock CTP front's addresses.
#[derive(Debug, Clone, Serialize)]
pub struct MockCtpEndpoint {
    pub trade: Endpoint,
    pub md: Endpoint,
    /// The admin API's base URL, e.g. `http://172.18.0.6:8080`.
    pub admin: String,
    /// Bearer token of the admin API.
    #[serde(skip_serializing)]
    pub admin_token: String,
    /// The investors' login password on this front, random per run.
    #[serde(skip_serializing)]
    pub password: String,
    /// The investors' AuthCode (ReqAuthenticate), random per run.
    #[serde(skip_serializing)]
    pub auth_code: String,
}

impl Endpoints {
    /// Redis URL, direct or through the proxy.
    pub fn redis_url(&self, proxied: bool) -> String {
        let addr = if proxied {
            self.redis.proxied
        } else {
            self.redis.direct
        };
        format!("redis://{addr}/")
    }

    /// Kafka bootstrap servers, direct or through the proxy.
    pub fn kafka_bootstrap(&self, proxied: bool) -> String {
        (if proxied {
            self.kafka.proxied
        } else {
            self.kafka.direct
        })
        .to_string()
    }
}

/// The inter-DC line of a two-datacenter platform: a fault proxy on both datacenters'
/// networks through which everything that crosses sites passes (today: dc2's PostgreSQL
/// streaming from dc1's).
#[derive(Debug, Clone, Serialize)]
pub struct LineEndpoint {
    /// The line's Toxiproxy HTTP API.
    pub api: String,
    /// The link carrying PostgreSQL replication from dc1 to dc2.
    pub replication_link: String,
    /// The link carrying dc1's engine's reads of dc2's PostgreSQL (its site fence).
    pub peer_link: String,
    /// How dc1's PostgreSQL replicates to dc2's.
    pub replication: Replication,
    /// The line's own delay each way in ms (a latency toxic on each of its links, both ways).
    pub latency_ms: u32,
}
