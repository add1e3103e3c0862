//! The seed of the engine's reference data from the fixtures directory the mock exchange also
//! reads (`instruments.json`, `accounts.json`, `risk_limits.json`), so both sides agree on
//! investors, balances, yesterday's positions and instrument specifications.
//!
//! The statements insert with `ON CONFLICT DO NOTHING`: seeding twice changes nothing, and a
//! seed never overwrites the state of a running day.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use crate::error::ContractError;

/// One instrument of `instruments.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
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
    /// How the mock exchange matches this instrument's orders (absent: immediate).
    #[serde(default)]
    pub matching: Option<MatchingSpec>,
}

impl InstrumentSpec {
    /// Whether the exchange fills this instrument's marketable orders on its own (immediately
    /// or in parts), rather than leaving them resting.
    pub fn fills(&self) -> bool {
        self.matching
            .as_ref()
            .is_none_or(|m| matches!(m.model.as_str(), "immediate" | "partial"))
    }

    /// Whether closes must say today or yesterday (SHFE and INE split them).
    pub fn splits_today(&self) -> bool {
        matches!(self.exchange_id.as_str(), "SHFE" | "INE")
    }
}

/// The mock exchange's matching model of an instrument.
#[derive(Debug, Clone, Deserialize)]
pub struct MatchingSpec {
    pub model: String,
}

#[derive(Debug, Deserialize)]
struct InstrumentsFile {
    instruments: Vec<InstrumentSpec>,
}

/// One yesterday position of `accounts.json`; Direction "0" is long, "1" short.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PositionSpec {
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    pub direction: String,
    pub yd_position: i32,
}

/// One investor of `accounts.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountSpec {
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    pub balance: f64,
    #[serde(default)]
    pub positions: Vec<PositionSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountsFile {
    #[serde(rename = "BrokerID")]
    broker_id: String,
    accounts: Vec<AccountSpec>,
}

/// One row of `risk_limits.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RiskLimitSpec {
    #[serde(rename = "AccountID")]
    pub account_id: String,
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    pub max_order_volume: i32,
    pub max_position: i32,
    pub price_band_ratio: f64,
}

#[derive(Debug, Deserialize)]
struct RiskLimitsFile {
    limits: Vec<RiskLimitSpec>,
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ContractError> {
    let text = std::fs::read_to_string(path).map_err(|source| ContractError::ReadFixture {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ContractError::ParseFixture {
        path: path.to_owned(),
        source,
    })
}

/// A SQL string literal; standard_conforming_strings (on since PostgreSQL 9.1) makes doubling
/// the quote the only escape needed.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The instruments of `dir/instruments.json`.
pub fn instruments(dir: &Path) -> Result<Vec<InstrumentSpec>, ContractError> {
    Ok(read::<InstrumentsFile>(&dir.join("instruments.json"))?.instruments)
}

/// The investors of `dir/accounts.json`.
pub fn accounts(dir: &Path) -> Result<Vec<AccountSpec>, ContractError> {
    Ok(read::<AccountsFile>(&dir.join("accounts.json"))?.accounts)
}

/// The pre-trade limits of `dir/risk_limits.json`.
pub fn risk_limits(dir: &Path) -> Result<Vec<RiskLimitSpec>, ContractError> {
    Ok(read::<RiskLimitsFile>(&dir.join("risk_limits.json"))?.limits)
}

/// The seed statements (instruments, accounts, yesterday's positions, risk limits) for the
/// fixtures in `dir`; apply after [`crate::SCHEMA_SQL`].
pub fn seed_sql(dir: &Path) -> Result<String, ContractError> {
    let instruments = instruments(dir)?;
    let accounts_path = dir.join("accounts.json");
    let accounts: AccountsFile = read(&accounts_path)?;
    let limits_path = dir.join("risk_limits.json");
    let limits: RiskLimitsFile = read(&limits_path)?;
    let mut sql = String::new();
    for i in &instruments {
        let _ = writeln!(
            sql,
            "INSERT INTO instruments (instrument_id, exchange_id, product_id, price_tick, \
             volume_multiple, pre_settlement_price, upper_limit_price, lower_limit_price, \
             margin_ratio, max_order_volume) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) \
             ON CONFLICT DO NOTHING;",
            lit(&i.instrument_id),
            lit(&i.exchange_id),
            lit(&i.product_id),
            i.price_tick,
            i.volume_multiple,
            i.pre_settlement_price,
            i.upper_limit_price,
            i.lower_limit_price,
            i.margin_ratio,
            i.max_limit_order_volume
        );
    }
    for a in &accounts.accounts {
        let _ = writeln!(
            sql,
            "INSERT INTO accounts (account_id, broker_id, balance) VALUES ({}, {}, {}) \
             ON CONFLICT DO NOTHING;",
            lit(&a.investor_id),
            lit(&accounts.broker_id),
            a.balance
        );
        for p in &a.positions {
            let dir_text = match p.direction.as_str() {
                "0" => "long",
                "1" => "short",
                other => {
                    return Err(ContractError::InvalidFixture {
                        path: accounts_path,
                        what: format!("position direction {other:?} is neither \"0\" nor \"1\""),
                    })
                }
            };
            let _ = writeln!(
                sql,
                "INSERT INTO positions (account_id, instrument_id, posi_direction, yd_position) \
                 VALUES ({}, {}, '{dir_text}', {}) ON CONFLICT DO NOTHING;",
                lit(&a.investor_id),
                lit(&p.instrument_id),
                p.yd_position
            );
        }
    }
    for l in &limits.limits {
        if !accounts
            .accounts
            .iter()
            .any(|a| a.investor_id == l.account_id)
        {
            return Err(ContractError::InvalidFixture {
                path: limits_path,
                what: format!("risk limit for unknown account {}", l.account_id),
            });
        }
        let _ = writeln!(
            sql,
            "INSERT INTO risk_limits (account_id, instrument_id, max_order_volume, \
             max_position, price_band_ratio) VALUES ({}, {}, {}, {}, {}) ON CONFLICT DO NOTHING;",
            lit(&l.account_id),
            lit(&l.instrument_id),
            l.max_order_volume,
            l.max_position,
            l.price_band_ratio
        );
    }
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
    }

    #[test]
    fn seed_covers_every_fixture_row() {
        let sql = seed_sql(&fixtures_dir()).unwrap();
        assert_eq!(sql.matches("INSERT INTO instruments").count(), 4);
        assert_eq!(sql.matches("INSERT INTO accounts").count(), 3);
        assert!(sql.contains("'000001', 'cu2409', 'short', 5"));
        assert!(sql.contains("INSERT INTO risk_limits"));
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(lit("a'b"), "'a''b'");
    }

    #[test]
    fn missing_fixture_names_the_file() {
        let err = seed_sql(Path::new("/nonexistent")).unwrap_err();
        assert!(err.to_string().contains("instruments.json"), "{err}");
    }
}
