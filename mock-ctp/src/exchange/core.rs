//! The exchange's state and the checks an order passes before it reaches matching: session,
//! settlement, OrderRef, instrument, price, volume, position and money, each answered with
//! CTP's ErrorID.
//!
//! The state is a plain synchronous struct, driven by the fronts under one mutex and by tests
//! directly, with time passed in, so matching is deterministic for a seed.
//!
//! Known gaps: no per-user password change, no logout message, every investor belongs to the
//! one broker of the accounts fixture.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::broadcast;

use super::accounts::{self, Account, AccountsFile};
use super::instruments::InstrumentSpec;
use super::private_flow::PrivateFlows;
use super::record::{Record, RecordedOrder};
use crate::clock;
use crate::protocol::{
    error_id, DepthMarketData, InputOrder, Message, OffsetFlag, Order, Private, RspInfo, Trade,
};

/// Settings of a trading day.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    pub front_id: i32,
    pub trading_day: String,
    pub seed: u64,
    pub max_sessions_per_user: usize,
    /// Whether `ReqUserLogin` requires `ReqAuthenticate` first (CTP's see-through rules).
    pub require_authentication: bool,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        Self {
            front_id: 1,
            trading_day: clock::ymd(clock::now_us()),
            seed: 0,
            max_sessions_per_user: 6,
            require_authentication: true,
        }
    }
}

/// What the exchange knows of one connection.
#[derive(Debug, Clone, Default)]
pub struct SessionCtx {
    pub front_id: i32,
    pub session_id: i32,
    pub user_id: String,
    pub authenticated: bool,
    pub logged_in: bool,
    pub last_order_ref: u64,
}

/// An instrument during the day.
#[derive(Debug, Clone)]
pub struct InstrumentState {
    pub spec: InstrumentSpec,
    pub halted: bool,
    pub md: DepthMarketData,
}

/// The next-N-orders reject fault.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RejectFault {
    pub remaining: u32,
    pub error_id: i32,
    pub error_msg: String,
}

/// An order that reached matching, with what it froze.
#[derive(Debug, Clone)]
pub(crate) struct WorkingOrder {
    pub order: Order,
    pub record_index: usize,
    pub margin_per_lot: f64,
    pub frozen_yd: i32,
    pub frozen_today: i32,
    pub next_fill_at: Option<Instant>,
}

/// The mock exchange.
#[derive(Debug)]
pub struct Exchange {
    pub(crate) cfg: ExchangeConfig,
    pub(crate) instruments: BTreeMap<String, InstrumentState>,
    pub(crate) accounts_file: AccountsFile,
    pub(crate) accounts: BTreeMap<String, Account>,
    pub(crate) orders: Vec<WorkingOrder>,
    pub(crate) by_ref: HashMap<(i32, i32, String), usize>,
    pub(crate) by_sys: HashMap<String, usize>,
    pub(crate) trades: Vec<Trade>,
    pub(crate) flows: PrivateFlows,
    pub(crate) record: Record,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) reject_next: Option<RejectFault>,
    pub(crate) md_tx: broadcast::Sender<DepthMarketData>,
    pub(crate) sessions_per_user: HashMap<String, usize>,
    pub(crate) next_session_id: i32,
    /// The trading day each investor last confirmed the settlement of: CTP keeps the
    /// confirmation per investor and day, so every later session of that investor that day may
    /// trade at once.
    pub(crate) settlement_confirmed: HashMap<String, String>,
    /// The orders with a partial fill to come, by when (each order's `next_fill_at`), so the
    /// matching driver finds what is due without scanning every order of the day: the scan
    /// took 47 % of the front's CPU at 1,000 orders/s once the day held tens of thousands.
    pub(crate) fills_due: BTreeSet<(Instant, usize)>,
}

impl Exchange {
    /// A fresh trading day.
    pub fn new(
        cfg: ExchangeConfig,
        instruments: BTreeMap<String, InstrumentSpec>,
        accounts_file: AccountsFile,
    ) -> Self {
        let (md_tx, _) = broadcast::channel(10_000);
        let instruments = instruments
            .into_values()
            .map(|spec| {
                let md = initial_md(&spec, &cfg.trading_day);
                (
                    spec.instrument_id.clone(),
                    InstrumentState {
                        spec,
                        halted: false,
                        md,
                    },
                )
            })
            .collect();
        let accounts = accounts::fresh_day(&accounts_file);
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let record = Record {
            trading_day: cfg.trading_day.clone(),
            ..Default::default()
        };
        let next_session_id = (cfg.seed % 1_000_000) as i32 * 100 + 1;
        Self {
            cfg,
            instruments,
            accounts_file,
            accounts,
            orders: Vec::new(),
            by_ref: HashMap::new(),
            by_sys: HashMap::new(),
            trades: Vec::new(),
            flows: PrivateFlows::default(),
            record,
            rng,
            reject_next: None,
            md_tx,
            sessions_per_user: HashMap::new(),
            next_session_id,
            settlement_confirmed: HashMap::new(),
            fills_due: BTreeSet::new(),
        }
    }

