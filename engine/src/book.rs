//! The engine's in-memory view of its durable state: reference data, accounts, positions and
//! the day's orders. It is loaded from PostgreSQL at start and changed only together with a
//! commit (admission reserves, the committer records, the return applier moves), so risk
//! checks read it without a database round trip.
//!
//! Known gaps: the book holds the whole trading day's orders in memory (fine for a test day of
//! a few hundred thousand orders, not for a year).

use std::collections::HashMap;

use contract::model::{Offset, OrderStatus, Side};

/// A position's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PosiDir {
    Long,
    Short,
}

impl PosiDir {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Long => "long",
            Self::Short => "short",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "long" => Some(Self::Long),
            "short" => Some(Self::Short),
            _ => None,
        }
    }

    /// The position an order of `side` and `offset` opens or closes.
    pub fn of(side: Side, offset: Offset) -> Self {
        match (side, offset) {
            (Side::Buy, Offset::Open) => Self::Long,
            (Side::Sell, Offset::Open) => Self::Short,
            (Side::Buy, _) => Self::Short,
            (Side::Sell, _) => Self::Long,
        }
    }
}

/// Static data of an instrument.
#[derive(Debug, Clone)]
pub struct Instrument {
    pub instrument_id: String,
    pub exchange_id: String,
    pub price_tick: f64,
    pub volume_multiple: i32,
    pub pre_settlement_price: f64,
    pub upper_limit_price: f64,
    pub lower_limit_price: f64,
    pub margin_ratio: f64,
    pub max_order_volume: i32,
}

impl Instrument {
    /// Margin of `volume` lots at `price`, as the exchange computes it.
    pub fn margin(&self, price: f64, volume: i32) -> f64 {
        price * f64::from(self.volume_multiple) * f64::from(volume) * self.margin_ratio
    }

    /// Whether closing a position needs today/yesterday to be named (SHFE, INE).
    pub fn splits_today(&self) -> bool {
        matches!(self.exchange_id.as_str(), "SHFE" | "INE")
    }
}

/// Pre-trade limits of an account for one instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub max_order_volume: i32,
    pub max_position: i32,
    pub price_band_ratio: f64,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub account_id: String,
    pub broker_id: String,
    pub balance: f64,
    pub curr_margin: f64,
    pub frozen_margin: f64,
}

impl Account {
    pub fn available(&self) -> f64 {
        self.balance - self.curr_margin - self.frozen_margin
    }
}

/// A position, plus the volume working orders may still add to or take from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    pub today: i32,
    pub yd: i32,
    pub margin: f64,
    /// Untraded volume of working open orders.
    pub open_pending: i32,
    /// Untraded volume of working close orders.
    pub close_pending: i32,
}

impl Position {
    pub fn total(&self) -> i32 {
        self.today + self.yd
    }
}

/// One order as the engine tracks it (the `orders` row plus what is only in memory).
#[derive(Debug, Clone)]
pub struct OrderRec {
    pub order_id: i64,
    pub client_order_id: String,
    pub account_id: String,
    pub instrument_id: String,
    pub exchange_id: String,
    pub side: Side,
    pub offset: Offset,
    pub limit_price: f64,
    pub volume: i32,
    pub volume_traded: i32,
    pub status: OrderStatus,
    pub front_id: i32,
    pub session_id: i32,
    pub order_ref: String,
    pub order_sys_id: String,
    pub error_id: i32,
    pub error_msg: String,
    pub frozen_margin: f64,
    pub order_event_seq: i32,
    pub trade_event_seq: i32,
    pub trading_day: String,
    pub created_at_us: i64,
    pub updated_at_us: i64,
    /// Written to the front in the current session (memory only; a restart reconciles).
    pub sent: bool,
}

impl OrderRec {
    /// The RequestID the engine sends with the order, to match `ErrRtnOrderInsert`.
    pub fn request_id(&self) -> i32 {
        (self.order_id % i64::from(i32::MAX)) as i32
    }

