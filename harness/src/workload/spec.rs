//! What a workload sends: a fixed rate, bounded in count and in time, for one account, with
//! seeded shares of cancels, duplicate submissions and orders that risk must reject. Every
//! number is validated before anything is sent, with the field named.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::WorkloadError;

/// Shares of operation kinds, each a fraction of all operations in `[0, 1]`; the rest are
/// ordinary submissions inside the risk limits.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Mix {
    /// Cancels of a recently submitted order (of an instrument that does not fill at once
    /// when there is one, so that some cancels race fills).
    pub cancel: f64,
    /// Re-submissions of an earlier order with the same client_order_id (a client retry).
    pub duplicate: f64,
    /// Orders above the account's maximum order volume, which risk must reject.
    pub risk_reject: f64,
}

/// A workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    /// Operations per second, open loop (sent on schedule whatever the replies do).
    pub rate_per_s: f64,
    /// At most this many operations.
    pub operations: u64,
    /// And for at most this long (the schedule is cut there).
    pub max_duration: Duration,
    /// Seeds the choice of every operation.
    pub seed: u64,
    /// The investor the orders are for (the engine's CTP investor).
    pub account: String,
    /// Instruments to trade; empty means every instrument of the fixtures.
    pub instruments: Vec<String>,
    pub mix: Mix,
    /// A reply later than this is an unknown outcome (info).
    pub op_timeout: Duration,
    /// Prefix of every client_order_id, unique per run so that runs never collide.
    pub client_prefix: String,
}

impl WorkloadSpec {
    /// `operations` at `rate_per_s` for `account`, with the time bound twice the schedule's
    /// length plus 10 s.
    pub fn new(account: &str, rate_per_s: f64, operations: u64, seed: u64) -> Self {
        let secs = if rate_per_s > 0.0 {
            operations as f64 / rate_per_s
        } else {
            0.0
        };
        Self {
            rate_per_s,
            operations,
            max_duration: Duration::from_secs_f64((2.0 * secs + 10.0).min(86_400.0)),
            seed,
            account: account.to_owned(),
            instruments: Vec::new(),
            mix: Mix::default(),
            op_timeout: Duration::from_secs(5),
            client_prefix: format!("w{seed:x}"),
        }
    }

    pub fn with_mix(mut self, mix: Mix) -> Self {
        self.mix = mix;
        self
    }

    pub fn with_instruments(mut self, ids: &[&str]) -> Self {
        self.instruments = ids.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Checks every number; the error names the field.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if !(self.rate_per_s.is_finite() && self.rate_per_s > 0.0) {
            return Err(WorkloadError::invalid(
                "rate_per_s",
                format!("{} is not a positive rate", self.rate_per_s),
            ));
        }
        if self.rate_per_s > 1_000_000.0 {
            return Err(WorkloadError::invalid(
                "rate_per_s",
                format!("{} is above the generator's 1,000,000/s", self.rate_per_s),
            ));
        }
        if self.operations == 0 {
            return Err(WorkloadError::invalid("operations", "0 operations"));
        }
        if self.max_duration.is_zero() {
            return Err(WorkloadError::invalid("max_duration", "a zero duration"));
        }
        if self.op_timeout.is_zero() {
            return Err(WorkloadError::invalid("op_timeout", "a zero timeout"));
        }
        if self.account.is_empty() {
            return Err(WorkloadError::invalid("account", "empty"));
        }
        if self.client_prefix.is_empty() || self.client_prefix.contains(char::is_whitespace) {
            return Err(WorkloadError::invalid(
                "client_prefix",
                format!("{:?} must be non-empty without spaces", self.client_prefix),
            ));
        }
        let Mix {
            cancel,
            duplicate,
            risk_reject,
        } = self.mix;
        for (field, v) in [
            ("mix.cancel", cancel),
            ("mix.duplicate", duplicate),
            ("mix.risk_reject", risk_reject),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(WorkloadError::invalid(
                    field,
                    format!("{v} is not a share in [0, 1]"),
                ));
            }
        }
        if cancel + duplicate + risk_reject > 1.0 {
            return Err(WorkloadError::invalid(
                "mix",
                format!(
                    "shares add up to {} (cancel {cancel} + duplicate {duplicate} + risk_reject \
                     {risk_reject}), above 1",
                    cancel + duplicate + risk_reject
                ),
            ));
        }
        Ok(())
    }

    /// The interval between two intended send times.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate_per_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> WorkloadSpec {
        WorkloadSpec::new("000001", 100.0, 10, 7)
    }

    #[test]
    fn a_sane_spec_is_valid() {
        spec().validate().unwrap();
    }

    #[test]
    fn nonsense_is_refused_naming_the_field() {
        let cases: Vec<(WorkloadSpec, &str)> = vec![
            (
                WorkloadSpec {
                    rate_per_s: -5.0,
                    ..spec()
                },
                "rate_per_s",
            ),
            (
                WorkloadSpec {
                    rate_per_s: 0.0,
                    ..spec()
                },
                "rate_per_s",
            ),
            (
                WorkloadSpec {
                    rate_per_s: f64::NAN,
                    ..spec()
                },
                "rate_per_s",
            ),
            (
                WorkloadSpec {
                    operations: 0,
                    ..spec()
                },
                "operations",
            ),
            (
                WorkloadSpec {
                    max_duration: Duration::ZERO,
                    ..spec()
                },
                "max_duration",
            ),
            (
                WorkloadSpec {
                    op_timeout: Duration::ZERO,
                    ..spec()
                },
                "op_timeout",
            ),
            (
                spec().with_mix(Mix {
                    cancel: 1.5,
                    ..Mix::default()
                }),
                "mix.cancel",
            ),
            (
                spec().with_mix(Mix {
                    cancel: 0.6,
                    duplicate: 0.6,
                    risk_reject: 0.0,
                }),
                "mix",
            ),
        ];
        for (s, field) in cases {
            let err = s.validate().unwrap_err().to_string();
            assert!(err.contains(&format!("invalid workload {field}:")), "{err}");
        }
    }
}
