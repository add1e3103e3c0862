//! Investors from `fixtures/accounts.json`: credentials, a starting balance and yesterday's
//! positions, and the positions and margin the mock keeps during the day.
//!
//! Money is modelled only as far as the insufficient-money ErrorID needs: margin is frozen at
//! the limit price on insert and held at the fill price; there is no profit and loss, no fee.
//!
//! Known gaps: no hedge flags beyond speculation, no commission, no settlement.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ServerError;
use crate::protocol::Direction;

/// One investor as the fixture holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AccountSpec {
    #[serde(rename = "InvestorID")]
    pub investor_id: String,
    pub password: String,
    #[serde(rename = "AppID")]
    pub app_id: String,
    pub auth_code: String,
    pub balance: f64,
    #[serde(default)]
    pub positions: Vec<PositionSpec>,
}

/// A position carried over from yesterday.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PositionSpec {
    #[serde(rename = "InstrumentID")]
    pub instrument_id: String,
    /// The side of the position: a long is closed by a sell.
    pub direction: Direction,
    pub yd_position: i32,
}

/// `accounts.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AccountsFile {
    #[serde(rename = "BrokerID")]
    pub broker_id: String,
    pub accounts: Vec<AccountSpec>,
}

/// Reads `accounts.json`.
pub fn load(path: &Path) -> Result<AccountsFile, ServerError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServerError::FixtureRead {
        path: path.into(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ServerError::FixtureParse {
        path: path.into(),
        message: e.to_string(),
    })
}

/// A position of one side of one instrument during the day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    pub yd_initial: i32,
    pub yd: i32,
    pub today: i32,
    pub yd_frozen: i32,
    pub today_frozen: i32,
    pub margin: f64,
}

impl Position {
    /// Lots held.
    pub fn total(&self) -> i32 {
        self.yd + self.today
    }
}

/// An investor during the day.
#[derive(Debug, Clone)]
pub struct Account {
    pub spec: AccountSpec,
    pub frozen_margin: f64,
    /// Keyed by instrument and the position's side.
    pub positions: HashMap<(String, Direction), Position>,
}

impl Account {
    /// A fresh day for `spec`.
    pub fn new(spec: AccountSpec) -> Self {
        let mut positions = HashMap::new();
        for p in &spec.positions {
            let pos = Position {
                yd_initial: p.yd_position,
                yd: p.yd_position,
                ..Default::default()
            };
            positions.insert((p.instrument_id.clone(), p.direction), pos);
        }
        Self {
            spec,
            frozen_margin: 0.0,
            positions,
        }
    }

    /// Margin held by positions.
    pub fn used_margin(&self) -> f64 {
        self.positions.values().map(|p| p.margin).sum()
    }

    /// Balance less held and frozen margin.
    pub fn available(&self) -> f64 {
        self.spec.balance - self.used_margin() - self.frozen_margin
    }

    /// The position of one side, created empty on first use.
    pub fn position_mut(&mut self, instrument: &str, side: Direction) -> &mut Position {
        self.positions
            .entry((instrument.to_owned(), side))
            .or_default()
    }
}

/// Builds every investor's fresh day, keyed by InvestorID.
pub fn fresh_day(file: &AccountsFile) -> BTreeMap<String, Account> {
    file.accounts
        .iter()
        .map(|a| (a.investor_id.clone(), Account::new(a.clone())))
        .collect()
}
