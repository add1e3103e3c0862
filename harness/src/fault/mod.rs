//! The nemesis's fault catalogue: faults as data ([`Fault`]) with paired verbs, `inject` and
//! `heal`, on a running [`crate::Platform`]:
//! - network, per engine→service link and direction, through the fault proxy: latency with
//!   jitter, bandwidth, timeout (black hole), reset_peer, slicer, limit_data, down;
//! - process, on any service: kill -9 then start, graceful stop then start, pause then resume,
//!   restart; the service comes back with the same address and answers its readiness probe;
//! - partition: the container disconnected from its network, reconnected with the same address;
//! - exchange, through the mock CTP front's admin API: front disconnect with a CTP reason
//!   code, hang, delayed and dropped returns, rejects, flow control;
//! - composition: [`Fault::All`] and [`Fault::Noop`].
//!
//! Each inject checks that the fault took effect before anything is judged, each heal that the
//! platform is back; [`Nemesis`] heals every active fault at the end (`heal_all`) or on drop.
//! A [`Schedule`] plays faults at offsets from JSON or TOML files. Any error names the fault,
//! link, service, file or line at fault, and a run it stops is judged unknown
//! ([`FaultError::verdict`]).
//!
//! - datacenter: loss (every container of a site killed, the inter-DC line down with it) and
//!   isolation (the line cut), on the two-datacenter topology.
//!
//! [`resume`] reads the resume side of a front disconnect from the front's own marks.
//!
//! Known gaps: toxicity is always 1.0.

mod context;
mod error;
mod exchange;
mod hazard;
mod nemesis;
mod network;
mod partition;
mod probe;
mod process;
pub mod resume;
mod schedule;
mod spec;
mod toxiproxy;
mod undo;

pub use error::{chain, Cause, FaultError, Result};
pub use hazard::{
    OUTBOX_BACKLOG, RETURNS_UNAPPLIED, RETURNS_UNDELIVERED, TRANSACTIONS_OPEN, WAL_NOT_ON_STANDBY,
};
pub use nemesis::{FaultLog, Injected, Nemesis};
pub use schedule::{Schedule, Step};
pub use spec::{Catalogue, Fault, Stream, CTP_REASONS};
pub use toxiproxy::{ProxyData, ToxicData, ToxiproxyClient};
