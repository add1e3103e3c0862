//! Benchmarks live under `benches/`; what they share here: the hot paths the tier-1 perf gate
//! counts (`hot`), Prometheus scraping (`prom`) and statistics (`stats`).

pub mod hot;
pub mod prom;
pub mod stats;
