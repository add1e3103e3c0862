//! The fault timeline and the phase of any instant: before the first fault, during one (at
//! least one fault active), or after (none active, some earlier). Checks that judge liveness,
//! latency above all, split their samples by phase, since a fault may slow a platform but
//! must not keep it slow once healed.
//!
//! Known gaps: an inject is paired with the next heal of the same fault and target; overlapping
//! injects of the same fault on the same target are one window.

use serde::{Deserialize, Serialize};

use super::entry::FaultAction;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Before,
    During,
    After,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::Before, Phase::During, Phase::After];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::During => "during",
            Self::After => "after",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fault from its inject to its heal (`heal_ns` is `None` if it was never healed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultWindow {
    pub fault: String,
    pub target: String,
    pub inject_ns: u64,
    pub heal_ns: Option<u64>,
}

impl FaultWindow {
    /// Whether the fault was on at `at_ns` (from its inject, until its heal if any).
    pub fn contains(&self, at_ns: u64) -> bool {
        at_ns >= self.inject_ns && self.heal_ns.is_none_or(|h| at_ns < h)
    }
}

/// The run's faults, ordered by inject time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    windows: Vec<FaultWindow>,
}

impl Timeline {
    /// Builds windows from inject/heal events in time order. A heal without an inject is
    /// ignored (healing is idempotent).
    pub fn from_events(
        events: impl IntoIterator<Item = (u64, FaultAction, String, String)>,
    ) -> Self {
        let mut windows: Vec<FaultWindow> = Vec::new();
        for (at_ns, action, fault, target) in events {
            let open = windows
                .iter_mut()
                .rev()
                .find(|w| w.heal_ns.is_none() && w.fault == fault && w.target == target);
            match (action, open) {
                (FaultAction::Inject, None) => windows.push(FaultWindow {
                    fault,
                    target,
                    inject_ns: at_ns,
                    heal_ns: None,
                }),
                (FaultAction::Heal, Some(w)) => w.heal_ns = Some(at_ns),
                (FaultAction::Inject, Some(_)) | (FaultAction::Heal, None) => {}
            }
        }
        windows.sort_by_key(|w| w.inject_ns);
        Self { windows }
    }

    pub fn windows(&self) -> &[FaultWindow] {
        &self.windows
    }

    /// The phase of an instant (ns since the run started).
    pub fn phase_at(&self, at_ns: u64) -> Phase {
        match self.windows.first() {
            None => Phase::Before,
            Some(first) if at_ns < first.inject_ns => Phase::Before,
            Some(_) if self.windows.iter().any(|w| w.contains(at_ns)) => Phase::During,
            Some(_) => Phase::After,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at: u64, a: FaultAction, f: &str) -> (u64, FaultAction, String, String) {
        (at, a, f.into(), "engine".into())
    }

    #[test]
    fn phases_split_at_inject_and_heal_and_an_unhealed_fault_lasts() {
        use FaultAction::*;
        let t = Timeline::from_events([
            ev(10, Inject, "pause"),
            ev(20, Heal, "pause"),
            ev(30, Inject, "kill"),
        ]);
        assert_eq!(t.phase_at(0), Phase::Before);
        assert_eq!(t.phase_at(10), Phase::During);
        assert_eq!(t.phase_at(20), Phase::After);
        assert_eq!(t.phase_at(u64::MAX - 1), Phase::During);
        assert_eq!(Timeline::default().phase_at(5), Phase::Before);
    }
}
