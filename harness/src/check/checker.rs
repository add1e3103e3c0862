//! The `Check` trait, [`Noop`], composition ([`All`]) and [`run`], which turns a check's error
//! or panic into an unknown verdict: judging never takes the harness down.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::CheckError;
use super::index::Index;
use super::observations::Observations;
use super::parallel;
use super::verdict::{error_chain, Verdict};
use crate::history::History;

/// What every check judges: the history, the final observations, and indexes over both
/// built once (a million orders are hashed once, not once per check).
pub struct CheckInput<'a> {
    pub history: &'a History,
    pub obs: &'a Observations,
    pub(crate) index: Index,
}

impl<'a> CheckInput<'a> {
    pub fn new(history: &'a History, obs: &'a Observations) -> Self {
        Self {
            history,
            obs,
            index: Index::build(history, obs),
        }
    }
}

/// One property of a run.
pub trait Check: Send + Sync {
    fn name(&self) -> &str;
    /// `Err` only when the check cannot judge; a violation is an invalid verdict.
    fn check(&self, input: &CheckInput<'_>) -> Result<Verdict, CheckError>;
}

/// Runs a check; an error or a panic becomes `unknown` with its cause.
pub fn run(check: &dyn Check, input: &CheckInput<'_>) -> Verdict {
    match catch_unwind(AssertUnwindSafe(|| check.check(input))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => Verdict::unknown(check.name(), error_chain(&e)),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Verdict::unknown(check.name(), format!("check panicked: {msg}"))
        }
    }
}

/// Judges nothing and is always valid: the identity of composition.
#[derive(Debug, Clone, Copy, Default)]
pub struct Noop;

impl Check for Noop {
    fn name(&self) -> &str {
        "noop"
    }
    fn check(&self, _: &CheckInput<'_>) -> Result<Verdict, CheckError> {
        Ok(Verdict::valid("noop", "nothing judged"))
    }
}

/// Several checks as one; the worst verdict wins and every child verdict is kept.
pub struct All {
    name: String,
    checks: Vec<Box<dyn Check>>,
}

impl All {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            checks: Vec::new(),
        }
    }

    #[must_use]
    pub fn with(mut self, check: impl Check + 'static) -> Self {
        self.checks.push(Box::new(check));
        self
    }
}

impl Check for All {
    fn name(&self) -> &str {
        &self.name
    }
    fn check(&self, input: &CheckInput<'_>) -> Result<Verdict, CheckError> {
        // The checks only read the input, so a large run is judged on every core.
        let threads = parallel::threads(input.obs.db.orders.len() + input.history.operations.len());
        let children = parallel::map(threads, &self.checks, |c| run(c.as_ref(), input));
        Ok(Verdict::all(&self.name, children))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;

    struct Broken;
    impl Check for Broken {
        fn name(&self) -> &str {
            "broken"
        }
        fn check(&self, _: &CheckInput<'_>) -> Result<Verdict, CheckError> {
            Err(CheckError::Judge {
                check: "broken".into(),
                reason: "no data".into(),
            })
        }
    }
    struct Panics;
    impl Check for Panics {
        fn name(&self) -> &str {
            "panics"
        }
        fn check(&self, _: &CheckInput<'_>) -> Result<Verdict, CheckError> {
            panic!("index out of range")
        }
    }

    #[test]
    fn errors_and_panics_are_unknown_and_composition_keeps_the_worst() {
        let (h, o) = (History::default(), Observations::default());
        let input = CheckInput::new(&h, &o);
        let v = run(&All::new("all").with(Noop).with(Broken), &input);
        assert_eq!(v.outcome, Outcome::Unknown);
        assert!(v.children[1].detail.contains("no data"));
        let p = run(&Panics, &input);
        assert_eq!(p.outcome, Outcome::Unknown);
        assert!(p.detail.contains("index out of range"), "{}", p.detail);
        assert_eq!(run(&Noop, &input).outcome, Outcome::Valid);
    }
}
