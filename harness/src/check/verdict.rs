//! Verdicts as Jepsen has them: valid, invalid or unknown, each naming its evidence; composed,
//! the worst wins (invalid over unknown over valid).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Ordered so that `max` is the composition: `Valid < Unknown < Invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Valid,
    Unknown,
    Invalid,
}

/// What a verdict rests on. `orders` names at most [`Evidence::MAX_ORDERS`] orders
/// (client_order_id, or `order_id=N`, or `exchange#index`); `counts` says how many in all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub orders: Vec<String>,
    pub counts: BTreeMap<String, u64>,
    pub first_bad: Option<String>,
}

impl Evidence {
    pub const MAX_ORDERS: usize = 20;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub check: String,
    pub outcome: Outcome,
    pub evidence: Evidence,
    pub detail: String,
    /// The verdicts a composed verdict was made of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Verdict>,
}

impl Verdict {
    /// The verdict as an indented tree, with the evidence of every verdict that is not
    /// valid (for failure messages).
    pub fn explain(&self) -> String {
        let mut out = format!("{} {:?}: {}\n", self.check, self.outcome, self.detail);
        if self.outcome != Outcome::Valid {
            if let Some(first) = &self.evidence.first_bad {
                out.push_str(&format!("  first bad: {first}\n"));
            }
            if !self.evidence.orders.is_empty() {
                out.push_str(&format!("  orders: {}\n", self.evidence.orders.join(", ")));
            }
        }
        for c in &self.children {
            for line in c.explain().lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
        out
    }

    /// The verdict of the check named `check`, this one or any below it.
    pub fn find(&self, check: &str) -> Option<&Verdict> {
        if self.check == check {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(check))
    }

    pub fn valid(check: &str, detail: impl Into<String>) -> Self {
        Self::new(check, Outcome::Valid, detail)
    }

    pub fn unknown(check: &str, detail: impl Into<String>) -> Self {
        Self::new(check, Outcome::Unknown, detail)
    }

    pub fn new(check: &str, outcome: Outcome, detail: impl Into<String>) -> Self {
        Self {
            check: check.to_owned(),
            outcome,
            evidence: Evidence::default(),
            detail: detail.into(),
            children: Vec::new(),
        }
    }

    /// The verdict of a run whose history could not be read in full: unknown, with why.
    pub fn unreadable_history(err: &crate::history::HistoryError) -> Self {
        Self::unknown("history", error_chain(err))
    }

    /// Composes verdicts: the worst outcome wins; the children are kept.
    pub fn all(check: &str, children: Vec<Verdict>) -> Self {
        let outcome = children
            .iter()
            .map(|v| v.outcome)
            .max()
            .unwrap_or(Outcome::Valid);
        let bad: Vec<&str> = children
            .iter()
            .filter(|v| v.outcome == outcome && outcome != Outcome::Valid)
            .map(|v| v.check.as_str())
            .collect();
        let detail = if bad.is_empty() {
            format!("{} checks valid", children.len())
        } else {
            format!("{outcome:?}: {}", bad.join(", ")).to_lowercase()
        };
        Self {
            check: check.to_owned(),
            outcome,
            evidence: Evidence::default(),
            detail,
            children,
        }
    }
}

/// An error with its sources, "a: b: c".
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut src = err.source();
    while let Some(e) = src {
        s.push_str(": ");
        s.push_str(&e.to_string());
        src = e.source();
    }
    s
}

/// Collects violations while a check runs and turns them into a verdict.
#[derive(Debug)]
pub(crate) struct Findings {
    check: &'static str,
    evidence: Evidence,
    total: u64,
}

impl Findings {
    pub fn new(check: &'static str) -> Self {
        Self {
            check,
            evidence: Evidence::default(),
            total: 0,
        }
    }

    /// Records one violation of `kind` about `order`; `what` is built only for the first.
    pub fn flag(
        &mut self,
        kind: &str,
        order: impl FnOnce() -> String,
        what: impl FnOnce() -> String,
    ) {
        self.total += 1;
        *self.evidence.counts.entry(kind.to_owned()).or_default() += 1;
        if self.evidence.orders.len() < Evidence::MAX_ORDERS {
            self.evidence.orders.push(order());
        }
        if self.evidence.first_bad.is_none() {
            self.evidence.first_bad = Some(what());
        }
    }

    pub fn count(&mut self, name: &str, n: u64) {
        self.evidence.counts.insert(name.to_owned(), n);
    }

    /// Invalid if anything was flagged, else valid; `judged` says what was looked at.
    pub fn verdict(self, judged: String) -> Verdict {
        let outcome = if self.total > 0 {
            Outcome::Invalid
        } else {
            Outcome::Valid
        };
        let detail = if self.total > 0 {
            format!("{} violations; {judged}", self.total)
        } else {
            judged
        };
        Verdict {
            check: self.check.to_owned(),
            outcome,
            evidence: self.evidence,
            detail,
            children: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_outcome_wins() {
        let v = Verdict::valid("a", "");
        let u = Verdict::unknown("b", "");
        let i = Verdict::new("c", Outcome::Invalid, "");
        assert_eq!(
            Verdict::all("x", vec![v.clone(), u.clone()]).outcome,
            Outcome::Unknown
        );
        let all = Verdict::all("x", vec![u, i, v.clone()]);
        assert_eq!(all.outcome, Outcome::Invalid);
        assert!(all.detail.contains('c'), "{}", all.detail);
        assert_eq!(Verdict::all("x", vec![v]).outcome, Outcome::Valid);
        assert_eq!(Verdict::all("x", vec![]).outcome, Outcome::Valid);
    }
}
