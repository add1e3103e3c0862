//! Matching: what happens to an order CTP accepted, per the instrument's model (immediate,
//! partial fills over time, rest, reject), and cancels racing fills.
//!
//! The callback order follows SHFE's as CTP documents it: `OnRtnOrder` status 'a' (submitted),
//! then '3' with the OrderSysID, then one `OnRtnOrder` per fill followed by its `OnRtnTrade`;
//! a cancel is `OnRtnOrder` with OrderSubmitStatus '1' then status '5'. A cancel that arrives
//! after the last fill is rejected with ErrorID 26, so the race is the same as on an exchange.
//!
//! Known gaps: no order book (orders never match each other), fills at the limit price, the
//! "repeat previous state" duplicates of some exchanges are not sent, DCE's synthesised fill is
//! not modelled.

use std::time::{Duration, Instant};

use rand::Rng;

use super::core::{Exchange, Frozen, SessionCtx, WorkingOrder};
use super::instruments::MatchingModel;
use super::record::RecordedTrade;
use crate::clock;
use crate::protocol::{
    error_id, InputOrder, InputOrderAction, Message, OffsetFlag, Order, OrderStatus,
    OrderSubmitStatus, Private, RspInfo, TimeCondition, Trade, VolumeCondition,
};

impl Exchange {
    /// Creates the working order and runs the instrument's model on it.
    pub(crate) fn start_order(
        &mut self,
        s: &SessionCtx,
        input: InputOrder,
        record_index: usize,
        frozen: Frozen,
        received_at_us: u64,
        now: Instant,
    ) {
        let order = Order {
            broker_id: input.broker_id,
            investor_id: input.investor_id,
            instrument_id: input.instrument_id,
            exchange_id: input.exchange_id,
            order_ref: input.order_ref.clone(),
            user_id: s.user_id.clone(),
            direction: input.direction,
            comb_offset_flag: input.comb_offset_flag,
            comb_hedge_flag: input.comb_hedge_flag,
            order_price_type: input.order_price_type,
            limit_price: input.limit_price,
            volume_total_original: input.volume_total_original,
            time_condition: input.time_condition,
            volume_condition: input.volume_condition,
            request_id: input.request_id,
            front_id: s.front_id,
            session_id: s.session_id,
            order_submit_status: OrderSubmitStatus::InsertSubmitted,
            order_status: OrderStatus::Unknown,
            volume_total: input.volume_total_original,
            trading_day: self.cfg.trading_day.clone(),
            insert_date: clock::ymd(received_at_us),
            insert_time: clock::hms(received_at_us),
            status_msg: "submitted".into(),
            broker_order_seq: self.orders.len() as i32 + 1,
            ..Default::default()
        };
        let idx = self.orders.len();
        self.by_ref
            .insert((s.front_id, s.session_id, input.order_ref), idx);
        self.orders.push(WorkingOrder {
            order,
            record_index,
            margin_per_lot: frozen.margin_per_lot,
            frozen_yd: frozen.yd,
            frozen_today: frozen.today,
            next_fill_at: None,
        });
        self.push_rtn_order(idx, now);

        let model = self.instruments[&self.orders[idx].order.instrument_id]
            .spec
            .matching
            .clone();
        if model == MatchingModel::Reject {
            let o = &mut self.orders[idx].order;
            o.order_submit_status = OrderSubmitStatus::InsertRejected;
            o.status_msg = "rejected by the exchange".into();
            self.record.orders[record_index].error_id = error_id::BAD_FIELD;
            self.finish(idx, OrderStatus::Canceled, now);
            return;
        }
        let sys_id = format!("{:>12}", self.by_sys.len() + 1);
        self.by_sys.insert(sys_id.clone(), idx);
        self.record.orders[record_index].order_sys_id = sys_id.clone();
        let o = &mut self.orders[idx].order;
        o.order_sys_id = sys_id;
        o.order_submit_status = OrderSubmitStatus::Accepted;
        o.order_status = OrderStatus::NoTradeQueueing;
        o.status_msg = "queueing".into();
        self.push_rtn_order(idx, now);

        let o = &self.orders[idx].order;
        let ioc = o.time_condition == TimeCondition::Ioc;
        let fok = ioc && o.volume_condition == VolumeCondition::AllVolume;
        let total = o.volume_total;
        match model {
            MatchingModel::Immediate => self.fill(idx, total, now),
            MatchingModel::Partial { .. } if fok => self.fill(idx, total, now),
            MatchingModel::Partial { .. } if ioc => {
                let chunk = self.chunk(total);
                self.fill(idx, chunk, now);
            }
            MatchingModel::Partial { interval_ms } => {
                self.set_next_fill(idx, Some(now + Duration::from_millis(interval_ms)));
            }
            MatchingModel::Rest | MatchingModel::Reject => {}
        }
        if ioc && !self.orders[idx].order.order_status.is_final() {
            self.finish(idx, OrderStatus::Canceled, now);
        }
    }

