//! Faults as data: one serde enum tagged by `kind`, e.g.
//! `{"kind":"latency","link":"postgres","stream":"upstream","latency_ms":50,"jitter_ms":5}`.
//! Unknown fields are refused, and a parse error names the field's path. [`Fault::validate`]
//! checks attributes and targets against a [`Catalogue`] of the running platform before
//! anything is injected, so a typo fails the run before it starts rather than half way.
//!
//! Known gaps: `toxicity` (the share of connections a toxic hits) is always 1.0.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{FaultError, Result};

/// The direction of a link's traffic a network fault acts on, in Toxiproxy's words:
/// `upstream` is engine→service (requests), `downstream` service→engine (answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Upstream,
    Downstream,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }
}

fn reason_default() -> i32 {
    0x1001
}

fn reject_default() -> i32 {
    31
}

fn stop_timeout_default() -> u32 {
    10
}

fn hang_default() -> u64 {
    3_600_000
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// One fault. Network faults act on an engine→service link of the fault proxy (`postgres`,
/// `redis`, `kafka`, `ctp-trade`, `ctp-md`); process and partition faults on a service by its
/// role (`postgres`, `engine`, …); exchange faults on the mock CTP front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Nothing: a placeholder in schedules and compositions.
    Noop,
    /// Every fault together, injected in order (`stagger_ms` apart, at once by default) and
    /// healed in reverse.
    All {
        faults: Vec<Fault>,
        #[serde(default, skip_serializing_if = "is_zero")]
        stagger_ms: u64,
    },
    /// Delays the link's data by `latency_ms` ± `jitter_ms`.
    Latency {
        link: String,
        stream: Stream,
        latency_ms: u64,
        #[serde(default)]
        jitter_ms: u64,
    },
    /// Limits the link to `rate_kb_s` kilobytes per second.
    Bandwidth {
        link: String,
        stream: Stream,
        rate_kb_s: u64,
    },
    /// A black hole: data is swallowed, and the connection closed after `timeout_ms` (0:
    /// never).
    Timeout {
        link: String,
        stream: Stream,
        timeout_ms: u64,
    },
    /// Resets connections (TCP RST) after `timeout_ms`.
    ResetPeer {
        link: String,
        stream: Stream,
        #[serde(default)]
        timeout_ms: u64,
    },
    /// Cuts the data into pieces of `average_size` ± `size_variation` bytes, `delay_us`
    /// apart.
    Slicer {
        link: String,
        stream: Stream,
        average_size: u64,
        #[serde(default)]
        size_variation: u64,
        #[serde(default)]
        delay_us: u64,
    },
    /// Closes each connection once `bytes` have passed.
    LimitData {
        link: String,
        stream: Stream,
        bytes: u64,
    },
    /// The link is down: connections are refused, and open ones closed.
    Down { link: String },
    /// SIGKILL; heal starts it again (same address, ready again).
    Kill { service: String },
    /// A graceful stop (SIGTERM, SIGKILL after `timeout_s`); heal starts it again.
    Stop {
        service: String,
        #[serde(default = "stop_timeout_default")]
        timeout_s: u32,
    },
    /// Freezes every process of the service (the kernel still ACKs TCP: a hang, not a cut);
    /// heal resumes it.
    Pause { service: String },
    /// A graceful stop then a start, at once; nothing to heal.
    Restart {
        service: String,
        #[serde(default = "stop_timeout_default")]
        timeout_s: u32,
    },
    /// Disconnects the service's container from the platform network; heal reconnects it
    /// with the same IPv4 address.
    Partition { service: String },
    /// Every container of datacenter `dc` killed at once (SIGKILL), and the inter-DC line's
    /// links down with it (what the line held undelivered is lost); heal brings the line back,
    /// then starts the containers again with their volumes (an old primary comes back with its
    /// old data), its fault proxy first and its engine last, each waited for.
    DatacenterLoss { dc: crate::platform::Dc },
    /// Datacenter `dc` cut off from the other while it keeps running (the split-brain case):
    /// every link of the inter-DC line down (replication, and each site's reads of the
    /// other's fence); each site keeps its own links and its exchange access. The order
    /// router is the client's: rerouting away from `dc` is the DR controller's step, not the
    /// fault's. Heal brings the line's links back.
    DatacenterIsolation { dc: crate::platform::Dc },
    /// The front sends `FrontDisconnected(reason)` and closes one session or all; the client
    /// reconnects by itself, so there is nothing to heal.
    FrontDisconnect {
        #[serde(default = "reason_default")]
        reason: i32,
        #[serde(default)]
        session_id: Option<i32>,
    },
    /// Both fronts stop reading and writing for `ms` (default: until healed).
    FrontHang {
        #[serde(default = "hang_default")]
        ms: u64,
    },
    /// Each private return is written no earlier than `ms` after it was made.
    DelayReturns { ms: u64 },
    /// The next `count` private returns are dropped on the wire (they stay in the flow).
    DropReturns { count: u64 },
    /// The next `count` orders are rejected by CTP with `error_id`.
    RejectOrders {
        count: u32,
        #[serde(default = "reject_default")]
        error_id: i32,
        #[serde(default)]
        error_msg: Option<String>,
    },
    /// Flow control: at most `orders_per_second` per session (or for one session).
    FlowControl {
        orders_per_second: u32,
        #[serde(default)]
        session_id: Option<i32>,
    },
}

