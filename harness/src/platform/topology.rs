//! Topologies the platform can start: one datacenter (the default of every feature), or two
//! (the DR topology): dc1 with the PostgreSQL primary, Redis, Kafka and the active engine; dc2
//! with a PostgreSQL streaming standby, its own Redis and Kafka and a standby engine; the mock
//! CTP front on an exchange network outside both; PostgreSQL's replication crossing the
//! inter-DC line, a fault proxy of its own.

use super::datacenter::{Dc, Replication};
use super::engine::{EngineRole, EngineSpec};

/// What to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub(crate) postgres_standby: bool,
    pub(crate) engine: Option<EngineSpec>,
    pub(crate) second_dc: Option<SecondDc>,
    /// The CTP front's request limit per session (orders and cancels a second, queued beyond
    /// it as CTP's front queues them); `None`: no limit.
    pub(crate) ctp_orders_per_second: Option<u32>,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            postgres_standby: false,
            engine: None,
            second_dc: None,
            ctp_orders_per_second: Some(DEFAULT_CTP_ORDERS_PER_SECOND),
        }
    }
}

/// The DR site of a two-datacenter topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecondDc {
    pub replication: Replication,
    /// The dc2 engine, a standby of the dc1 one (same investor, its own `ENGINE_ID`).
    pub engine: Option<EngineSpec>,
    /// The line's own delay each way, in ms: the distance between the sites.
    pub line_latency_ms: u32,
}

/// The CTP front's request limit per session on this platform. A broker's front allows a few
/// requests a second by default (FTDMaxCommFlux, 6 in the mock's own default) and raises it
/// for a firm like this one: 10,000 a second, above the 5,000 orders a second the perf stage
/// drives, so that the limit shapes nothing unless a fault lowers it.
pub const DEFAULT_CTP_ORDERS_PER_SECOND: u32 = 10_000;

/// The inter-DC line's delay each way by default: the operations reference wants the sites
/// under 10 ms apart; 5 ms each way is a line well inside that budget.
pub const DEFAULT_LINE_LATENCY_MS: u32 = 5;

impl Topology {
    /// One datacenter: postgres, redis, kafka and the fault proxy on one network.
    pub fn single_dc() -> Self {
        Self::default()
    }

    /// Two datacenters, each with its engine (active in dc1, standby in dc2), replicating
    /// synchronously across the inter-DC line.
    pub fn two_dc() -> Self {
        Self {
            engine: Some(EngineSpec::default()),
            second_dc: Some(SecondDc {
                replication: Replication::default(),
                engine: Some(standby_of(&EngineSpec::default())),
                line_latency_ms: DEFAULT_LINE_LATENCY_MS,
            }),
            ..Self::default()
        }
    }

    /// Adds a PostgreSQL streaming standby that follows the primary in the same datacenter
    /// (single-datacenter topologies only; a two-datacenter one has its standby in dc2).
    pub fn with_postgres_standby(mut self) -> Self {
        self.postgres_standby = true;
        self
    }

    /// Adds the trading engine (the reference engine, or the image overriding it), pinned to
    /// its cpuset, after every dependency is ready.
    pub fn with_engine(self) -> Self {
        self.with_engine_spec(EngineSpec::default())
    }

    /// Adds the trading engine as `spec` says; in a two-datacenter topology this is dc1's
    /// engine, and dc2's is its standby (same investor, defects and cpuset).
    pub fn with_engine_spec(mut self, spec: EngineSpec) -> Self {
        if let Some(dr) = &mut self.second_dc {
            dr.engine = Some(standby_of(&spec));
        }
        self.engine = Some(spec);
        self
    }

    /// Starts no engine in any datacenter (the dependencies and the mock CTP front only).
    pub fn without_engines(mut self) -> Self {
        self.engine = None;
        if let Some(dr) = &mut self.second_dc {
            dr.engine = None;
        }
        self
    }

    /// The inter-DC line's delay each way in ms (two-datacenter topologies; ignored by one);
    /// 0 makes the sites neighbours.
    pub fn with_line_latency_ms(mut self, ms: u32) -> Self {
        if let Some(dr) = &mut self.second_dc {
            dr.line_latency_ms = ms;
        }
        self
    }

    /// How dc1's PostgreSQL replicates to dc2's (two-datacenter topologies; ignored by one).
    pub fn with_replication(mut self, replication: Replication) -> Self {
        if let Some(dr) = &mut self.second_dc {
            dr.replication = replication;
        }
        self
    }

    /// The CTP front's request limit per session (`None`: none); the default is
    /// [`DEFAULT_CTP_ORDERS_PER_SECOND`].
    pub fn with_ctp_orders_per_second(mut self, limit: Option<u32>) -> Self {
        self.ctp_orders_per_second = limit;
        self
    }

    /// The datacenters this topology starts.
    pub fn datacenters(&self) -> Vec<Dc> {
        if self.second_dc.is_some() {
            Dc::ALL.to_vec()
        } else {
            vec![Dc::Dc1]
        }
    }

    /// The replication mode across the inter-DC line, when there is one.
    pub fn replication(&self) -> Option<Replication> {
        self.second_dc.as_ref().map(|dr| dr.replication)
    }
}

fn standby_of(spec: &EngineSpec) -> EngineSpec {
    EngineSpec {
        role: EngineRole::Standby,
        ..spec.clone()
    }
}
