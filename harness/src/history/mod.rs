//! What the clients saw: every operation as Jepsen records it (`invoke`, then `ok`, `fail` or
//! `info`), plus the fault timeline, so the checkers can judge a run after the fact and split
//! it by phase (before, during and after a fault).
//!
//! The history is written as JSON lines into the run directory by an append-only
//! [`Recorder`] and read back by [`load`], which refuses a truncated or malformed file with the
//! file and line: a history that cannot be read in full is judged unknown, never valid.
//!
//! Known gaps: the recorder takes `&mut self`, so concurrent clients share it behind a mutex or
//! a channel; operations are order submits and cancels only (no queries yet).

mod entry;
mod error;
mod load;
mod phase;
mod recorder;

pub use entry::{
    CancelOrder, Entry, FaultAction, Hazard, HazardMark, Op, OpError, OpId, OpResult, ProcessId,
    StepMark, SubmitOrder,
};
pub use error::HistoryError;
pub use load::{load, parse, History, Operation, Outcome};
pub use phase::{FaultWindow, Phase, Timeline};
pub use recorder::{Recorder, HISTORY_FILE};
