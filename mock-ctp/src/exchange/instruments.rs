//! Instruments from `fixtures/instruments.json`: tick size, multiplier, price limits, margin
//! ratio and the matching model of each, plus the price checks an order must pass.
//!
//! Known gaps: no trading sessions or night-session clock (an instrument trades until halted),
//! one margin ratio for both sides, limits fixed for the day.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ServerError;
use crate::protocol::error_id;

/// How the mock exchange treats an accepted order of an instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum MatchingModel {
    /// The whole volume fills at the limit price at once.
    Immediate,
    /// The volume fills in seeded random chunks, one every `interval_ms`.
    Partial { interval_ms: u64 },
    /// The order rests until cancelled (IOC orders are cancelled at once).
    Rest,
    /// The exchange rejects the order after CTP accepted it (`OrderSubmitStatus` '4').
    Reject,
}

/// One instrument's static data, as the fixture holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct InstrumentSpec {
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    #[serde(rename = "ExchangeID")]
    pub exchange_id: String,
    #[serde(rename = "ProductID")]
    pub product_id: String,
    pub price_tick: f64,
    pub volume_multiple: i32,
    pub pre_settlement_price: f64,
    pub upper_limit_price: f64,
    pub lower_limit_price: f64,
    pub margin_ratio: f64,
    pub max_limit_order_volume: i32,
    pub matching: MatchingModel,
}

#[derive(Debug, Deserialize)]
struct InstrumentsFile {
    instruments: Vec<InstrumentSpec>,
}

impl InstrumentSpec {
    /// Checks a limit price: on the tick grid and within the day's limits, or CTP's ErrorID.
    pub fn check_price(&self, price: f64) -> Result<(), (i32, &'static str)> {
        if !price.is_finite() || price <= 0.0 {
            return Err((error_id::BAD_FIELD, "invalid LimitPrice"));
        }
        let ticks = price / self.price_tick;
        if (ticks - ticks.round()).abs() > 1e-6 {
            return Err((
                error_id::PRICE_NOT_ON_TICK,
                "price is not a multiple of the tick",
            ));
        }
        let eps = self.price_tick * 1e-6;
        if price > self.upper_limit_price + eps || price < self.lower_limit_price - eps {
            return Err((
                error_id::PRICE_OUT_OF_LIMITS,
                "price outside the daily limits",
            ));
        }
        Ok(())
    }

    /// The margin of `volume` lots at `price`.
    pub fn margin(&self, price: f64, volume: i32) -> f64 {
        price * f64::from(self.volume_multiple) * f64::from(volume) * self.margin_ratio
    }

    /// Whether closes must say today or yesterday (SHFE and INE keep them apart).
    pub fn splits_today(&self) -> bool {
        matches!(self.exchange_id.as_str(), "SHFE" | "INE")
    }

    fn validate(&self) -> Result<(), ServerError> {
        let bad = |what: &str| {
            Err(ServerError::FixtureInvalid(format!(
                "instrument {}: {what}",
                self.instrument_id
            )))
        };
        if self.price_tick <= 0.0 || !self.price_tick.is_finite() {
            return bad("PriceTick must be positive");
        }
        if self.volume_multiple <= 0 || self.max_limit_order_volume <= 0 {
            return bad("VolumeMultiple and MaxLimitOrderVolume must be positive");
        }
        if self.lower_limit_price > self.upper_limit_price || self.lower_limit_price <= 0.0 {
            return bad("LowerLimitPrice must be positive and at most UpperLimitPrice");
        }
        if !(0.0..=1.0).contains(&self.margin_ratio) {
            return bad("MarginRatio must be within 0..=1");
        }
        Ok(())
    }
}

/// Reads and checks `instruments.json`.
pub fn load(path: &Path) -> Result<BTreeMap<String, InstrumentSpec>, ServerError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServerError::FixtureRead {
        path: path.into(),
        source,
    })?;
    parse(&text).map_err(|e| match e {
        ServerError::FixtureParse { message, .. } => ServerError::FixtureParse {
            path: path.into(),
            message,
        },
        other => other,
    })
}

/// Parses the text of `instruments.json`.
pub fn parse(text: &str) -> Result<BTreeMap<String, InstrumentSpec>, ServerError> {
    let file: InstrumentsFile =
        serde_json::from_str(text).map_err(|e| ServerError::FixtureParse {
            path: "instruments.json".into(),
            message: e.to_string(),
        })?;
    let mut out = BTreeMap::new();
    for spec in file.instruments {
        spec.validate()?;
        out.insert(spec.instrument_id.clone(), spec);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rb() -> InstrumentSpec {
        InstrumentSpec {
            instrument_id: "rb".into(),
            exchange_id: "SHFE".into(),
            product_id: "rb".into(),
            price_tick: 1.0,
            volume_multiple: 10,
            pre_settlement_price: 3600.0,
            upper_limit_price: 3708.0,
            lower_limit_price: 3492.0,
            margin_ratio: 0.16,
            max_limit_order_volume: 500,
            matching: MatchingModel::Immediate,
        }
    }

    #[test]
    fn price_checks_give_ctp_error_ids() {
        let rb = rb();
        assert_eq!(rb.check_price(3600.0), Ok(()));
        assert_eq!(rb.check_price(3708.0), Ok(()));
        assert_eq!(
            rb.check_price(3600.5).unwrap_err().0,
            error_id::PRICE_NOT_ON_TICK
        );
        assert_eq!(
            rb.check_price(3709.0).unwrap_err().0,
            error_id::PRICE_OUT_OF_LIMITS
        );
        assert_eq!(rb.check_price(f64::NAN).unwrap_err().0, error_id::BAD_FIELD);
        let au = InstrumentSpec {
            price_tick: 0.02,
            lower_limit_price: 1.0,
            ..rb
        };
        assert_eq!(au.check_price(550.06), Ok(()));
    }

    #[test]
    fn the_committed_fixture_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/instruments.json");
        let all = load(&path).unwrap();
        for id in ["rb2410", "cu2409", "au2412", "IF2409"] {
            assert!(all.contains_key(id), "{id} missing");
        }
    }
}
