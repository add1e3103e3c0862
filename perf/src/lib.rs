//! Benchmarks live under `benches/`; the perf gate will live here.
