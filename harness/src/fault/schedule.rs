//! A fault schedule as data: steps of (offset from the start, fault, duration), read from a
//! JSON or TOML file and validated against the running platform before anything is injected.
//! [`Nemesis::run_schedule`] plays it: each fault injected at its offset and healed after its
//! duration, every fault healed at the end whatever happened.
//!
//! ```toml
//! [[steps]]
//! at_ms = 0
//! duration_ms = 5000
//! fault = { kind = "latency", link = "postgres", stream = "upstream", latency_ms = 50 }
//! ```
//!
//! Known gaps: the random schedule generator (weighted choices, seeded) comes with the chaos
//! runs; a step's offset is when its inject starts, and an inject that takes long (a restart
//! waiting for readiness) delays the steps after it.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{chain, FaultError, Result};
use super::nemesis::Nemesis;
use super::spec::{Catalogue, Fault};

/// One step: `fault` injected `at_ms` after the start, healed `duration_ms` later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub at_ms: u64,
    #[serde(default)]
    pub duration_ms: u64,
    pub fault: Fault,
}

/// A fault schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub steps: Vec<Step>,
}

/// Where a schedule came from, for its errors.
fn origin(path: Option<&Path>) -> std::path::PathBuf {
    path.map(Path::to_path_buf)
        .unwrap_or_else(|| "(schedule)".into())
}

/// The 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

