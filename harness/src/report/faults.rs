//! Order acknowledgement latency around each fault: before it (from the previous fault's heal,
//! or the start), during it (inject to heal) and after it (heal to the next inject, or the
//! end), so that a chaos report shows what each fault did to the platform and whether it
//! recovered. Samples are placed by their intended send time.

use serde::{Deserialize, Serialize};

use super::latency::{stats, PhaseStats};
use crate::check::Budget;
use crate::history::FaultWindow;
use crate::workload::{ack_histogram_of, Sample};

/// One fault's window and the order acknowledgement latency around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultLatency {
    pub fault: String,
    pub target: String,
    pub inject_ns: u64,
    pub heal_ns: Option<u64>,
    pub before: Option<PhaseStats>,
    pub during: Option<PhaseStats>,
    pub after: Option<PhaseStats>,
}

/// The latency around each of `windows` (in inject order), `budget` giving the quantile the
/// statistics also report.
pub fn around_faults(
    samples: &[Sample],
    windows: &[FaultWindow],
    budget: Budget,
) -> Vec<FaultLatency> {
    windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let before_from = match i {
                0 => 0,
                _ => windows[i - 1].heal_ns.unwrap_or(windows[i - 1].inject_ns),
            };
            let heal = w.heal_ns.unwrap_or(u64::MAX);
            let after_to = windows.get(i + 1).map_or(u64::MAX, |n| n.inject_ns);
            let of = |from: u64, to: u64| {
                let inside = samples
                    .iter()
                    .filter(|s| (from..to).contains(&s.intended_ns));
                stats(&ack_histogram_of(inside), budget)
            };
            FaultLatency {
                fault: w.fault.clone(),
                target: w.target.clone(),
                inject_ns: w.inject_ns,
                heal_ns: w.heal_ns,
                before: of(before_from.min(w.inject_ns), w.inject_ns),
                during: of(w.inject_ns, heal),
                after: w.heal_ns.and_then(|h| of(h, after_to.max(h))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fault_gets_its_own_before_during_and_after() {
        let ms = 1_000_000u64;
        let samples: Vec<Sample> = (0..100u64)
            .map(|i| Sample {
                intended_ns: i * 10 * ms,
                // Slow only while the first fault (200–400 ms) is on.
                latency_ns: if (200..400).contains(&(i * 10)) {
                    50 * ms
                } else {
                    ms
                },
            })
            .collect();
        let windows = vec![
            FaultWindow {
                fault: "latency".into(),
                target: "postgres".into(),
                inject_ns: 200 * ms,
                heal_ns: Some(400 * ms),
            },
            FaultWindow {
                fault: "kill".into(),
                target: "engine".into(),
                inject_ns: 700 * ms,
                heal_ns: None,
            },
        ];
        let b = Budget::from_ms("order_p99", 0.99, 2.0).unwrap();
        let f = around_faults(&samples, &windows, b);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].before.unwrap().samples, 20);
        assert_eq!(f[0].during.unwrap().samples, 20);
        assert!(f[0].during.unwrap().median_ns >= 49 * ms);
        assert_eq!(f[0].after.unwrap().samples, 30, "400..700 ms");
        assert!(f[0].after.unwrap().p99_ns < 2 * ms, "recovered after heal");
        assert_eq!(f[1].before.unwrap().samples, 30, "from the previous heal");
        assert_eq!(f[1].during.unwrap().samples, 30, "never healed: to the end");
        assert_eq!(f[1].after, None);
    }
}
