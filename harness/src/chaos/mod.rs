//! Chaos runs: random fault schedules with an order flow, replayable by seed. A [`Case`] (seed,
//! flow, schedule, engine investor and defects) is drawn by the proptest strategies of
//! [`strategy`] from a [`FaultMix`] whose rates are faults per minute; [`run_case`] plays it
//! on a running platform after a [`reset`] to the seeded state, and judges it with every safety
//! check. The case is saved as `case.json` in its run directory, from which `harness repro`
//! replays it against fresh containers.
//!
//! `tests/chaos.rs` runs cases as a proptest property (shrinking a failure, saving its seed as
//! a regression); `harness chaos --duration D --seed S` is the nightly run.

mod case;
mod error;
mod mix;
mod nightly;
mod reset;
mod runner;
pub mod strategy;

pub use case::{Case, Flow, CASE_FILE, DEFAULT_INVESTOR};
pub use error::ChaosError;
pub use mix::{ChaosKind, FaultMix};
pub use nightly::{nightly, repro, repro_name, NightlyOptions};
pub use reset::reset;
pub use runner::{repro_command, run_case, CaseRun};