/// The CTP reasons a front disconnect may carry (PROTOCOL.md).
pub const CTP_REASONS: [i32; 5] = [0x1001, 0x1002, 0x2001, 0x2002, 0x2003];

/// What a running platform offers faults: its links and its services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    pub links: Vec<String>,
    pub services: Vec<String>,
}

impl Catalogue {
    fn link(&self, link: &str) -> Result<()> {
        if self.links.iter().any(|l| l == link) {
            return Ok(());
        }
        Err(FaultError::UnknownLink {
            link: link.into(),
            known: format!("links {}", self.links.join(", ")),
        })
    }

    fn service(&self, service: &str) -> Result<()> {
        // A typed role (`dc2/engine`) names the container role `dc2-engine`.
        let role = match service.parse::<crate::platform::Role>() {
            Ok(role) if service.contains('/') => role.container_role(),
            _ => service.to_string(),
        };
        if self.services.contains(&role) {
            return Ok(());
        }
        Err(FaultError::UnknownService {
            service: service.into(),
            known: self.services.join(", "),
        })
    }
}

impl Fault {
    /// Parses one fault from JSON; the error names the path of the offending field.
    pub fn from_json(text: &str) -> Result<Fault> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| FaultError::Parse {
            path: e.path().to_string(),
            source: e.into_inner(),
        })
    }

    /// The fault's kind, as the history records it (`latency`, `kill`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Noop => "noop",
            Fault::All { .. } => "all",
            Fault::Latency { .. } => "latency",
            Fault::Bandwidth { .. } => "bandwidth",
            Fault::Timeout { .. } => "timeout",
            Fault::ResetPeer { .. } => "reset_peer",
            Fault::Slicer { .. } => "slicer",
            Fault::LimitData { .. } => "limit_data",
            Fault::Down { .. } => "down",
            Fault::Kill { .. } => "kill",
            Fault::Stop { .. } => "stop",
            Fault::Pause { .. } => "pause",
            Fault::Restart { .. } => "restart",
            Fault::Partition { .. } => "partition",
            Fault::DatacenterLoss { .. } => "datacenter_loss",
            Fault::DatacenterIsolation { .. } => "datacenter_isolation",
            Fault::FrontDisconnect { .. } => "front_disconnect",
            Fault::FrontHang { .. } => "front_hang",
            Fault::DelayReturns { .. } => "delay_returns",
            Fault::DropReturns { .. } => "drop_returns",
            Fault::RejectOrders { .. } => "reject_orders",
            Fault::FlowControl { .. } => "flow_control",
        }
    }

    /// What the fault hits, as the history records it: `engine->postgres/upstream` for a
    /// toxic, `engine->postgres` for a link down, the service for process and partition
    /// faults, `mock-ctp` for exchange faults.
    pub fn target(&self) -> String {
        match self {
            Fault::Noop => String::new(),
            Fault::All { faults, .. } => faults
                .iter()
                .map(Fault::target)
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(","),
            Fault::Latency { link, stream, .. }
            | Fault::Bandwidth { link, stream, .. }
            | Fault::Timeout { link, stream, .. }
            | Fault::ResetPeer { link, stream, .. }
            | Fault::Slicer { link, stream, .. }
            | Fault::LimitData { link, stream, .. } => {
                format!("engine->{link}/{}", stream.as_str())
            }
            Fault::Down { link } => format!("engine->{link}"),
            Fault::Kill { service }
            | Fault::Stop { service, .. }
            | Fault::Pause { service }
            | Fault::Restart { service, .. }
            | Fault::Partition { service } => service.clone(),
            Fault::DatacenterLoss { dc } | Fault::DatacenterIsolation { dc } => dc.to_string(),
            Fault::FrontDisconnect { .. }
            | Fault::FrontHang { .. }
            | Fault::DelayReturns { .. }
            | Fault::DropReturns { .. }
            | Fault::RejectOrders { .. }
            | Fault::FlowControl { .. } => "mock-ctp".into(),
        }
    }

    /// Checks attributes and targets; the error names the field or the unknown target.
    pub fn validate(&self, catalogue: &Catalogue) -> Result<()> {
        let kind = self.kind();
        let bad = |field: &str, reason: &str| Err(FaultError::invalid(kind, field, reason));
        match self {
            Fault::Noop => Ok(()),
            Fault::All { faults, .. } => faults.iter().try_for_each(|f| f.validate(catalogue)),
            Fault::Latency {
                link, latency_ms, ..
            } => {
                catalogue.link(link)?;
                match *latency_ms {
                    0 => bad("latency_ms", "must be at least 1"),
                    60_001.. => bad("latency_ms", "must be at most 60000"),
                    _ => Ok(()),
                }
            }
            Fault::Bandwidth {
                link, rate_kb_s, ..
            } => {
                catalogue.link(link)?;
                match *rate_kb_s {
                    0 => bad(
                        "rate_kb_s",
                        "must be at least 1 (a rate of 0 is a timeout fault)",
                    ),
                    _ => Ok(()),
                }
            }
            Fault::Timeout { link, .. } | Fault::ResetPeer { link, .. } | Fault::Down { link } => {
                catalogue.link(link)
            }
            Fault::Slicer {
                link,
                average_size,
                size_variation,
                ..
            } => {
                catalogue.link(link)?;
                if *average_size == 0 {
                    bad("average_size", "must be at least 1")
                } else if size_variation >= average_size {
                    bad("size_variation", "must be less than average_size")
                } else {
                    Ok(())
                }
            }
            Fault::LimitData { link, bytes, .. } => {
                catalogue.link(link)?;
                match *bytes {
                    0 => bad("bytes", "must be at least 1 (a limit of 0 is a down link)"),
                    _ => Ok(()),
                }
            }
            Fault::Kill { service } | Fault::Pause { service } | Fault::Partition { service } => {
                catalogue.service(service)
            }
            Fault::DatacenterLoss { dc } | Fault::DatacenterIsolation { dc } => {
                let has = |prefix: &str| catalogue.services.iter().any(|s| s == prefix);
                let present = match dc {
                    crate::platform::Dc::Dc1 => has("postgres"),
                    crate::platform::Dc::Dc2 => has("dc2-postgres"),
                };
                let isolation = matches!(self, Fault::DatacenterIsolation { .. });
                match (present, isolation && !has("dc2-postgres")) {
                    (true, false) => Ok(()),
                    (false, _) => bad(
                        "dc",
                        &format!("the platform has no {dc} (it runs one datacenter, dc1)"),
                    ),
                    (true, true) => bad(
                        "dc",
                        "the platform runs one datacenter: there is no inter-DC line to cut",
                    ),
                }
            }
            Fault::Stop { service, timeout_s } | Fault::Restart { service, timeout_s } => {
                catalogue.service(service)?;
                match *timeout_s {
                    301.. => bad("timeout_s", "must be at most 300"),
                    _ => Ok(()),
                }
            }
            Fault::FrontDisconnect { reason, .. } => match CTP_REASONS.contains(reason) {
                true => Ok(()),
                false => bad(
                    "reason",
                    "must be a CTP disconnect reason: 0x1001, 0x1002, 0x2001, 0x2002 or 0x2003",
                ),
            },
            Fault::FrontHang { ms } | Fault::DelayReturns { ms } => match *ms {
                0 => bad("ms", "must be at least 1"),
                _ => Ok(()),
            },
            Fault::DropReturns { count } => match *count {
                0 => bad("count", "must be at least 1"),
                _ => Ok(()),
            },
            Fault::RejectOrders {
                count, error_id, ..
            } => match (*count, *error_id) {
                (0, _) => bad("count", "must be at least 1"),
                (_, 0) => bad("error_id", "must not be 0 (0 is success in CTP)"),
                _ => Ok(()),
            },
            Fault::FlowControl {
                orders_per_second, ..
            } => match *orders_per_second {
                0 => bad("orders_per_second", "must be at least 1"),
                _ => Ok(()),
            },
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target() {
            t if t.is_empty() => f.write_str(self.kind()),
            t => write!(f, "{} on {t}", self.kind()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue {
            links: vec!["postgres".into(), "redis".into()],
            services: vec!["postgres".into(), "engine".into()],
        }
    }

    #[test]
    fn parses_the_documented_form_and_round_trips() {
        let text = r#"{"kind":"latency","link":"postgres","stream":"upstream","latency_ms":50,"jitter_ms":5}"#;
        let fault = Fault::from_json(text).unwrap();
        assert_eq!(
            fault,
            Fault::Latency {
                link: "postgres".into(),
                stream: Stream::Upstream,
                latency_ms: 50,
                jitter_ms: 5
            }
        );
        let again = Fault::from_json(&serde_json::to_string(&fault).unwrap()).unwrap();
        assert_eq!(again, fault);
        assert_eq!(fault.to_string(), "latency on engine->postgres/upstream");
    }

    #[test]
    fn parse_errors_name_the_field() {
        let err = Fault::from_json(
            r#"{"kind":"latency","link":"redis","stream":"sideways","latency_ms":5}"#,
        )
        .unwrap_err();
        let text = super::super::error::chain(&err);
        assert!(
            text.contains("stream") && text.contains("sideways"),
            "{text}"
        );
        let err = Fault::from_json(r#"{"kind":"kill","service":"engine","signal":9}"#).unwrap_err();
        assert!(super::super::error::chain(&err).contains("signal"), "{err}");
        let err = Fault::from_json(r#"{"kind":"all","faults":[{"kind":"down"}]}"#).unwrap_err();
        let text = super::super::error::chain(&err);
        // Inside a tagged enum serde buffers the fault, so the path stops there; the field is
        // named all the same.
        assert!(text.contains("missing field `link`"), "{text}");
    }

    #[test]
    fn validation_names_unknown_targets_and_bad_attributes() {
        let c = catalogue();
        let err = Fault::Down {
            link: "mysql".into(),
        }
        .validate(&c)
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("mysql") && text.contains("postgres, redis"),
            "{text}"
        );
        let err = Fault::Kill {
            service: "nginx".into(),
        }
        .validate(&c)
        .unwrap_err();
        assert!(err.to_string().contains("nginx") && err.to_string().contains("engine"));
        let slicer = Fault::Slicer {
            link: "redis".into(),
            stream: Stream::Downstream,
            average_size: 10,
            size_variation: 10,
            delay_us: 0,
        };
        assert!(slicer
            .validate(&c)
            .unwrap_err()
            .to_string()
            .contains("size_variation"));
        let reason = Fault::FrontDisconnect {
            reason: 7,
            session_id: None,
        };
        assert!(reason
            .validate(&c)
            .unwrap_err()
            .to_string()
            .contains("reason"));
        let nested = Fault::All {
            faults: vec![
                Fault::Noop,
                Fault::Pause {
                    service: "redis".into(),
                },
            ],
            stagger_ms: 0,
        };
        assert!(nested
            .validate(&c)
            .unwrap_err()
            .to_string()
            .contains("redis"));
        assert!(Fault::Kill {
            service: "engine".into()
        }
        .validate(&c)
        .is_ok());
    }

    fn two_dc_catalogue() -> Catalogue {
        Catalogue {
            links: vec!["postgres".into(), "postgres-replication".into()],
            services: vec![
                "postgres".into(),
                "engine".into(),
                "dc2-postgres".into(),
                "dc2-engine".into(),
            ],
        }
    }

    #[rstest::rstest]
    #[case::dc2_on_one_datacenter(r#"{"kind":"datacenter_loss","dc":"dc2"}"#, false, "dc2")]
    #[case::unknown_datacenter(r#"{"kind":"datacenter_loss","dc":"dc3"}"#, true, "dc3")]
    #[case::isolation_on_one_datacenter(
        r#"{"kind":"datacenter_isolation","dc":"dc1"}"#,
        false,
        "datacenter_isolation"
    )]
    #[case::isolation_of_an_unknown_datacenter(
        r#"{"kind":"datacenter_isolation","dc":"west"}"#,
        true,
        "west"
    )]
    #[case::typed_role_of_a_missing_site(
        r#"{"kind":"kill","service":"dc2/engine"}"#,
        false,
        "dc2/engine"
    )]
    #[case::unknown_service_in_dc2(r#"{"kind":"kill","service":"dc2/mysql"}"#, true, "mysql")]
    #[case::line_link_on_one_datacenter(
        r#"{"kind":"down","link":"postgres-replication"}"#,
        false,
        "postgres-replication"
    )]
    fn two_datacenter_faults_on_one_are_refused_naming_what(
        #[case] text: &str,
        #[case] two_dc_too: bool,
        #[case] named: &str,
    ) {
        let err = Fault::from_json(text)
            .and_then(|f| f.validate(&catalogue()))
            .unwrap_err();
        let message = super::super::error::chain(&err);
        assert!(message.contains(named), "{message}");
        let on_two = Fault::from_json(text).and_then(|f| f.validate(&two_dc_catalogue()));
        assert_eq!(
            on_two.is_err(),
            two_dc_too,
            "on two datacenters: {on_two:?}"
        );
    }
}
