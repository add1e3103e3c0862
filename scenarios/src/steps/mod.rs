//! Step definitions, one file per domain concept: the platform, workloads, single orders,
//! faults, what faults did to trading (recovery), checks and latency budgets, DR drills.

pub mod checks;
pub mod dr;
pub mod faults;
pub mod latency;
pub mod orders;
pub mod platform;
pub mod recovery;
pub mod workload;
