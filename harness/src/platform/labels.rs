//! Labels on every container, network and volume of a run, and the identity of the process that
//! owns the run, so that a sweep can tell a live run from the leftovers of a crashed one.

use std::collections::HashMap;

pub(crate) const RUN: &str = "harness.run";
pub(crate) const SERVICE: &str = "harness.service";
/// The datacenter of a container (`dc1`, `dc2`); absent outside every datacenter.
pub(crate) const DC: &str = "harness.dc";
pub(crate) const OWNER_PID: &str = "harness.owner.pid";
const OWNER_START: &str = "harness.owner.start";
const OWNER_BOOT: &str = "harness.owner.boot";

/// The process owning a run: pid, its start time since boot, and the boot id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pid: u32,
    start: String,
    boot: String,
}

impl Owner {
    pub(crate) fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start: process_start(pid).unwrap_or_default(),
            boot: boot_id(),
        }
    }

    /// Reads the owner from a resource's labels; `None` when they are missing.
    pub(crate) fn from_labels(labels: &HashMap<String, String>) -> Option<Self> {
        Some(Self {
            pid: labels.get(OWNER_PID)?.parse().ok()?,
            start: labels.get(OWNER_START)?.clone(),
            boot: labels.get(OWNER_BOOT)?.clone(),
        })
    }

    /// True while the owning process still runs (same boot, same pid, same start time).
    pub(crate) fn is_alive(&self) -> bool {
        self.boot == boot_id() && process_start(self.pid).is_some_and(|s| s == self.start)
    }
}

/// The labels of a run's resources.
pub(crate) fn run_labels(run: &str, owner: &Owner) -> HashMap<String, String> {
    HashMap::from([
        (RUN.to_string(), run.to_string()),
        (OWNER_PID.to_string(), owner.pid.to_string()),
        (OWNER_START.to_string(), owner.start.clone()),
        (OWNER_BOOT.to_string(), owner.boot.clone()),
    ])
}

/// Field 22 of /proc/PID/stat: the start time in clock ticks since boot.
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after it are space separated.
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split(' ').nth(19).map(str::to_string)
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_process_is_alive_and_a_changed_start_is_not() {
        let owner = Owner::current();
        assert!(owner.is_alive());
        let labels = run_labels("r1", &owner);
        assert_eq!(Owner::from_labels(&labels), Some(owner.clone()));
        let mut reused_pid = owner.clone();
        reused_pid.start = "1".into();
        assert!(!reused_pid.is_alive());
        assert_eq!(Owner::from_labels(&HashMap::new()), None);
    }
}
