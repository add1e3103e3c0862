//! The platform under test, started through testcontainers on its own labelled Docker networks:
//! per datacenter PostgreSQL, Redis, Kafka and the fault proxy with one link per
//! engine→service path; the mock CTP front; in two datacenters, the inter-DC line.
//! `Platform::builder()…start()` returns an RAII handle with an explicit async `shutdown`;
//! dropping it removes everything too, as a fallback.

mod builder;
pub(crate) mod containers;
mod datacenter;
mod docker_ops;
mod endpoints;
mod engine;
mod handle;
mod labels;
mod launch;
mod promote;
mod proxies;
mod readiness;
mod rejoin;
mod replication;
mod second_dc;
mod services;
mod signals;
mod sweep;
pub(crate) mod targets;
mod topology;

pub use builder::PlatformBuilder;
pub(crate) use datacenter::site_roles;
pub use datacenter::{Dc, Replication, Role};
pub use endpoints::{
    Endpoint, Endpoints, EngineEndpoint, LineEndpoint, MockCtpEndpoint, PostgresEndpoint,
};
pub use engine::{EngineRole, EngineSpec, SecurityContext};
pub use handle::Platform;
pub use rejoin::Rejoined;
pub use replication::{status as replication_status, wait_replayed, ReplicationStatus};
pub(crate) use second_dc::LINE as LINE_ROLE;
pub(crate) use services::ports::DC2_POSTGRES_LINK as DC2_POSTGRES_LINK_PORT;
pub(crate) use services::ports::REPLICATION_LINK as REPLICATION_LINK_PORT;
pub use sweep::{resources_of_run, sweep_dead_runs};
pub use topology::{Topology, DEFAULT_CTP_ORDERS_PER_SECOND, DEFAULT_LINE_LATENCY_MS};