    /// A seeded random chunk of `remaining`, at most half (rounded up) so that a partial
    /// model fills in two or more steps.
    fn chunk(&mut self, remaining: i32) -> i32 {
        self.rng.random_range(1..=(remaining + 1) / 2)
    }

    /// Progresses every partially filling order whose next fill is due, each by one fill.
    pub fn advance(&mut self, now: Instant) {
        let later = self
            .fills_due
            .split_off(&(now + Duration::from_nanos(1), 0));
        let due = std::mem::replace(&mut self.fills_due, later);
        for (at, idx) in due {
            // Already out of the queue (split off above).
            self.orders[idx].next_fill_at = None;
            let remaining = self.orders[idx].order.volume_total;
            let chunk = self.chunk(remaining);
            self.fill(idx, chunk, now);
            let interval_ms = match &self.instruments[&self.orders[idx].order.instrument_id]
                .spec
                .matching
            {
                MatchingModel::Partial { interval_ms } => *interval_ms,
                _ => 0,
            };
            if !self.orders[idx].order.order_status.is_final() {
                self.set_next_fill(idx, Some(at + Duration::from_millis(interval_ms)));
            }
        }
    }

    /// Sets when an order's next partial fill is due (`None`: no more), keeping
    /// [`Exchange::fills_due`] in step.
    fn set_next_fill(&mut self, idx: usize, at: Option<Instant>) {
        let w = &mut self.orders[idx];
        if let Some(old) = w.next_fill_at.take() {
            self.fills_due.remove(&(old, idx));
        }
        if let Some(at) = at {
            self.fills_due.insert((at, idx));
        }
        self.orders[idx].next_fill_at = at;
    }

    /// How many of `investor`'s orders still have fills to come (partial matching): the
    /// exchange will add to their private flow by itself.
    pub fn pending_fills(&self, investor: &str) -> usize {
        self.fills_due
            .iter()
            .filter(|(_, idx)| self.orders[*idx].order.investor_id == investor)
            .count()
    }

    /// The earliest pending fill, so a driver can sleep until then.
    pub fn next_fill_at(&self) -> Option<Instant> {
        self.fills_due.first().map(|(at, _)| *at)
    }

    fn fill(&mut self, idx: usize, volume: i32, now: Instant) {
        let traded_at_us = clock::now_us();
        let w = &mut self.orders[idx];
        let volume = volume.min(w.order.volume_total);
        if volume <= 0 {
            return;
        }
        w.order.volume_traded += volume;
        w.order.volume_total -= volume;
        let done = w.order.volume_total == 0;
        w.order.order_status = if done {
            OrderStatus::AllTraded
        } else {
            OrderStatus::PartTradedQueueing
        };
        w.order.status_msg = if done { "all traded" } else { "part traded" }.into();
        let o = w.order.clone();
        let (margin_per_lot, record_index) = (w.margin_per_lot, w.record_index);
        let from_yd = volume.min(w.frozen_yd);
        w.frozen_yd -= from_yd;
        w.frozen_today -= volume - from_yd;
        if done {
            self.set_next_fill(idx, None);
        }
        self.record.orders[record_index].volume_traded = o.volume_traded;
        if done {
            self.record.orders[record_index].final_status = Some(OrderStatus::AllTraded);
        }
        self.apply_position(&o, volume, margin_per_lot, from_yd);
        let trade = Trade {
            broker_id: o.broker_id.clone(),
            investor_id: o.investor_id.clone(),
            instrument_id: o.instrument_id.clone(),
            exchange_id: o.exchange_id.clone(),
            order_ref: o.order_ref.clone(),
            user_id: o.user_id.clone(),
            trade_id: format!("{:>12}", self.trades.len() + 1),
            direction: o.direction,
            order_sys_id: o.order_sys_id.clone(),
            offset_flag: o.comb_offset_flag,
            hedge_flag: o.comb_hedge_flag,
            price: o.limit_price,
            volume,
            trade_date: clock::ymd(traded_at_us),
            trade_time: clock::hms(traded_at_us),
            trading_day: o.trading_day.clone(),
            sequence_no: self.trades.len() as i32 + 1,
            broker_order_seq: o.broker_order_seq,
        };
        self.record.trades.push(RecordedTrade {
            trade_id: trade.trade_id.clone(),
            order_sys_id: trade.order_sys_id.clone(),
            order_index: record_index,
            front_id: o.front_id,
            session_id: o.session_id,
            order_ref: o.order_ref.clone(),
            investor_id: o.investor_id.clone(),
            instrument_id: o.instrument_id.clone(),
            direction: o.direction,
            offset: o.comb_offset_flag,
            price: trade.price,
            volume,
            traded_at_us,
        });
        self.trades.push(trade.clone());
        self.push_rtn_order(idx, now);
        self.flows.append(&o.investor_id, now, |seq_no| {
            Message::RtnTrade(Private {
                seq_no,
                field: trade,
                rsp_info: None,
            })
        });
        self.on_trade_md(&o.instrument_id, o.limit_price, volume);
    }

