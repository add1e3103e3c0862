//! Topologies the platform can start. One datacenter today; the second datacenter (DR) adds a
//! network and a standby engine on the same pieces, and the PostgreSQL standby already exists.

/// What to start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub(crate) postgres_standby: bool,
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
}
