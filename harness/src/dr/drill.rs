//! The drills, each on a fresh two-datacenter platform under an open-loop order workload sent
//! through the order router (trade returns flowing from the mock CTP front), judged from the
//! history and ground truth: RTO per tier, RPO at promotion and after reconciliation, the
//! safety checks against the surviving site, and the reference's post-drill validation
//! (order P99 after the switch).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::DrError;
use crate::platform::Replication;

/// One DR drill (reference 000 section 3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drill {
    /// Planned switchover dc1 -> dc2 (`switch_to_dr`): must lose nothing in either mode.
    Switchover,
    /// Unplanned loss of dc1 (every container killed at once) with orders in flight; the
    /// controller detects, fences, promotes and reroutes by itself.
    DcLoss,
    /// Unplanned loss of dc1 while the inter-DC line is slowed (200 ms each way): the case where
    /// asynchronous replication loses acknowledged orders.
    SlowLineLoss,
    /// dc1 cut off from dc2 but alive (the split-brain case), a stale client still sending to
    /// it: the controller, seeing dc1 lost across the line, promotes dc2; at most one site may
    /// acknowledge orders at any time, and once the line is back dc1 must fence itself.
    Isolation,
    /// The planned switchover dc1 -> dc2, then dc1 rebuilt as the standby of dc2 (a base
    /// backup across the line), then the planned switchover back dc2 -> dc1, then dc2 rebuilt
    /// as the standby of dc1: the topology the platform started with, losing nothing.
    Failback,
}

impl Drill {
    pub const ALL: [Drill; 5] = [
        Drill::Switchover,
        Drill::DcLoss,
        Drill::SlowLineLoss,
        Drill::Isolation,
        Drill::Failback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Drill::Switchover => "switchover",
            Drill::DcLoss => "dc-loss",
            Drill::SlowLineLoss => "slow-line-loss",
            Drill::Isolation => "isolation",
            Drill::Failback => "failback",
        }
    }

    /// What the drill does, for the certificate.
    pub fn describe(self) -> &'static str {
        match self {
            Drill::Switchover => {
                "planned switchover dc1 -> dc2: stop order reception, drain, stop dc1's engine, \
                 wait for replication catch-up, promote PostgreSQL and the engine, reroute, resume"
            }
            Drill::DcLoss => {
                "unplanned loss of dc1: every dc1 container killed at once with orders in flight; \
                 the controller detects, fences, promotes dc2 and reroutes by itself"
            }
            Drill::SlowLineLoss => {
                "unplanned loss of dc1 while the inter-DC line is slowed (200 ms each way): \
                 asynchronous replication loses the acknowledged orders whose WAL was on the line"
            }
            Drill::Isolation => {
                "dc1 cut off from dc2 but alive, a stale client still sending to it: the \
                 controller sees dc1 lost across the line and promotes dc2; at most one site \
                 acknowledges at any time, and dc1 fences itself once the line is back"
            }
            Drill::Failback => {
                "planned switchover dc1 -> dc2, dc1 rebuilt as the standby of dc2 (a base backup \
                 across the line), planned switchover back dc2 -> dc1, dc2 rebuilt as the \
                 standby of dc1: the starting topology again, nothing lost either way, both \
                 sites holding the same orders"
            }
        }
    }

    /// Whether the drill kills a datacenter (rather than switching over cleanly).
    pub fn is_unplanned(self) -> bool {
        !matches!(self, Drill::Switchover | Drill::Failback)
    }

    /// The site that serves once the drill is over (the one its RTO and RPO are of).
    pub fn final_site(self) -> crate::platform::Dc {
        match self {
            Drill::Failback => crate::platform::Dc::Dc1,
            _ => crate::platform::Dc::Dc2,
        }
    }
}

impl fmt::Display for Drill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Drill {
    type Err = DrError;

    fn from_str(text: &str) -> Result<Self, DrError> {
        Drill::ALL
            .into_iter()
            .find(|d| d.as_str() == text)
            .ok_or_else(|| {
                let known: Vec<&str> = Drill::ALL.iter().map(|d| d.as_str()).collect();
                DrError::config(
                    "drills",
                    format!("{text:?} is not a drill: {}", known.join(", ")),
                )
            })
    }
}

/// Parses a comma-separated drill list; empty means every drill.
pub fn parse_drills(text: &str) -> Result<Vec<Drill>, DrError> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let d: Drill = name.parse()?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    if out.is_empty() {
        out = Drill::ALL.to_vec();
    }
    Ok(out)
}

/// How a drill runs.
#[derive(Debug, Clone, Serialize)]
pub struct DrillOptions {
    pub replication: Replication,
    /// The inter-DC line's distance, each way.
    pub line_latency_ms: u32,
    pub seed: u64,
    /// Orders per second of the workload.
    pub rate_per_s: f64,
    /// Workload before the fault, and in all.
    #[serde(with = "secs")]
    pub before_fault: Duration,
    #[serde(with = "secs")]
    pub workload: Duration,
    pub probe: super::ProbePolicy,
    pub targets: crate::check::dr::DrTargets,
    /// The reference's post-drill validation: order P99 after the switch.
    #[serde(with = "secs")]
    pub validation_p99: Duration,
    pub defects: Vec<String>,
    #[serde(with = "secs")]
    pub readiness_timeout: Duration,
}

