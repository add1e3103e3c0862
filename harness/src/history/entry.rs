//! The entries of a history, one JSON line each. Field names follow `contract/` (the
//! `trading.proto` request and the schema's columns), so a history reads like the engine's
//! own tables.

use contract::model::{Offset, OrderStatus, Side};
use serde::{Deserialize, Serialize};

/// A client (Jepsen's process): the operations of one process never overlap.
pub type ProcessId = u32;

/// Pairs an `invoke` with its completion; unique within a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub u64);

/// One line of the history. `at_ns` is monotonic, nanoseconds since the run started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Invoke {
        id: OpId,
        process: ProcessId,
        at_ns: u64,
        op: Op,
    },
    Ok {
        id: OpId,
        process: ProcessId,
        at_ns: u64,
        result: OpResult,
    },
    /// The operation definitely did not take effect.
    Fail {
        id: OpId,
        process: ProcessId,
        at_ns: u64,
        error: OpError,
    },
    /// The outcome is unknown (a timeout, a reset connection): it may or may not have happened.
    Info {
        id: OpId,
        process: ProcessId,
        at_ns: u64,
        error: OpError,
    },
    Fault {
        at_ns: u64,
        action: FaultAction,
        /// The fault's name, e.g. `latency`, `kill`, `partition`.
        fault: String,
        /// What it hit, e.g. a link (`engine->postgres`) or a service.
        target: String,
    },
    /// The size of a fault's hazard, measured from ground truth as the fault was injected (the
    /// exchange's record, the platform's own state), not from the engine's word.
    Hazard {
        at_ns: u64,
        #[serde(flatten)]
        hazard: Hazard,
    },
    /// A step of the platform's runbook taken by the harness (the DR controller's detection,
    /// fencing, promotion, reroute), on the same clock as the operations and faults.
    Step {
        at_ns: u64,
        /// The step's name, e.g. `detected`, `promote_database`.
        step: String,
        /// The datacenter it acted on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dc: Option<crate::platform::Dc>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        detail: String,
    },
}

impl Entry {
    pub fn at_ns(&self) -> u64 {
        match self {
            Self::Invoke { at_ns, .. }
            | Self::Ok { at_ns, .. }
            | Self::Fail { at_ns, .. }
            | Self::Info { at_ns, .. }
            | Self::Fault { at_ns, .. }
            | Self::Hazard { at_ns, .. }
            | Self::Step { at_ns, .. } => *at_ns,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    Inject,
    Heal,
}

/// What a fault put at risk when it struck: the danger its scenario is about (returns in
/// flight at a front disconnect, ...). A size of zero means the recovery path under test was
/// never exercised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    /// The fault's kind, as in its `fault` entry.
    pub fault: String,
    /// What it hit, as in its `fault` entry.
    pub target: String,
    /// What was counted, e.g. `returns_undelivered`.
    pub measure: String,
    pub size: u64,
    /// How it was measured, per part (each session cut, say).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A hazard as read back from a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HazardMark {
    pub at_ns: u64,
    #[serde(flatten)]
    pub hazard: Hazard,
}

/// A runbook step as read back from a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepMark {
    pub at_ns: u64,
    pub step: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dc: Option<crate::platform::Dc>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// What a client asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "snake_case")]
pub enum Op {
    Submit(SubmitOrder),
    Cancel(CancelOrder),
}

/// `SubmitOrder` of `trading.proto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmitOrder {
    pub client_order_id: String,
    pub account_id: String,
    pub instrument_id: String,
    pub side: Side,
    pub offset: Offset,
    pub limit_price: f64,
    pub volume: i32,
}

/// `CancelOrder` of `trading.proto`: by engine order id when the client knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelOrder {
    pub client_order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
}

/// What the engine answered to a successful operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    /// The engine answered with the original order of a repeated `client_order_id`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    /// The engine that answered, as it says (`ENGINE_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_id: Option<String>,
    /// The version of the engine that answered (`engine_version` of its answer), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// The datacenter the order router sent the operation to (two datacenters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dc: Option<crate::platform::Dc>,
}

/// Why an operation failed or is unknown: the gRPC code and what the engine named.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpError {
    /// gRPC status code name, e.g. `FAILED_PRECONDITION`, or `TIMEOUT` for a client deadline.
    pub code: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The `x-field` or `x-risk-limit` metadata, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The datacenter the order router sent the operation to (two datacenters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dc: Option<crate::platform::Dc>,
}