    /// The trading day.
    pub fn trading_day(&self) -> &str {
        &self.cfg.trading_day
    }

    /// The front's id.
    pub fn front_id(&self) -> i32 {
        self.cfg.front_id
    }

    /// The broker of every investor.
    pub fn broker_id(&self) -> &str {
        &self.accounts_file.broker_id
    }

    /// A copy of the record.
    pub fn record(&self) -> Record {
        self.record.clone()
    }

    /// Notes a connection the front dropped on its own.
    pub fn record_disconnect(&mut self, d: super::RecordedDisconnect) {
        self.record.disconnects.push(d);
    }

    /// The private flows.
    pub fn flows(&self) -> &PrivateFlows {
        &self.flows
    }

    /// The private flows, to subscribe.
    pub fn flows_mut(&mut self) -> &mut PrivateFlows {
        &mut self.flows
    }

    /// A receiver of every market-data snapshot the exchange publishes.
    pub fn subscribe_md(&self) -> broadcast::Receiver<DepthMarketData> {
        self.md_tx.subscribe()
    }

    /// An instrument's latest snapshot.
    pub fn snapshot(&self, instrument: &str) -> Option<DepthMarketData> {
        self.instruments.get(instrument).map(|i| i.md.clone())
    }

    /// `ReqOrderInsert`. Returns `Some(rsp_info)` when CTP itself rejects the order; the
    /// session then answers `OnRspOrderInsert`, and `OnErrRtnOrderInsert` is in the private
    /// flow. Accepted orders get only private-flow returns.
    pub fn insert_order(
        &mut self,
        s: &mut SessionCtx,
        mut input: InputOrder,
        now: Instant,
    ) -> Option<RspInfo> {
        let received_at_us = clock::now_us();
        if s.logged_in && input.order_ref.trim().is_empty() {
            input.order_ref = (s.last_order_ref + 1).to_string();
        }
        let record_index = self.record.orders.len();
        self.record.orders.push(RecordedOrder {
            index: record_index,
            front_id: s.front_id,
            session_id: if s.logged_in { s.session_id } else { 0 },
            order_ref: input.order_ref.clone(),
            investor_id: input.investor_id.clone(),
            instrument_id: input.instrument_id.clone(),
            direction: input.direction,
            offset: input.comb_offset_flag,
            price: input.limit_price,
            volume: input.volume_total_original,
            received_at_us,
            order_sys_id: String::new(),
            final_status: None,
            error_id: 0,
            volume_traded: 0,
        });
        match self.check_insert(s, &mut input) {
            Ok(frozen) => {
                self.start_order(s, input, record_index, frozen, received_at_us, now);
                None
            }
            Err(info) => {
                self.record.orders[record_index].error_id = info.error_id;
                self.record.orders[record_index].final_status =
                    Some(crate::protocol::OrderStatus::Canceled);
                if s.logged_in {
                    let err = info.clone();
                    self.flows.append(&s.user_id, now, |seq_no| {
                        Message::ErrRtnOrderInsert(Private {
                            seq_no,
                            field: input,
                            rsp_info: Some(err),
                        })
                    });
                }
                Some(info)
            }
        }
    }