mod secs {
    use std::time::Duration;

    use serde::Serializer;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

impl Default for DrillOptions {
    fn default() -> Self {
        Self {
            replication: Replication::Sync,
            line_latency_ms: crate::platform::DEFAULT_LINE_LATENCY_MS,
            seed: 1,
            rate_per_s: 100.0,
            before_fault: Duration::from_secs(5),
            workload: Duration::from_secs(15),
            probe: super::ProbePolicy::default(),
            targets: crate::check::dr::DrTargets::default(),
            validation_p99: Duration::from_millis(10),
            defects: Vec::new(),
            readiness_timeout: Duration::from_secs(120),
        }
    }
}

/// `5m`, `1s`, `250ms`, `1h` as a target; an error naming `field` otherwise.
pub fn parse_target(field: &str, text: &str) -> Result<Duration, DrError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().map_err(|_| {
        DrError::config(
            field,
            format!("{text:?} is not a duration such as 250ms, 1s, 5m or 1h"),
        )
    })?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "" => {
            return Err(DrError::config(
                field,
                format!("{text:?} has no unit: ms, s, m or h"),
            ))
        }
        other => {
            return Err(DrError::config(
                field,
                format!("unknown unit {other:?} in {text:?}: ms, s, m or h"),
            ))
        }
    };
    if !(0.0..=86_400.0).contains(&secs) {
        return Err(DrError::config(
            field,
            format!("{text:?} is outside 0 to 24h"),
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl DrillOptions {
    /// Refuses options no drill can run with, naming the field.
    pub fn validate(&self) -> Result<(), DrError> {
        if !(self.rate_per_s.is_finite() && self.rate_per_s > 0.0 && self.rate_per_s <= 5_000.0) {
            return Err(DrError::config(
                "rate",
                format!(
                    "{} orders/s: a drill runs between 1 and 5,000",
                    self.rate_per_s
                ),
            ));
        }
        if self.workload <= self.before_fault + Duration::from_secs(2) {
            return Err(DrError::config(
                "workload",
                format!(
                    "{:?} leaves no time after the fault at {:?}",
                    self.workload, self.before_fault
                ),
            ));
        }
        if self.probe.threshold == 0 || self.probe.interval.is_zero() {
            return Err(DrError::config(
                "probe",
                "the probe needs an interval above 0 and a threshold of at least 1",
            ));
        }
        Ok(())
    }

    /// The replication mode's name as the CLI takes it.
    pub fn replication_name(&self) -> &'static str {
        match self.replication {
            Replication::Sync => "sync",
            Replication::Async => "async",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::every_drill_by_default("", &Drill::ALL)]
    #[case::one("dc-loss", &[Drill::DcLoss])]
    #[case::spaces_and_repeats(" switchover , dc-loss,switchover", &[Drill::Switchover, Drill::DcLoss])]
    fn drill_lists_parse(#[case] text: &str, #[case] want: &[Drill]) {
        assert_eq!(parse_drills(text).unwrap(), want);
    }

    #[rstest]
    #[case::unknown_drill("failover", "\"failover\" is not a drill")]
    #[case::unknown_among_known("dc-loss,split", "\"split\" is not a drill")]
    fn unknown_drills_are_refused_naming_the_field(#[case] text: &str, #[case] says: &str) {
        let e = parse_drills(text).unwrap_err().to_string();
        assert!(e.starts_with("invalid drills:"), "{e}");
        assert!(e.contains(says) && e.contains("switchover, dc-loss"), "{e}");
    }

    #[rstest]
    #[case::minutes("5m", 300_000)]
    #[case::seconds("1s", 1_000)]
    #[case::millis("250ms", 250)]
    #[case::hours("1h", 3_600_000)]
    #[case::fraction("1.5s", 1_500)]
    fn targets_parse(#[case] text: &str, #[case] ms: u128) {
        assert_eq!(parse_target("--tier1-rto", text).unwrap().as_millis(), ms);
    }

    #[rstest]
    #[case::no_unit("5", "has no unit")]
    #[case::unknown_unit("5d", "unknown unit \"d\"")]
    #[case::not_a_number("soon", "not a duration")]
    #[case::too_long("25h", "outside 0 to 24h")]
    fn bad_targets_are_refused_naming_the_flag(#[case] text: &str, #[case] says: &str) {
        let e = parse_target("--tier1-rpo", text).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid --tier1-rpo:") && e.contains(says),
            "{e}"
        );
    }

    #[rstest]
    #[case::zero_rate(DrillOptions { rate_per_s: 0.0, ..DrillOptions::default() }, "rate")]
    #[case::no_time_after_the_fault(
        DrillOptions { workload: Duration::from_secs(6), ..DrillOptions::default() },
        "workload"
    )]
    #[case::no_probe_threshold(
        DrillOptions {
            probe: crate::dr::ProbePolicy { threshold: 0, ..Default::default() },
            ..DrillOptions::default()
        },
        "probe"
    )]
    fn invalid_options_are_refused_naming_the_field(
        #[case] opts: DrillOptions,
        #[case] field: &str,
    ) {
        let e = opts.validate().unwrap_err().to_string();
        assert!(e.starts_with(&format!("invalid {field}:")), "{e}");
    }
}
