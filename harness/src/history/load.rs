//! Reads a history back and pairs every invocation with its completion. A file whose last
//! line lacks its newline is truncated (the writer died mid-entry) and refused as such; a
//! line that is not an entry is refused with its number: the checkers never judge half a run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::entry::{
    Entry, FaultAction, HazardMark, Op, OpError, OpId, OpResult, ProcessId, StepMark,
};
use super::error::HistoryError;
use super::phase::Timeline;

/// How an operation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(OpResult),
    Fail(OpError),
    Info(OpError),
    /// Invoked but never completed before the run ended: as unknown as `Info`.
    Pending,
}

impl Outcome {
    /// Whether the operation may or may not have taken effect.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Info(_) | Self::Pending)
    }
}

/// One invocation with its completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: OpId,
    pub process: ProcessId,
    pub op: Op,
    pub invoke_ns: u64,
    /// `None` while [`Outcome::Pending`].
    pub complete_ns: Option<u64>,
    pub outcome: Outcome,
}

/// A whole run as the clients saw it: operations in invocation order and the fault timeline.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub operations: Vec<Operation>,
    pub timeline: Timeline,
    /// The runbook steps the harness took (the DR controller's), in order.
    pub steps: Vec<StepMark>,
    /// The faults' hazards, measured as each was injected, in order.
    pub hazards: Vec<HazardMark>,
}

impl History {
    /// Pairs entries (in file order) into operations; `path` names the source in errors.
    pub fn from_entries(
        path: &Path,
        entries: impl IntoIterator<Item = Entry>,
    ) -> Result<Self, HistoryError> {
        let mut b = Builder::default();
        for (i, e) in entries.into_iter().enumerate() {
            b.push(path, i + 1, e)?;
        }
        Ok(b.finish())
    }
}

#[derive(Default)]
struct Builder {
    operations: Vec<Operation>,
    pending: HashMap<OpId, usize>,
    faults: Vec<(u64, FaultAction, String, String)>,
    steps: Vec<StepMark>,
    hazards: Vec<HazardMark>,
}

impl Builder {
    fn push(&mut self, path: &Path, line: usize, e: Entry) -> Result<(), HistoryError> {
        let (id, at_ns, outcome) = match e {
            Entry::Invoke {
                id,
                process,
                at_ns,
                op,
            } => {
                if self.pending.insert(id, self.operations.len()).is_some() {
                    return Err(HistoryError::Unpaired {
                        path: path.to_owned(),
                        line,
                        id: id.0,
                    });
                }
                self.operations.push(Operation {
                    id,
                    process,
                    op,
                    invoke_ns: at_ns,
                    complete_ns: None,
                    outcome: Outcome::Pending,
                });
                return Ok(());
            }
            Entry::Fault {
                at_ns,
                action,
                fault,
                target,
            } => {
                self.faults.push((at_ns, action, fault, target));
                return Ok(());
            }
            Entry::Hazard { at_ns, hazard } => {
                self.hazards.push(HazardMark { at_ns, hazard });
                return Ok(());
            }
            Entry::Step {
                at_ns,
                step,
                dc,
                detail,
            } => {
                self.steps.push(StepMark {
                    at_ns,
                    step,
                    dc,
                    detail,
                });
                return Ok(());
            }
            Entry::Ok {
                id, at_ns, result, ..
            } => (id, at_ns, Outcome::Ok(result)),
            Entry::Fail {
                id, at_ns, error, ..
            } => (id, at_ns, Outcome::Fail(error)),
            Entry::Info {
                id, at_ns, error, ..
            } => (id, at_ns, Outcome::Info(error)),
        };
        let Some(i) = self.pending.remove(&id) else {
            return Err(HistoryError::Unpaired {
                path: path.to_owned(),
                line,
                id: id.0,
            });
        };
        let op = &mut self.operations[i];
        op.complete_ns = Some(at_ns);
        op.outcome = outcome;
        Ok(())
    }

    fn finish(self) -> History {
        History {
            operations: self.operations,
            timeline: Timeline::from_events(self.faults),
            steps: self.steps,
            hazards: self.hazards,
        }
    }
}

/// Reads `path` (a `history.jsonl`).
pub fn load(path: &Path) -> Result<History, HistoryError> {
    let bytes = std::fs::read(path).map_err(|source| HistoryError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &bytes)
}