    pub fn remaining(&self) -> i32 {
        self.volume - self.volume_traded
    }

    pub fn posi_dir(&self) -> PosiDir {
        PosiDir::of(self.side, self.offset)
    }
}

/// The CTP trade session as the engine sees it.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub logged_in: bool,
    /// Logged in and reconciled: new orders may be routed.
    pub ready: bool,
    pub front_id: i32,
    pub session_id: i32,
    pub next_order_ref: i64,
    pub trading_day: String,
}

impl Session {
    /// Takes the next OrderRef of this session.
    pub fn take_order_ref(&mut self) -> String {
        self.next_order_ref += 1;
        self.next_order_ref.to_string()
    }
}

pub type PosKey = (String, String, PosiDir);

/// Everything above, behind one mutex held for microseconds.
#[derive(Debug, Default)]
pub struct Book {
    pub instruments: HashMap<String, Instrument>,
    /// Keyed by (account, instrument); instrument "*" is the account's default.
    pub limits: HashMap<(String, String), Limit>,
    pub accounts: HashMap<String, Account>,
    pub positions: HashMap<PosKey, Position>,
    pub orders: HashMap<i64, OrderRec>,
    pub by_client: HashMap<String, i64>,
    /// (FrontID, SessionID, OrderRef trimmed) → order id.
    pub by_ref: HashMap<(i32, i32, String), i64>,
    /// (ExchangeID, OrderSysID trimmed) → order id.
    pub by_sys: HashMap<(String, String), i64>,
    /// (ExchangeID, TradeID trimmed, side) of every applied trade.
    pub trades: std::collections::HashSet<(String, String, Side)>,
    pub session: Session,
}

impl Book {
    pub fn limit(&self, account: &str, instrument: &str) -> Option<Limit> {
        self.limits
            .get(&(account.to_owned(), instrument.to_owned()))
            .or_else(|| self.limits.get(&(account.to_owned(), "*".to_owned())))
            .copied()
    }

    pub fn position_mut(&mut self, account: &str, instrument: &str, dir: PosiDir) -> &mut Position {
        self.positions
            .entry((account.to_owned(), instrument.to_owned(), dir))
            .or_default()
    }

    /// Indexes an order by its client id and CTP identities.
    pub fn index(&mut self, o: &OrderRec) {
        self.by_client.insert(o.client_order_id.clone(), o.order_id);
        if !o.order_ref.trim().is_empty() {
            self.by_ref.insert(
                (o.front_id, o.session_id, o.order_ref.trim().to_owned()),
                o.order_id,
            );
        }
        if !o.order_sys_id.trim().is_empty() {
            self.by_sys.insert(
                (o.exchange_id.clone(), o.order_sys_id.trim().to_owned()),
                o.order_id,
            );
        }
    }

    /// Counts a working order's untraded volume into its position (load and admission).
    pub fn add_pending(
        &mut self,
        account: &str,
        instrument: &str,
        side: Side,
        offset: Offset,
        v: i32,
    ) {
        let pos = self.position_mut(account, instrument, PosiDir::of(side, offset));
        if offset == Offset::Open {
            pos.open_pending += v;
        } else {
            pos.close_pending += v;
        }
    }
}

/// Rounds money to 0.01, the schema's unit.
pub fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posi_dir_of_side_and_offset() {
        assert_eq!(PosiDir::of(Side::Buy, Offset::Open), PosiDir::Long);
        assert_eq!(PosiDir::of(Side::Sell, Offset::Open), PosiDir::Short);
        assert_eq!(PosiDir::of(Side::Buy, Offset::CloseToday), PosiDir::Short);
        assert_eq!(PosiDir::of(Side::Sell, Offset::Close), PosiDir::Long);
    }

    #[test]
    fn order_refs_increase() {
        let mut s = Session::default();
        assert_eq!(s.take_order_ref(), "1");
        assert_eq!(s.take_order_ref(), "2");
    }
}
