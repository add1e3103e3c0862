//! Typed step parameters: a check's name, a verdict outcome, a duration with its unit. An
//! unknown value fails the step with the accepted values listed.

use std::str::FromStr;
use std::time::Duration;

use cucumber::Parameter;
use harness::check::Outcome;

/// The checks a step may name (`harness::check`'s names, and `converged`).
pub const CHECKS: [&str; 9] = [
    "no_lost_order",
    "unknown_all_or_nothing",
    "no_duplicate",
    "fills_match_orders",
    "positions_match_trades",
    "legal_transitions",
    "kafka_has_every_event",
    "latency_budgets",
    "converged",
];

/// `{check}`: one of [`CHECKS`].
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "check", regex = "[a-z_]+")]
pub struct CheckName(pub String);

impl FromStr for CheckName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if CHECKS.contains(&s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!("unknown check {s:?}; known: {}", CHECKS.join(", ")))
        }
    }
}

/// `{outcome}`: valid, invalid or unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "outcome", regex = "valid|invalid|unknown")]
pub struct OutcomeParam(pub Outcome);

impl FromStr for OutcomeParam {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "valid" => Ok(Self(Outcome::Valid)),
            "invalid" => Ok(Self(Outcome::Invalid)),
            "unknown" => Ok(Self(Outcome::Unknown)),
            _ => Err(format!("{s:?} is not valid, invalid or unknown")),
        }
    }
}

/// `{duration}`: a positive number with a unit, `250 ms`, `2.5 ms`, `10 s` or `1 min`.
#[derive(Debug, Clone, Copy, PartialEq, Parameter)]
#[param(name = "duration", regex = r"-?\d+(?:\.\d+)? ?(?:ms|s|min)")]
pub struct DurationParam(pub Duration);

impl FromStr for DurationParam {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'));
        let (num, unit) = s.split_at(split.unwrap_or(s.len()));
        let n: f64 = num
            .parse()
            .map_err(|_| format!("{s:?}: {num:?} is not a number"))?;
        let secs = match unit.trim() {
            "ms" => n / 1e3,
            "s" => n,
            "min" => n * 60.0,
            u => return Err(format!("{s:?}: unit {u:?} is not ms, s or min")),
        };
        if !(secs.is_finite() && secs > 0.0) {
            return Err(format!("{s:?} is not a positive duration"));
        }
        Ok(Self(Duration::from_secs_f64(secs)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_nonsense_is_refused() {
        assert_eq!(
            "2 ms".parse::<DurationParam>().unwrap().0,
            Duration::from_millis(2)
        );
        assert_eq!(
            "2.5ms".parse::<DurationParam>().unwrap().0,
            Duration::from_micros(2500)
        );
        assert_eq!(
            "10 s".parse::<DurationParam>().unwrap().0,
            Duration::from_secs(10)
        );
        assert!("0 ms"
            .parse::<DurationParam>()
            .unwrap_err()
            .contains("not a positive"));
        assert!("-3 s"
            .parse::<DurationParam>()
            .unwrap_err()
            .contains("not a positive"));
        assert!("no_such"
            .parse::<CheckName>()
            .unwrap_err()
            .contains("no_lost_order"));
    }
}

/// `{drill}`: a DR drill's name (`harness::dr::Drill`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "drill", regex = "[a-z-]+")]
pub struct DrillParam(pub harness::dr::Drill);

impl FromStr for DrillParam {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse().map(Self).map_err(|e| e.to_string())
    }
}

/// `{replication}`: `sync` or `async`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "replication", regex = "[a-z]+")]
pub struct ReplicationParam(pub harness::platform::Replication);

impl FromStr for ReplicationParam {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse()
            .map(Self)
            .map_err(|e: harness::Error| e.to_string())
    }
}

/// The checks of a DR drill's verdict a step may name, besides [`CHECKS`].
pub const DR_CHECKS: [&str; 10] = [
    "at_most_one_site",
    "rto",
    "rpo",
    "no_business_loss",
    "post_drill_latency",
    "old_site_fenced",
    "surviving_site",
    "switchover_rto",
    "switchover_rpo",
    "sites_agree",
];

/// `{dr_check}`: one of [`DR_CHECKS`] or [`CHECKS`].
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "dr_check", regex = "[a-z_]+")]
pub struct DrCheckName(pub String);

impl FromStr for DrCheckName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if DR_CHECKS.contains(&s) || CHECKS.contains(&s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "unknown check {s:?}; known: {}, {}",
                DR_CHECKS.join(", "),
                CHECKS.join(", ")
            ))
        }
    }
}

/// `{role}`: a container of the platform a step acts on, typed: `engine` (dc1's, the only
/// datacenter of a single-datacenter platform), `dc2 engine`, `dc1 postgres`, or `mock-ctp`,
/// which is outside every datacenter. Holds the fault's service as the nemesis names it
/// (`engine`, `dc2/engine`).
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "role", regex = r"(?:dc\d+ )?[a-z][a-z-]*")]
pub struct RoleParam(pub String);

impl FromStr for RoleParam {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "mock-ctp" {
            return Ok(Self(s.to_owned()));
        }
        let service = s.replacen(' ', "/", 1);
        service
            .parse::<harness::platform::Role>()
            .map_err(|e| format!("{s:?}: {e}"))?;
        Ok(Self(service))
    }
}

#[cfg(test)]
mod role_tests {
    use super::RoleParam;

    #[rstest::rstest]
    #[case::bare_service_is_dc1s("engine", "engine")]
    #[case::typed_in_dc2("dc2 engine", "dc2/engine")]
    #[case::typed_in_dc1("dc1 postgres", "dc1/postgres")]
    #[case::the_front_outside_every_datacenter("mock-ctp", "mock-ctp")]
    fn a_role_names_the_service_the_nemesis_acts_on(#[case] text: &str, #[case] service: &str) {
        assert_eq!(text.parse::<RoleParam>().unwrap().0, service);
    }

    #[rstest::rstest]
    #[case::unknown_datacenter("dc3 engine", "dc3")]
    #[case::unknown_service("dc2 mysql", "mysql")]
    #[case::the_front_inside_a_datacenter("dc2 mock-ctp", "outside every datacenter")]
    fn a_bad_role_is_refused_naming_what_is_wrong(#[case] text: &str, #[case] named: &str) {
        let e = text.parse::<RoleParam>().unwrap_err();
        assert!(e.contains(named), "{e}");
    }
}
