//! The append-only recorder: one JSON line per entry into `history.jsonl` of the run
//! directory, through a buffer, so recording costs well under a microsecond per operation
//! (see `perf/benches/checker_throughput.rs`) and never perturbs the latencies it sits beside.
//!
//! Known gaps: lines reach the file when the buffer fills or on [`Recorder::flush`]; a
//! process killed before that loses the tail, which the loader then reports as truncated or
//! simply shorter (a history is evidence of what clients saw, not a durable log).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::entry::{Entry, FaultAction, Op, OpError, OpId, OpResult, ProcessId};
use super::error::HistoryError;

/// The history's file name inside a run directory.
pub const HISTORY_FILE: &str = "history.jsonl";

/// Writes a history. Not `Sync` by design: clients funnel through one owner.
pub struct Recorder<W: Write = BufWriter<File>> {
    out: W,
    path: PathBuf,
    start: Instant,
    next_id: u64,
}

impl Recorder {
    /// Creates `run_dir/history.jsonl` (truncating an old one); time 0 is now.
    pub fn create(run_dir: &Path) -> Result<Self, HistoryError> {
        Self::create_at(run_dir, Instant::now())
    }

    /// As [`Recorder::create`], with the run's start instant shared with the workload's clock.
    pub fn create_at(run_dir: &Path, start: Instant) -> Result<Self, HistoryError> {
        let path = run_dir.join(HISTORY_FILE);
        let file = File::create(&path).map_err(|source| HistoryError::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Self::to_writer(
            BufWriter::with_capacity(1 << 16, file),
            path,
            start,
        ))
    }
}

impl<W: Write> Recorder<W> {
    /// A recorder into any writer; `path` only names it in errors.
    pub fn to_writer(out: W, path: PathBuf, start: Instant) -> Self {
        Self {
            out,
            path,
            start,
            next_id: 0,
        }
    }

    /// The writer, e.g. an in-memory history's bytes.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Nanoseconds since the run started, on the monotonic clock.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Records an invocation and returns the id its completion must carry.
    pub fn invoke(&mut self, process: ProcessId, op: Op) -> Result<OpId, HistoryError> {
        let id = OpId(self.next_id);
        self.next_id += 1;
        let at_ns = self.now_ns();
        self.append(&Entry::Invoke {
            id,
            process,
            at_ns,
            op,
        })?;
        Ok(id)
    }

    pub fn ok(
        &mut self,
        id: OpId,
        process: ProcessId,
        result: OpResult,
    ) -> Result<(), HistoryError> {
        let at_ns = self.now_ns();
        self.append(&Entry::Ok {
            id,
            process,
            at_ns,
            result,
        })
    }

    pub fn fail(
        &mut self,
        id: OpId,
        process: ProcessId,
        error: OpError,
    ) -> Result<(), HistoryError> {
        let at_ns = self.now_ns();
        self.append(&Entry::Fail {
            id,
            process,
            at_ns,
            error,
        })
    }

    /// The outcome is unknown: a timeout or a lost connection.
    pub fn info(
        &mut self,
        id: OpId,
        process: ProcessId,
        error: OpError,
    ) -> Result<(), HistoryError> {
        let at_ns = self.now_ns();
        self.append(&Entry::Info {
            id,
            process,
            at_ns,
            error,
        })
    }

    /// Records a fault being injected or healed.
    pub fn fault(
        &mut self,
        action: FaultAction,
        fault: &str,
        target: &str,
    ) -> Result<(), HistoryError> {
        let at_ns = self.now_ns();
        self.append(&Entry::Fault {
            at_ns,
            action,
            fault: fault.to_owned(),
            target: target.to_owned(),
        })
    }

    /// Records a fault's hazard, measured now.
    pub fn hazard(&mut self, hazard: &super::entry::Hazard) -> Result<(), HistoryError> {
        let at_ns = self.now_ns();
        self.append(&Entry::Hazard {
            at_ns,
            hazard: hazard.clone(),
        })
    }

    /// Records a runbook step (the DR controller's) taken now.
    pub fn step(
        &mut self,
        step: &str,
        dc: Option<crate::platform::Dc>,
        detail: &str,
    ) -> Result<(), HistoryError> {
        let at_ns = self.now_ns();
        self.append(&Entry::Step {
            at_ns,
            step: step.to_owned(),
            dc,
            detail: detail.to_owned(),
        })
    }

    /// Appends an entry as given (its timestamp included).
    pub fn append(&mut self, entry: &Entry) -> Result<(), HistoryError> {
        serde_json::to_writer(&mut self.out, entry)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|source| HistoryError::Write {
                path: self.path.clone(),
                source,
            })
    }

    /// Pushes buffered lines to the file.
    pub fn flush(&mut self) -> Result<(), HistoryError> {
        self.out.flush().map_err(|source| HistoryError::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> Result<W, HistoryError> {
        self.flush()?;
        Ok(self.out)
    }
}