    /// CTP's own checks, in CTP's order; on success, what the order froze.
    fn check_insert(
        &mut self,
        s: &mut SessionCtx,
        input: &mut InputOrder,
    ) -> Result<Frozen, RspInfo> {
        let err = |id: i32, msg: &str| Err(RspInfo::error(id, msg));
        if !s.logged_in {
            return err(error_id::NOT_LOGGED_IN, "not logged in");
        }
        if input.investor_id != s.user_id {
            return err(error_id::BAD_FIELD, "InvestorID is not the logged-in user");
        }
        if !self.settlement_confirmed_today(&s.user_id) {
            return err(
                error_id::SETTLEMENT_NOT_CONFIRMED,
                "settlement not confirmed",
            );
        }
        match input.order_ref.trim().parse::<u64>() {
            Ok(r) if r > s.last_order_ref => s.last_order_ref = r,
            Ok(_) => return err(error_id::DUPLICATE_ORDER, "duplicate OrderRef"),
            Err(_) => return err(error_id::BAD_FIELD, "OrderRef is not numeric"),
        }
        if let Some(fault) = self.reject_next.as_mut() {
            fault.remaining = fault.remaining.saturating_sub(1);
            let info = RspInfo::error(fault.error_id, fault.error_msg.clone());
            if fault.remaining == 0 {
                self.reject_next = None;
            }
            return Err(info);
        }
        let Some(inst) = self.instruments.get(&input.instrument_id) else {
            return err(error_id::INSTRUMENT_NOT_FOUND, "instrument not found");
        };
        if !input.exchange_id.is_empty() && input.exchange_id != inst.spec.exchange_id {
            return err(
                error_id::BAD_FIELD,
                "ExchangeID does not match the instrument",
            );
        }
        input.exchange_id = inst.spec.exchange_id.clone();
        if inst.halted {
            return err(error_id::INSTRUMENT_NOT_TRADING, "instrument not trading");
        }
        let volume = input.volume_total_original;
        if volume <= 0 || volume > inst.spec.max_limit_order_volume {
            return err(error_id::BAD_FIELD, "invalid VolumeTotalOriginal");
        }
        if input.order_price_type != crate::protocol::OrderPriceType::LimitPrice {
            return err(error_id::BAD_FIELD, "only limit orders are supported");
        }
        inst.spec
            .check_price(input.limit_price)
            .map_err(|(id, msg)| RspInfo::error(id, msg))?;
        let spec = inst.spec.clone();
        let Some(account) = self.accounts.get_mut(&input.investor_id) else {
            return err(error_id::BAD_FIELD, "unknown InvestorID");
        };
        if input.comb_offset_flag == OffsetFlag::Open {
            let margin = spec.margin(input.limit_price, volume);
            if margin > account.available() {
                return err(error_id::INSUFFICIENT_MONEY, "insufficient money");
            }
            account.frozen_margin += margin;
            return Ok(Frozen {
                margin_per_lot: margin / f64::from(volume),
                yd: 0,
                today: 0,
            });
        }
        let pos = account.position_mut(&input.instrument_id, input.direction.opposite());
        let yd_free = pos.yd - pos.yd_frozen;
        let today_free = pos.today - pos.today_frozen;
        let (yd, today) = match (spec.splits_today(), input.comb_offset_flag) {
            (true, OffsetFlag::CloseToday) if today_free < volume => {
                return err(
                    error_id::OVER_CLOSETODAY_POSITION,
                    "close-today position insufficient",
                )
            }
            (true, OffsetFlag::CloseToday) => (0, volume),
            (true, OffsetFlag::CloseYesterday) if yd_free < volume => {
                return err(
                    error_id::OVER_CLOSEYESTERDAY_POSITION,
                    "close-yesterday position insufficient",
                )
            }
            (true, _) if yd_free < volume => {
                return err(
                    error_id::OVER_CLOSE_POSITION,
                    "close volume exceeds position",
                )
            }
            (true, _) => (volume, 0),
            (false, _) if yd_free + today_free < volume => {
                return err(
                    error_id::OVER_CLOSE_POSITION,
                    "close volume exceeds position",
                )
            }
            (false, _) => (volume.min(yd_free), volume - volume.min(yd_free)),
        };
        pos.yd_frozen += yd;
        pos.today_frozen += today;
        Ok(Frozen {
            margin_per_lot: 0.0,
            yd,
            today,
        })
    }
}

/// What an accepted order froze.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frozen {
    pub margin_per_lot: f64,
    pub yd: i32,
    pub today: i32,
}

fn initial_md(spec: &InstrumentSpec, trading_day: &str) -> DepthMarketData {
    let p = spec.pre_settlement_price;
    DepthMarketData {
        trading_day: trading_day.to_owned(),
        action_day: trading_day.to_owned(),
        instrument_id: spec.instrument_id.clone(),
        exchange_id: spec.exchange_id.clone(),
        last_price: p,
        bid_price1: p - spec.price_tick,
        bid_volume1: 1,
        ask_price1: p,
        ask_volume1: 1,
        volume: 0,
        open_interest: 0.0,
        upper_limit_price: spec.upper_limit_price,
        lower_limit_price: spec.lower_limit_price,
        update_time: "09:00:00".into(),
        update_millisec: 0,
    }
}
