//! Topologies the platform can start. One datacenter today; the second datacenter (DR) adds a
//! network and a standby engine on the same pieces, and the PostgreSQL standby already exists.

use super::engine::EngineSpec;

/// What to start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub(crate) postgres_standby: bool,
    pub(crate) engine: Option<EngineSpec>,
}

impl Topology {
    /// One datacenter: postgres, redis, kafka and the fault proxy on one network.
    pub fn single_dc() -> Self {
        Self::default()
    }

    /// Adds a PostgreSQL streaming standby that follows the primary.
    pub fn with_postgres_standby(mut self) -> Self {
        self.postgres_standby = true;
        self
    }

    /// Adds the trading engine (the reference engine, or the image overriding it), pinned to
    /// its cpuset, after every dependency is ready.
    pub fn with_engine(self) -> Self {
        self.with_engine_spec(EngineSpec::default())
    }

    /// Adds the trading engine as `spec` says.
    pub fn with_engine_spec(mut self, spec: EngineSpec) -> Self {
        self.engine = Some(spec);
        self
    }
}
