//! The platform under test, started through testcontainers on its own labelled Docker network:
//! PostgreSQL, Redis, Kafka and the fault proxy with one link per engine→service path.
//! `Platform::builder()…start()` returns an RAII handle with an explicit async `shutdown`;
//! dropping it removes everything too, as a fallback.

mod builder;
pub(crate) mod containers;
mod docker_ops;
mod endpoints;
mod engine;
mod handle;
mod labels;
mod launch;
mod proxies;
mod readiness;
mod services;
mod signals;
mod sweep;
pub(crate) mod targets;
mod topology;

pub use builder::PlatformBuilder;
pub use endpoints::{Endpoint, Endpoints, EngineEndpoint, MockCtpEndpoint, PostgresEndpoint};
pub use engine::{EngineRole, EngineSpec};
pub use handle::Platform;
pub use sweep::{resources_of_run, sweep_dead_runs};
pub use topology::Topology;
