//! Queries (`ReqQry*`) and the operations behind the admin API: halt, matching model, the
//! reject fault, market-data ticks and the reset to a clean trading day.

use std::collections::BTreeMap;

use super::accounts;
use super::core::{Exchange, RejectFault, SessionCtx};
use super::instruments::MatchingModel;
use super::record::Record;
use crate::protocol::{
    DepthMarketData, Direction, HedgeFlag, InvestorPosition, Order, PosiDirection, QryFilter,
    Trade, TradingAccount,
};

impl Exchange {
    /// `ReqQryOrder`: the session's investor's orders of the day.
    pub fn query_orders(&self, s: &SessionCtx, f: &QryFilter) -> Vec<Order> {
        self.orders
            .iter()
            .map(|w| &w.order)
            .filter(|o| o.investor_id == s.user_id)
            .filter(|o| f.instrument_id.is_empty() || o.instrument_id == f.instrument_id)
            .cloned()
            .collect()
    }

    /// `ReqQryTrade`.
    pub fn query_trades(&self, s: &SessionCtx, f: &QryFilter) -> Vec<Trade> {
        self.trades
            .iter()
            .filter(|t| t.investor_id == s.user_id)
            .filter(|t| f.instrument_id.is_empty() || t.instrument_id == f.instrument_id)
            .cloned()
            .collect()
    }

    /// `ReqQryInvestorPosition`: one row per instrument and side held today.
    pub fn query_positions(&self, s: &SessionCtx, f: &QryFilter) -> Vec<InvestorPosition> {
        let Some(account) = self.accounts.get(&s.user_id) else {
            return Vec::new();
        };
        let mut rows: Vec<InvestorPosition> = account
            .positions
            .iter()
            .filter(|((id, _), _)| f.instrument_id.is_empty() || *id == f.instrument_id)
            .filter(|(_, p)| p.total() > 0 || p.yd_initial > 0)
            .map(|((id, side), p)| {
                let exchange_id = self
                    .instruments
                    .get(id)
                    .map(|i| i.spec.exchange_id.clone())
                    .unwrap_or_default();
                let (posi_direction, long_frozen, short_frozen) = match side {
                    Direction::Buy => (PosiDirection::Long, 0, p.yd_frozen + p.today_frozen),
                    Direction::Sell => (PosiDirection::Short, p.yd_frozen + p.today_frozen, 0),
                };
                InvestorPosition {
                    broker_id: self.accounts_file.broker_id.clone(),
                    investor_id: s.user_id.clone(),
                    instrument_id: id.clone(),
                    exchange_id,
                    posi_direction,
                    hedge_flag: HedgeFlag::Speculation,
                    position: p.total(),
                    today_position: p.today,
                    yd_position: p.yd_initial,
                    long_frozen,
                    short_frozen,
                    use_margin: p.margin,
                    trading_day: self.cfg.trading_day.clone(),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            (&a.instrument_id, a.posi_direction as u8)
                .cmp(&(&b.instrument_id, b.posi_direction as u8))
        });
        rows
    }

    /// `ReqQryTradingAccount`.
    pub fn query_account(&self, s: &SessionCtx) -> Option<TradingAccount> {
        let a = self.accounts.get(&s.user_id)?;
        Some(TradingAccount {
            broker_id: self.accounts_file.broker_id.clone(),
            account_id: s.user_id.clone(),
            pre_balance: a.spec.balance,
            balance: a.spec.balance,
            available: a.available(),
            curr_margin: a.used_margin(),
            frozen_margin: a.frozen_margin,
            trading_day: self.cfg.trading_day.clone(),
        })
    }

    /// Halts or resumes an instrument; false if unknown.
    pub fn set_halted(&mut self, instrument: &str, halted: bool) -> bool {
        self.instruments
            .get_mut(instrument)
            .map(|i| i.halted = halted)
            .is_some()
    }

    /// Changes an instrument's matching model; false if unknown.
    pub fn set_matching(&mut self, instrument: &str, model: MatchingModel) -> bool {
        self.instruments
            .get_mut(instrument)
            .map(|i| i.spec.matching = model)
            .is_some()
    }

    /// Every instrument: id, halted and matching model.
    pub fn instrument_states(&self) -> BTreeMap<String, (bool, MatchingModel)> {
        self.instruments
            .iter()
            .map(|(id, i)| (id.clone(), (i.halted, i.spec.matching.clone())))
            .collect()
    }

    /// Rejects the next `count` orders that pass the session checks with `error_id`.
    pub fn reject_next(&mut self, count: u32, error_id: i32, error_msg: String) {
        self.reject_next = (count > 0).then_some(RejectFault {
            remaining: count,
            error_id,
            error_msg,
        });
    }

    /// The pending reject fault.
    pub fn reject_fault(&self) -> Option<RejectFault> {
        self.reject_next.clone()
    }

    /// Applies a replayed snapshot to an instrument (keeping the day's limits and the volume
    /// the mock's own trades added) and publishes it.
    pub fn apply_tick(&mut self, mut tick: DepthMarketData) {
        let Some(inst) = self.instruments.get_mut(&tick.instrument_id) else {
            return;
        };
        tick.trading_day = self.cfg.trading_day.clone();
        tick.action_day = self.cfg.trading_day.clone();
        tick.exchange_id = inst.spec.exchange_id.clone();
        tick.upper_limit_price = inst.spec.upper_limit_price;
        tick.lower_limit_price = inst.spec.lower_limit_price;
        tick.volume = tick.volume.max(inst.md.volume);
        inst.md = tick;
        let _ = self.md_tx.send(inst.md.clone());
    }

    /// A clean trading day: orders, trades, flows, record, positions and faults of the
    /// exchange go back to the fixtures. Sessions must be dropped by the caller.
    pub fn reset(&mut self, trading_day: Option<String>) {
        if let Some(day) = trading_day {
            self.cfg.trading_day = day;
        }
        self.accounts = accounts::fresh_day(&self.accounts_file);
        self.orders.clear();
        self.fills_due.clear();
        self.by_ref.clear();
        self.by_sys.clear();
        self.trades.clear();
        self.flows.clear();
        self.record = Record {
            trading_day: self.cfg.trading_day.clone(),
            ..Default::default()
        };
        self.reject_next = None;
        self.sessions_per_user.clear();
        self.settlement_confirmed.clear();
        for inst in self.instruments.values_mut() {
            inst.halted = false;
            inst.md.volume = 0;
            inst.md.trading_day = self.cfg.trading_day.clone();
            inst.md.action_day = self.cfg.trading_day.clone();
        }
    }
}
