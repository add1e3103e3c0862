//! The workload: an open-loop order flow at a fixed rate against the engine's order entry,
//! every operation recorded in the history and every acknowledgement timed from its intended
//! send time (coordinated omission corrected) for the latency budgets. The flow is a seeded
//! mix ([`Mix`]) of ordinary orders inside the risk limits of the fixtures, cancels,
//! duplicate submissions and orders that risk must reject ([`plan`]); every loop is bounded
//! in count and time.
//!
//! Known gaps: ticks are replayed by the mock CTP front from `fixtures/ticks` at its own pace
//! and their latency comes from the engine's `tick_processing_latency_ns` (sampled by
//! `observe::metrics`), not from this module; one account per workload (the engine trades as one investor).

mod client;
mod driver;
mod error;
pub mod plan;
mod router;
mod spec;

use std::path::Path;

use hdrhistogram::Histogram;

pub use client::{is_definite, GrpcOrders, OrderEntry};
pub use driver::{perform, run, Reply, Sample, SharedRecorder, Tally, WorkloadResult};
pub use error::WorkloadError;
pub use plan::{Intent, PlannedOp, Planner, Tradable};
pub use router::{Admission, Router};
pub use spec::{Mix, WorkloadSpec};

use crate::check::LatencySamples;
use crate::history::Timeline;

/// The instruments `spec` trades, with the limits of its account, from the fixtures in `dir`.
pub fn tradables(spec: &WorkloadSpec, dir: &Path) -> Result<Vec<Tradable>, WorkloadError> {
    let limits = contract::fixtures::risk_limits(dir).map_err(WorkloadError::Fixtures)?;
    let accounts = contract::fixtures::accounts(dir).map_err(WorkloadError::Fixtures)?;
    let balance = accounts
        .iter()
        .find(|a| a.investor_id == spec.account)
        .ok_or_else(|| WorkloadError::UnknownAccount(spec.account.clone()))?
        .balance;
    let all = contract::fixtures::instruments(dir).map_err(WorkloadError::Fixtures)?;
    for id in &spec.instruments {
        if !all.iter().any(|i| &i.instrument_id == id) {
            return Err(WorkloadError::invalid(
                "instruments",
                format!("{id} is not in {}", dir.join("instruments.json").display()),
            ));
        }
    }
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|i| spec.instruments.is_empty() || spec.instruments.contains(&i.instrument_id))
        .collect();
    let n = chosen.len();
    chosen
        .into_iter()
        .map(|i| Tradable::from_fixtures(i, &limits, &spec.account, balance, n))
        .collect()
}

/// A planner of `spec`'s operations over the instruments of the workspace's fixtures.
pub fn planner_for(spec: &WorkloadSpec) -> Result<Planner, WorkloadError> {
    Planner::new(
        spec,
        tradables(spec, &crate::workspace_root().join("fixtures"))?,
    )
}

/// Runs `spec` against the engine's gRPC order entry at `grpc` (`host:port`), with the
/// instruments of the workspace's fixtures.
pub async fn run_against<W: std::io::Write + Send + 'static>(
    spec: &WorkloadSpec,
    grpc: &str,
    recorder: SharedRecorder<W>,
) -> Result<WorkloadResult, WorkloadError> {
    spec.validate()?;
    let planner = planner_for(spec)?;
    let entry = GrpcOrders::connect(grpc).await?;
    run(spec, planner, entry, recorder).await
}

/// An empty acknowledgement-latency histogram: 1 µs to 1 h, 3 significant digits.
fn ack_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, 3_600_000_000_000, 3)
        .expect("static histogram bounds are valid")
}

fn record(h: &mut Histogram<u64>, s: &Sample) {
    // Below the histogram's 1 µs floor counts as 1 µs.
    h.saturating_record(s.latency_ns.max(1_000));
}

/// The acknowledgement latencies of `samples` in one histogram.
pub fn ack_histogram_of<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Histogram<u64> {
    let mut h = ack_histogram();
    for s in samples {
        record(&mut h, s);
    }
    h
}

/// The acknowledgement latencies per phase of `timeline` (by intended send time).
pub fn latency_samples(samples: &[Sample], timeline: &Timeline) -> LatencySamples {
    let mut out = LatencySamples::default();
    for s in samples {
        let h = out
            .order_ns
            .entry(timeline.phase_at(s.intended_ns))
            .or_insert_with(ack_histogram);
        record(h, s);
    }
    out
}
