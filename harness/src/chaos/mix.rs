//! What a chaos schedule draws from: kinds of fault, each with a rate in **faults per minute of
//! schedule** (so a mix reads as "about 4 latency faults and 1 engine kill a minute"), and for
//! each kind how long it lasts. A mix is data: the default below, or a TOML/JSON file
//! (`harness chaos --mix`), validated before anything is drawn.
//!
//! The default holds the faults a healthy platform must survive with every check valid after
//! heal and convergence. Faults that break the contract's own assumptions on purpose (dropped
//! returns on the wire with no reconnect, a black hole on the PostgreSQL link with no kill) are
//! left out of it; a mix file can add them for a targeted hunt.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::ChaosError;

/// A kind of fault the generator draws; its targets and attributes are drawn with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChaosKind {
    /// Latency with jitter on one engine→service link, one direction.
    LinkLatency,
    /// A link refusing and closing connections (`down`).
    LinkDown,
    /// Connections on a link reset (TCP RST).
    LinkReset,
    /// A black hole (`timeout`) on the Kafka or Redis link.
    LinkBlackhole,
    /// SIGKILL of the engine; restarted when healed.
    EngineKill,
    /// The engine frozen (SIGSTOP of its processes); resumed when healed.
    EnginePause,
    /// SIGKILL of PostgreSQL, Redis or Kafka; restarted when healed.
    DependencyKill,
    /// Redis or Kafka disconnected from the network; reconnected with its address.
    Partition,
    /// The CTP front drops its sessions with a CTP reason (0x1001 …).
    FrontDisconnect,
    /// Both CTP fronts stop reading and writing.
    FrontHang,
    /// Private returns written late.
    DelayReturns,
    /// Returns lagging by seconds, then the front drops its sessions: at the reconnect the
    /// fate of the last orders is unknown to the engine, so it must reconcile them with the
    /// exchange's order list (found ones must not be sent again).
    LaggingDisconnect,
    /// CTP flow control: few orders per second.
    FlowControl,
    /// Private returns dropped on the wire (they stay in the flow). Not in the default mix.
    DropReturns,
    /// A black hole on the PostgreSQL link. Not in the default mix.
    PostgresBlackhole,
}

impl ChaosKind {
    /// How long a fault of this kind stays before it is healed, in ms.
    pub fn hold_ms(self) -> RangeInclusive<u64> {
        match self {
            Self::LinkLatency | Self::LinkDown | Self::LinkReset | Self::LinkBlackhole => {
                500..=3_000
            }
            Self::EngineKill | Self::DependencyKill => 200..=2_000,
            Self::EnginePause => 200..=1_500,
            Self::Partition => 500..=3_000,
            // A disconnect is over at once, but its effect lasts until the engine has logged
            // in again (a second later) and reconciled: the next fault waits for that, else a
            // second disconnect finds no session to drop and cannot take effect.
            Self::FrontDisconnect => 1_500..=2_500,
            Self::DropReturns => 0..=0,
            Self::FrontHang => 200..=1_500,
            Self::DelayReturns | Self::FlowControl => 500..=3_000,
            // Held past the engine's reconnect (1 s after a disconnect) and its order query.
            Self::LaggingDisconnect => 2_500..=5_000,
            Self::PostgresBlackhole => 200..=1_000,
        }
    }
}

/// Rates per kind, in faults per minute of schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultMix {
    pub per_minute: BTreeMap<ChaosKind, f64>,
}

impl Default for FaultMix {
    fn default() -> Self {
        use ChaosKind::*;
        Self {
            per_minute: [
                (LinkLatency, 4.0),
                (LinkDown, 2.0),
                (LinkReset, 1.0),
                (LinkBlackhole, 1.0),
                (EngineKill, 1.5),
                (EnginePause, 1.0),
                (DependencyKill, 1.0),
                (Partition, 1.0),
                (FrontDisconnect, 2.0),
                (FrontHang, 1.0),
                (DelayReturns, 1.5),
                (LaggingDisconnect, 1.0),
                (FlowControl, 1.0),
            ]
            .into_iter()
            .collect(),
        }
    }
}

impl FaultMix {
    /// Faults per minute over every kind.
    pub fn total_per_minute(&self) -> f64 {
        self.per_minute.values().sum()
    }

    /// Each rate must be finite and ≥ 0, and at least one > 0.
    pub fn validate(&self, origin: &str) -> Result<(), ChaosError> {
        for (kind, rate) in &self.per_minute {
            if !rate.is_finite() || *rate < 0.0 {
                return Err(ChaosError::Mix {
                    origin: origin.into(),
                    reason: format!(
                        "per_minute.{}: {rate} is not a rate (faults per minute, ≥ 0)",
                        serde_json::to_value(kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    ),
                });
            }
        }
        if self.total_per_minute() <= 0.0 {
            return Err(ChaosError::Mix {
                origin: origin.into(),
                reason: "every rate is 0: nothing to draw".into(),
            });
        }
        Ok(())
    }

    /// Reads a mix from a `.toml` or `.json` file, e.g. `[per_minute]\nengine_kill = 2.0`.
    pub fn load(path: &Path) -> Result<FaultMix, ChaosError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ChaosError::Mix {
            origin: origin.clone(),
            reason: e.to_string(),
        })?;
        let json = path.extension().is_some_and(|e| e == "json");
        Self::parse(&text, json, &origin)
    }

    /// Parses and validates a mix's text, JSON when `json` is set and TOML otherwise; errors
    /// name `origin` (the file).
    pub fn parse(text: &str, json: bool, origin: &str) -> Result<FaultMix, ChaosError> {
        let bad = |reason: String| ChaosError::Mix {
            origin: origin.into(),
            reason,
        };
        let mix: FaultMix = if json {
            serde_json::from_str(text).map_err(|e| bad(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| bad(e.to_string()))?
        };
        mix.validate(origin)?;
        Ok(mix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_file_names_the_bad_kind_or_rate() {
        let dir = std::env::temp_dir().join(format!("mix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad_kind = dir.join("a.toml");
        std::fs::write(&bad_kind, "[per_minute]\nengine_kil = 1.0\n").unwrap();
        let e = FaultMix::load(&bad_kind).unwrap_err().to_string();
        assert!(e.contains("a.toml") && e.contains("engine_kil"), "{e}");
        let bad_rate = dir.join("b.toml");
        std::fs::write(&bad_rate, "[per_minute]\nengine_kill = -1.0\n").unwrap();
        let e = FaultMix::load(&bad_rate).unwrap_err().to_string();
        assert!(
            e.contains("per_minute.engine_kill") && e.contains("-1"),
            "{e}"
        );
        let good = dir.join("c.toml");
        std::fs::write(&good, "[per_minute]\nengine_kill = 2.0\n").unwrap();
        assert_eq!(FaultMix::load(&good).unwrap().total_per_minute(), 2.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