    fn apply_position(&mut self, o: &Order, volume: i32, margin_per_lot: f64, from_yd: i32) {
        let Some(spec) = self
            .instruments
            .get(&o.instrument_id)
            .map(|i| i.spec.clone())
        else {
            return;
        };
        let Some(account) = self.accounts.get_mut(&o.investor_id) else {
            return;
        };
        if o.comb_offset_flag == OffsetFlag::Open {
            account.frozen_margin =
                (account.frozen_margin - margin_per_lot * f64::from(volume)).max(0.0);
            let pos = account.position_mut(&o.instrument_id, o.direction);
            pos.today += volume;
            pos.margin += spec.margin(o.limit_price, volume);
        } else {
            let pos = account.position_mut(&o.instrument_id, o.direction.opposite());
            let before = pos.total();
            pos.yd -= from_yd;
            pos.yd_frozen -= from_yd;
            pos.today -= volume - from_yd;
            pos.today_frozen -= volume - from_yd;
            if before > 0 {
                pos.margin -= pos.margin * f64::from(volume) / f64::from(before);
            }
        }
    }

    /// Moves an order to a final state other than all traded, releasing what it froze.
    fn finish(&mut self, idx: usize, status: OrderStatus, now: Instant) {
        let us = clock::now_us();
        self.set_next_fill(idx, None);
        let w = &mut self.orders[idx];
        w.order.order_status = status;
        w.order.cancel_time = clock::hms(us);
        let (yd, today) = (
            std::mem::take(&mut w.frozen_yd),
            std::mem::take(&mut w.frozen_today),
        );
        let released = w.margin_per_lot * f64::from(w.order.volume_total);
        let o = w.order.clone();
        let record_index = w.record_index;
        if let Some(account) = self.accounts.get_mut(&o.investor_id) {
            if o.comb_offset_flag == OffsetFlag::Open {
                account.frozen_margin = (account.frozen_margin - released).max(0.0);
            } else {
                let pos = account.position_mut(&o.instrument_id, o.direction.opposite());
                pos.yd_frozen -= yd;
                pos.today_frozen -= today;
            }
        }
        self.record.orders[record_index].final_status = Some(status);
        self.push_rtn_order(idx, now);
    }

    /// `ReqOrderAction`. Returns `Some(rsp_info)` on a reject; the session answers
    /// `OnRspOrderAction`, and `OnErrRtnOrderAction` is in the private flow.
    pub fn cancel_order(
        &mut self,
        s: &SessionCtx,
        action: InputOrderAction,
        now: Instant,
    ) -> Option<RspInfo> {
        if !s.logged_in {
            return Some(RspInfo::error(error_id::NOT_LOGGED_IN, "not logged in"));
        }
        let idx = if action.order_sys_id.trim().is_empty() {
            self.by_ref
                .get(&(action.front_id, action.session_id, action.order_ref.clone()))
        } else {
            self.by_sys
                .get(&format!("{:>12}", action.order_sys_id.trim()))
        };
        let found = idx
            .copied()
            .filter(|i| self.orders[*i].order.investor_id == s.user_id);
        let info = match found {
            None => RspInfo::error(error_id::ORDER_NOT_FOUND, "order not found"),
            Some(i) if self.orders[i].order.order_status.is_final() => RspInfo::error(
                error_id::UNSUITABLE_ORDER_STATUS,
                "order already traded or canceled",
            ),
            Some(i) => {
                self.orders[i].order.order_submit_status = OrderSubmitStatus::CancelSubmitted;
                self.push_rtn_order(i, now);
                self.orders[i].order.order_submit_status = OrderSubmitStatus::Accepted;
                self.orders[i].order.status_msg = "canceled".into();
                self.finish(i, OrderStatus::Canceled, now);
                return None;
            }
        };
        let err = info.clone();
        self.flows.append(&s.user_id, now, |seq_no| {
            Message::ErrRtnOrderAction(Private {
                seq_no,
                field: action,
                rsp_info: Some(err),
            })
        });
        Some(info)
    }

    fn push_rtn_order(&mut self, idx: usize, now: Instant) {
        let order = self.orders[idx].order.clone();
        let investor = order.investor_id.clone();
        self.flows.append(&investor, now, |seq_no| {
            let mut field = order;
            field.sequence_no = seq_no as i32;
            Message::RtnOrder(Private {
                seq_no,
                field,
                rsp_info: None,
            })
        });
    }

    fn on_trade_md(&mut self, instrument: &str, price: f64, volume: i32) {
        if let Some(inst) = self.instruments.get_mut(instrument) {
            inst.md.last_price = price;
            inst.md.volume += volume;
            let us = clock::now_us();
            inst.md.update_time = clock::hms(us);
            inst.md.update_millisec = ((us / 1000) % 1000) as i32;
            let _ = self.md_tx.send(inst.md.clone());
        }
    }
}