/// Parses a history's bytes; `path` names them in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<History, HistoryError> {
    let path: PathBuf = path.to_owned();
    let mut b = Builder::default();
    let mut rest = bytes;
    let mut line = 0;
    while !rest.is_empty() {
        line += 1;
        let Some(end) = rest.iter().position(|&c| c == b'\n') else {
            return Err(HistoryError::Truncated { path, line });
        };
        let text = &rest[..end];
        rest = &rest[end + 1..];
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let entry: Entry =
            serde_json::from_slice(text).map_err(|source| HistoryError::Malformed {
                path: path.clone(),
                line,
                source,
            })?;
        b.push(&path, line, entry)?;
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Recorder, SubmitOrder, HISTORY_FILE};
    use contract::model::{Offset, Side};
    use std::time::Instant;

    fn submit(id: &str) -> Op {
        Op::Submit(SubmitOrder {
            client_order_id: id.into(),
            account_id: "000001".into(),
            instrument_id: "rb2410".into(),
            side: Side::Buy,
            offset: Offset::Open,
            limit_price: 3600.0,
            volume: 1,
        })
    }

    fn recorded() -> Vec<u8> {
        let mut r = Recorder::to_writer(Vec::new(), "mem".into(), Instant::now());
        let a = r.invoke(1, submit("c-1")).unwrap();
        r.fault(FaultAction::Inject, "latency", "engine->postgres")
            .unwrap();
        let b = r.invoke(2, submit("c-2")).unwrap();
        r.ok(
            a,
            1,
            OpResult {
                order_id: Some(1001),
                ..OpResult::default()
            },
        )
        .unwrap();
        r.info(
            b,
            2,
            OpError {
                code: "TIMEOUT".into(),
                ..OpError::default()
            },
        )
        .unwrap();
        r.fault(FaultAction::Heal, "latency", "engine->postgres")
            .unwrap();
        r.step(
            "promote_database",
            Some(crate::platform::Dc::Dc2),
            "pg_promote",
        )
        .unwrap();
        r.invoke(3, submit("c-3")).unwrap();
        r.finish().unwrap()
    }

    #[test]
    fn a_recorded_history_reads_back_paired_with_its_faults() {
        let h = parse(Path::new("h"), &recorded()).unwrap();
        assert_eq!(h.operations.len(), 3);
        assert!(matches!(h.operations[0].outcome, Outcome::Ok(ref r) if r.order_id == Some(1001)));
        assert!(h.operations[1].outcome.is_unknown());
        assert_eq!(h.operations[2].outcome, Outcome::Pending);
        assert_eq!(h.timeline.windows().len(), 1);
        assert_eq!(h.steps.len(), 1);
        assert_eq!(h.steps[0].step, "promote_database");
        assert_eq!(h.steps[0].dc, Some(crate::platform::Dc::Dc2));
        assert!(h.operations[0].invoke_ns <= h.operations[1].invoke_ns);
    }

    #[test]
    fn a_truncated_last_line_is_reported_as_truncated_with_its_line() {
        let bytes = recorded();
        let cut = &bytes[..bytes.len() - 10];
        match parse(Path::new("run/history.jsonl"), cut) {
            Err(HistoryError::Truncated { path, line }) => {
                assert_eq!(path, Path::new("run/history.jsonl"));
                assert_eq!(line, 8);
            }
            other => panic!("expected truncated, got {other:?}"),
        }
        let msg = parse(Path::new("run/history.jsonl"), cut)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("run/history.jsonl") && msg.contains("line 8"),
            "{msg}"
        );
    }

    #[test]
    fn a_malformed_line_is_named_and_an_orphan_completion_refused() {
        let mut bytes = recorded();
        bytes.splice(0..0, b"{\"type\":\"invoke\",\"id\":9}\n".iter().copied());
        let err = parse(Path::new("h"), &bytes).unwrap_err();
        assert!(
            matches!(err, HistoryError::Malformed { line: 1, .. }),
            "{err:?}"
        );
        let orphan = b"{\"type\":\"ok\",\"id\":5,\"process\":1,\"at_ns\":3,\"result\":{}}\n";
        let err = parse(Path::new("h"), orphan).unwrap_err();
        assert!(
            matches!(err, HistoryError::Unpaired { line: 1, id: 5, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn load_reads_the_run_directory_file() {
        let dir = std::env::temp_dir().join(format!("hist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = Recorder::create(&dir).unwrap();
        let id = r.invoke(1, submit("c-9")).unwrap();
        r.fail(
            id,
            1,
            OpError {
                code: "FAILED_PRECONDITION".into(),
                ..OpError::default()
            },
        )
        .unwrap();
        r.finish().unwrap();
        let h = load(&dir.join(HISTORY_FILE)).unwrap();
        assert!(matches!(h.operations[0].outcome, Outcome::Fail(_)));
        let missing = load(&dir.join("nope.jsonl")).unwrap_err().to_string();
        assert!(missing.contains("nope.jsonl"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    proptest::proptest! {
        /// Cut anywhere but at a line's end, a history is refused as truncated at the line
        /// the cut falls in; cut at a line's end, it reads back as that prefix.
        #[test]
        fn any_cut_is_truncated_or_a_clean_prefix(at in 0usize..4096) {
            let bytes = recorded();
            let at = at % bytes.len();
            let lines_before = bytes[..at].iter().filter(|&&c| c == b'\n').count();
            match parse(Path::new("h"), &bytes[..at]) {
                Err(HistoryError::Truncated { line, .. }) => {
                    proptest::prop_assert!(at > 0 && bytes[at - 1] != b'\n');
                    proptest::prop_assert_eq!(line, lines_before + 1);
                }
                Ok(_) => proptest::prop_assert!(at == 0 || bytes[at - 1] == b'\n'),
                Err(e) => proptest::prop_assert!(false, "unexpected {}", e),
            }
        }
    }
}
