//! Why a fault could not be read, validated, injected, verified or healed. Every variant names
//! the fault, link, service, file or field at fault; messages read after "failed to …". A run
//! that meets any of these stops with its faults healed and is judged unknown, never valid
//! ([`FaultError::verdict`]).

use std::path::PathBuf;

use crate::check::Verdict;

/// A boxed cause from a dependency (HTTP, Docker, I/O).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong with a fault.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error("find link {link}: the fault proxy has {known}")]
    UnknownLink { link: String, known: String },
    #[error("find service {service}: the platform runs {known}")]
    UnknownService { service: String, known: String },
    #[error("accept {fault}: {field} {reason}")]
    InvalidAttribute {
        fault: String,
        field: String,
        reason: String,
    },
    #[error("parse fault at {path}")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("read schedule {path}")]
    ScheduleRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parse schedule {path} at line {line}, column {column}: {message}")]
    ScheduleParse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("accept schedule {path}, step {step}")]
    ScheduleStep {
        path: PathBuf,
        step: usize,
        #[source]
        source: Box<FaultError>,
    },
    #[error("inject {fault}")]
    Inject {
        fault: String,
        #[source]
        source: Box<FaultError>,
    },
    #[error("see {fault} take effect: {reason}")]
    NotInEffect { fault: String, reason: String },
    #[error("heal {fault}")]
    Heal {
        fault: String,
        #[source]
        source: Box<FaultError>,
    },
    #[error("see {fault} healed: {reason}")]
    NotHealed { fault: String, reason: String },
    #[error("heal every fault: {} of them failed: {}", failures.len(), summary(failures))]
    HealAll { failures: Vec<FaultError> },
    #[error("call the fault proxy to {action}: {message}")]
    Proxy {
        action: String,
        message: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("call the mock CTP front's admin API to {action}: {message}")]
    Exchange {
        action: String,
        message: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("reach a container")]
    Platform(#[source] Box<crate::Error>),
    #[error("record the fault in the history")]
    History(#[source] crate::history::HistoryError),
}

/// The failures of a heal-all, one per fault, with their causes.
fn summary(failures: &[FaultError]) -> String {
    failures
        .iter()
        .map(|e| chain(e))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An error with its causes, as one line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl From<crate::Error> for FaultError {
    fn from(error: crate::Error) -> Self {
        FaultError::Platform(Box::new(error))
    }
}

impl FaultError {
    /// A run stopped by this error is judged unknown: the faults may or may not have acted as
    /// planned, so nothing about the platform can be concluded from it.
    pub fn verdict(&self) -> Verdict {
        Verdict::unknown("faults", chain(self))
    }

    pub(crate) fn invalid(
        fault: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        FaultError::InvalidAttribute {
            fault: fault.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_in_effect(fault: impl ToString, reason: impl Into<String>) -> Self {
        FaultError::NotInEffect {
            fault: fault.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_healed(fault: impl ToString, reason: impl Into<String>) -> Self {
        FaultError::NotHealed {
            fault: fault.to_string(),
            reason: reason.into(),
        }
    }
}

/// The fault module's result type.
pub type Result<T, E = FaultError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;

    #[test]
    fn a_run_stopped_by_a_fault_error_is_unknown_and_names_every_failure() {
        let err = FaultError::HealAll {
            failures: vec![
                FaultError::Heal {
                    fault: "pause on redis".into(),
                    source: Box::new(FaultError::not_healed(
                        "pause on redis",
                        "it is not running",
                    )),
                },
                FaultError::not_healed("down on engine->kafka", "the link does not accept"),
            ],
        };
        let verdict = err.verdict();
        assert_eq!(verdict.outcome, Outcome::Unknown);
        assert!(
            verdict.detail.contains("2 of them failed"),
            "{}",
            verdict.detail
        );
        assert!(verdict
            .detail
            .contains("pause on redis: see pause on redis healed"));
        assert!(verdict.detail.contains("engine->kafka"));
    }
}