impl Schedule {
    /// Reads a schedule from a `.json` or `.toml` file; a parse error names the file, line and
    /// column, and the field.
    pub fn load(path: &Path) -> Result<Schedule> {
        let text = std::fs::read_to_string(path).map_err(|source| FaultError::ScheduleRead {
            path: path.to_path_buf(),
            source,
        })?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Self::from_json(&text, Some(path)),
            Some("toml") => Self::from_toml(&text, Some(path)),
            _ => Err(FaultError::ScheduleParse {
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                message: "the file name must end in .json or .toml".into(),
            }),
        }
    }

    pub fn from_json(text: &str, path: Option<&Path>) -> Result<Schedule> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            FaultError::ScheduleParse {
                path: origin(path),
                line: inner.line(),
                column: inner.column(),
                message: format!("{field}: {message}"),
            }
        })
    }

    pub fn from_toml(text: &str, path: Option<&Path>) -> Result<Schedule> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((0, 0), |span| line_column(text, span.start));
            FaultError::ScheduleParse {
                path: origin(path),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })
    }

    /// Checks every step against the platform, and that no two steps on the same service
    /// overlap (a service cannot be killed while it is partitioned). The error names the step.
    pub fn validate(&self, catalogue: &Catalogue, path: Option<&Path>) -> Result<()> {
        let step_error = |step: usize, source: FaultError| FaultError::ScheduleStep {
            path: origin(path),
            step,
            source: Box::new(source),
        };
        for (i, step) in self.steps.iter().enumerate() {
            step.fault
                .validate(catalogue)
                .map_err(|e| step_error(i, e))?;
        }
        for (i, a) in self.steps.iter().enumerate() {
            for (j, b) in self.steps.iter().enumerate().skip(i + 1) {
                let overlap = a.at_ms < b.at_ms + b.duration_ms.max(1)
                    && b.at_ms < a.at_ms + a.duration_ms.max(1);
                let services = |f: &Fault| -> Vec<String> { services_of(f, catalogue) };
                let shared = services(&a.fault)
                    .into_iter()
                    .find(|s| services(&b.fault).contains(s));
                if let (true, Some(service)) = (overlap, shared) {
                    return Err(step_error(
                        j,
                        FaultError::invalid(
                            b.fault.kind(),
                            "at_ms",
                            format!("overlaps step {i} on service {service}"),
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The injects (`true`) and heals of the steps in the order they are played, each with its
    /// offset in ms and its step's index.
    fn events(&self) -> Vec<(u64, bool, usize)> {
        let mut events: Vec<(u64, u8, usize)> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            events.push((step.at_ms, INJECT, i));
            let heal = match step.duration_ms {
                0 => HEAL_AT_ONCE,
                _ => HEAL,
            };
            events.push((step.at_ms + step.duration_ms, heal, i));
        }
        events.sort_unstable();
        events
            .into_iter()
            .map(|(at, kind, i)| (at, kind == INJECT, i))
            .collect()
    }

    /// When the last fault is healed, from the start.
    pub fn length(&self) -> Duration {
        Duration::from_millis(
            self.steps
                .iter()
                .map(|s| s.at_ms + s.duration_ms)
                .max()
                .unwrap_or(0),
        )
    }
}

/// The order of a schedule's events at one instant: heals of earlier faults first (a service
/// started again before it is hit again), then injects in step order, then the heals of the
/// faults that last no time, so that a step of duration 0 is healed right after its inject
/// rather than before it (which left it active until the schedule's end).
const HEAL: u8 = 0;
const INJECT: u8 = 1;
const HEAL_AT_ONCE: u8 = 2;

/// The services a process or partition fault acts on.
/// The container roles a fault acts on: a typed role (`dc2/engine`) by its container role
/// (`dc2-engine`), a datacenter loss by every service of that datacenter.
fn services_of(fault: &Fault, catalogue: &Catalogue) -> Vec<String> {
    let role = |service: &str| {
        service
            .parse::<crate::platform::Role>()
            .map(crate::platform::Role::container_role)
            .unwrap_or_else(|_| service.to_string())
    };
    match fault {
        Fault::Kill { service }
        | Fault::Stop { service, .. }
        | Fault::Pause { service }
        | Fault::Restart { service, .. }
        | Fault::Partition { service } => vec![role(service)],
        Fault::DatacenterLoss { dc } => crate::platform::site_roles(*dc)
            .into_iter()
            .filter(|r| catalogue.services.contains(r))
            .collect(),
        Fault::All { faults, .. } => faults
            .iter()
            .flat_map(|f| services_of(f, catalogue))
            .collect(),
        _ => Vec::new(),
    }
}

impl Nemesis<'_> {
    /// Validates then plays `schedule`; every fault is healed at the end, and on any error
    /// the error names the step (with every heal failure, if healing failed too).
    pub async fn run_schedule(&mut self, schedule: &Schedule) -> Result<()> {
        schedule.validate(&self.catalogue(), None)?;
        let start = tokio::time::Instant::now();
        let mut injected = vec![None; schedule.steps.len()];
        let mut outcome = Ok(());
        for (at, inject, i) in schedule.events() {
            tokio::time::sleep_until(start + Duration::from_millis(at)).await;
            let step = &schedule.steps[i];
            let done = if inject {
                self.inject(&step.fault)
                    .await
                    .map(|handle| injected[i] = Some(handle))
            } else {
                match injected[i].take() {
                    Some(handle) => self.heal(handle).await,
                    None => Ok(()),
                }
            };
            if let Err(e) = done {
                outcome = Err(FaultError::ScheduleStep {
                    path: origin(None),
                    step: i,
                    source: Box::new(e),
                });
                break;
            }
        }
        match (outcome, self.heal_all().await) {
            (Ok(()), healed) => healed,
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(FaultError::HealAll { mut failures })) => {
                tracing::error!(error = %chain(&e), "the schedule stopped");
                failures.insert(0, e);
                Err(FaultError::HealAll { failures })
            }
            (Err(e), Err(other)) => {
                tracing::error!(error = %chain(&other), "healing after the schedule failed");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_toml_give_the_same_schedule() {
        let json = r#"{"steps":[{"at_ms":0,"duration_ms":500,"fault":{"kind":"latency","link":"redis","stream":"downstream","latency_ms":20}}]}"#;
        let toml = "[[steps]]\nat_ms = 0\nduration_ms = 500\nfault = { kind = \"latency\", link = \"redis\", stream = \"downstream\", latency_ms = 20 }\n";
        let a = Schedule::from_json(json, None).unwrap();
        let b = Schedule::from_toml(toml, None).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.length(), Duration::from_millis(500));
    }

    #[test]
    fn parse_errors_name_the_line_and_field() {
        let toml = "[[steps]]\nat_ms = 0\nfault = { kind = \"noop\" }\n\n[[steps]]\nat_ms = 10\nfault = { kind = \"kill\", servise = \"engine\" }\n";
        let err = Schedule::from_toml(toml, Some(Path::new("s.toml"))).unwrap_err();
        let FaultError::ScheduleParse { line, message, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 7, "{err}");
        assert!(
            err.to_string().contains("s.toml") && message.contains("servise"),
            "{err}"
        );
        let json = "{\"steps\": [\n  {\"at_ms\": 0, \"fault\": {\"kind\": \"pause\"}}\n]}";
        let err = Schedule::from_json(json, None).unwrap_err();
        let FaultError::ScheduleParse { line, message, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 2, "{err}");
        assert!(
            message.contains("service") && message.contains("steps[0]"),
            "{err}"
        );
    }

    #[test]
    fn heals_come_before_injects_at_one_instant_and_an_instant_fault_after_its_inject() {
        let step = |at_ms, duration_ms| Step {
            at_ms,
            duration_ms,
            fault: Fault::Noop,
        };
        let schedule = Schedule {
            steps: vec![step(0, 1000), step(1000, 0), step(1000, 500), step(2000, 0)],
        };
        assert_eq!(
            schedule.events(),
            vec![
                (0, true, 0),
                (1000, false, 0),
                (1000, true, 1),
                (1000, true, 2),
                (1000, false, 1),
                (1500, false, 2),
                (2000, true, 3),
                (2000, false, 3),
            ]
        );
    }

    #[test]
    fn overlapping_faults_on_one_service_are_refused() {
        let catalogue = Catalogue {
            links: vec!["redis".into()],
            services: vec!["engine".into(), "redis".into()],
        };
        let step = |at_ms, fault| Step {
            at_ms,
            duration_ms: 1000,
            fault,
        };
        let mut schedule = Schedule {
            steps: vec![
                step(
                    0,
                    Fault::Kill {
                        service: "engine".into(),
                    },
                ),
                step(
                    2000,
                    Fault::Partition {
                        service: "engine".into(),
                    },
                ),
                step(
                    500,
                    Fault::Pause {
                        service: "redis".into(),
                    },
                ),
            ],
        };
        assert!(schedule.validate(&catalogue, None).is_ok());
        schedule.steps[1].at_ms = 900;
        let err = schedule.validate(&catalogue, None).unwrap_err();
        assert!(
            chain(&err).contains("step 1") && chain(&err).contains("engine"),
            "{}",
            chain(&err)
        );
        schedule.steps[1].fault = Fault::Down {
            link: "mysql".into(),
        };
        assert!(chain(&schedule.validate(&catalogue, None).unwrap_err()).contains("mysql"));
    }

    #[rstest::rstest]
    #[case::kill_inside_a_lost_datacenter(
        Fault::DatacenterLoss { dc: crate::platform::Dc::Dc2 },
        Fault::Kill { service: "dc2-engine".into() },
        Some("dc2-engine")
    )]
    #[case::typed_role_inside_a_lost_datacenter(
        Fault::DatacenterLoss { dc: crate::platform::Dc::Dc1 },
        Fault::Pause { service: "dc1/postgres".into() },
        Some("postgres")
    )]
    #[case::typed_and_plain_names_of_one_role(
        Fault::Kill { service: "dc1/engine".into() },
        Fault::Partition { service: "engine".into() },
        Some("engine")
    )]
    #[case::the_other_datacenter(
        Fault::DatacenterLoss { dc: crate::platform::Dc::Dc1 },
        Fault::Kill { service: "dc2/engine".into() },
        None
    )]
    #[case::the_exchange_outside_both(
        Fault::DatacenterLoss { dc: crate::platform::Dc::Dc2 },
        Fault::Kill { service: "mock-ctp".into() },
        None
    )]
    fn overlaps_across_datacenter_faults_are_found(
        #[case] first: Fault,
        #[case] second: Fault,
        #[case] shared: Option<&str>,
    ) {
        let catalogue = Catalogue {
            links: vec!["postgres".into(), "postgres-replication".into()],
            services: [
                "postgres",
                "engine",
                "mock-ctp",
                "interdc",
                "dc2-postgres",
                "dc2-engine",
            ]
            .map(String::from)
            .to_vec(),
        };
        let schedule = Schedule {
            steps: vec![
                Step {
                    at_ms: 0,
                    duration_ms: 2000,
                    fault: first,
                },
                Step {
                    at_ms: 1000,
                    duration_ms: 500,
                    fault: second,
                },
            ],
        };
        let verdict = schedule.validate(&catalogue, None);
        match shared {
            Some(role) => {
                let message = chain(&verdict.unwrap_err());
                assert!(
                    message.contains("step 1") && message.contains(&format!("service {role}")),
                    "{message}"
                );
            }
            None => assert!(verdict.is_ok(), "{verdict:?}"),
        }
    }
}
