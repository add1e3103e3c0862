//! Step definitions, one file per domain concept: the platform, workloads, single orders,
//! checks and latency budgets.

pub mod checks;
pub mod latency;
pub mod orders;
pub mod platform;
pub mod workload;
