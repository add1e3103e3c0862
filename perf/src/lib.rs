//! Benchmarks live under `benches/`; what they share, and the perf gate to come, here.

pub mod hot;
pub mod prom;
pub mod stats;
