//! The seeded choice of every operation: which instrument, side, offset, price and volume,
//! and which earlier order a cancel or a duplicate refers to. Pure and deterministic, so a
//! seed replays the same flow. Orders stay inside the risk limits: marketable prices 0.3–0.8 %
//! from the pre-settlement price on the tick grid (the band is 3–5 %), volumes below the
//! account's maximum, and open positions (as if every order filled) capped so that neither
//! the position limit nor the account's margin is reached; closes only of what the planner
//! opened on instruments that fill on their own.

use std::collections::HashMap;

use contract::fixtures::{InstrumentSpec, RiskLimitSpec};
use contract::model::{Offset, Side};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::error::WorkloadError;
use super::spec::WorkloadSpec;
use crate::history::{CancelOrder, SubmitOrder};

/// Why an operation was chosen: what its reply should be on a healthy platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// An order inside every limit: acknowledged.
    Order,
    /// The same request again: the original back, marked duplicate.
    Duplicate,
    /// Above the maximum order volume: refused by risk (FailedPrecondition).
    RiskReject,
    /// A cancel: ok, or refused if the order is already final.
    Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlannedOp {
    Submit(SubmitOrder, Intent),
    Cancel(CancelOrder),
}

/// What the planner knows of one instrument.
#[derive(Debug, Clone)]
pub struct Tradable {
    pub spec: InstrumentSpec,
    pub max_order_volume: i32,
    /// Open volume per direction the planner allows itself.
    pub open_cap: i64,
}

impl Tradable {
    /// From the fixtures: the account's limit for the instrument (its own row, else `*`) and
    /// a cap of 40 % of the position limit and of the share of `balance` this instrument may
    /// tie up in margin.
    pub fn from_fixtures(
        spec: InstrumentSpec,
        limits: &[RiskLimitSpec],
        account: &str,
        balance: f64,
        instruments: usize,
    ) -> Result<Self, WorkloadError> {
        let limit = limits
            .iter()
            .find(|l| l.account_id == account && l.instrument_id == spec.instrument_id)
            .or_else(|| {
                limits
                    .iter()
                    .find(|l| l.account_id == account && l.instrument_id == "*")
            })
            .ok_or_else(|| {
                WorkloadError::invalid(
                    "account",
                    format!("no risk limit for {account} and {}", spec.instrument_id),
                )
            })?;
        let lot_margin =
            spec.pre_settlement_price * f64::from(spec.volume_multiple) * spec.margin_ratio * 1.01;
        // Both directions of every instrument may be open at once.
        let by_margin = (balance * 0.4 / (2.0 * instruments as f64) / lot_margin).floor() as i64;
        let open_cap = (i64::from(limit.max_position) * 2 / 5)
            .min(by_margin)
            .max(0);
        Ok(Self {
            max_order_volume: limit.max_order_volume.min(spec.max_limit_order_volume),
            spec,
            open_cap,
        })
    }
}

/// Chooses operations one after the other.
pub struct Planner {
    rng: StdRng,
    spec: WorkloadSpec,
    instruments: Vec<Tradable>,
    /// Planned open volume per (instrument index, long?).
    open: HashMap<(usize, bool), i64>,
    /// Recent submissions, for duplicates and cancels (bounded).
    recent: Vec<(SubmitOrder, usize)>,
    next: u64,
    /// Operations planned so far.
    ops: u64,
    /// Opens too recent to count as filled yet, per book: (operation index, volume).
    unsettled: HashMap<(usize, bool), std::collections::VecDeque<(u64, i64)>>,
    /// How many operations an open needs behind it before a close may count on its fill:
    /// one second's worth, since the planner runs ahead of the replies by their latency.
    settle_ops: u64,
}

const RECENT: usize = 256;
/// Lots a planned position keeps beyond a close, since fills (partial ones especially) may
/// lag even settled opens.
const CLOSE_MARGIN: i64 = 5;

impl Planner {
    pub fn new(spec: &WorkloadSpec, instruments: Vec<Tradable>) -> Result<Self, WorkloadError> {
        if instruments.is_empty() {
            return Err(WorkloadError::invalid("instruments", "nothing to trade"));
        }
        Ok(Self {
            rng: StdRng::seed_from_u64(spec.seed),
            spec: spec.clone(),
            instruments,
            open: HashMap::new(),
            recent: Vec::with_capacity(RECENT),
            next: 0,
            ops: 0,
            unsettled: HashMap::new(),
            settle_ops: (spec.rate_per_s.ceil() as u64).max(50),
        })
    }

    fn client_id(&mut self) -> String {
        self.next += 1;
        format!("{}-{}", self.spec.client_prefix, self.next)
    }

    pub fn next_op(&mut self) -> PlannedOp {
        self.ops += 1;
        let mix = self.spec.mix;
        let roll: f64 = self.rng.random();
        if roll < mix.cancel && !self.recent.is_empty() {
            return PlannedOp::Cancel(self.cancel());
        }
        if roll < mix.cancel + mix.duplicate && !self.recent.is_empty() {
            let k = self.rng.random_range(0..self.recent.len());
            return PlannedOp::Submit(self.recent[k].0.clone(), Intent::Duplicate);
        }
        if roll < mix.cancel + mix.duplicate + mix.risk_reject {
            let i = self.rng.random_range(0..self.instruments.len());
            let mut o = self.order(i, Side::Buy, Offset::Open, 1);
            o.volume = self.instruments[i].max_order_volume + 1;
            return PlannedOp::Submit(o, Intent::RiskReject);
        }
        match self.ordinary() {
            Some(o) => PlannedOp::Submit(o, Intent::Order),
            // Every book is at its cap and nothing may be closed yet: a cancel keeps the
            // schedule without breaking a limit.
            None if !self.recent.is_empty() => PlannedOp::Cancel(self.cancel()),
            None => {
                let o = self.order(0, Side::Buy, Offset::Open, 1);
                PlannedOp::Submit(o, Intent::Order)
            }
        }
    }

    /// A cancel of a recent order, preferring one that does not fill at once.
    fn cancel(&mut self) -> CancelOrder {
        let resting: Vec<usize> = (0..self.recent.len())
            .filter(|&k| !self.instruments[self.recent[k].1].spec.fills())
            .collect();
        let k = if resting.is_empty() || self.rng.random_bool(0.3) {
            self.rng.random_range(0..self.recent.len())
        } else {
            resting[self.rng.random_range(0..resting.len())]
        };
        // A canceled open may never fill: plan as if it did not, so that no close counts on
        // it (if it filled before the cancel, the real position is only larger).
        // Each order is canceled at most once.
        let (order, i) = self.recent.swap_remove(k);
        if order.offset == Offset::Open {
            *self.open.entry((i, order.side == Side::Buy)).or_default() -= i64::from(order.volume);
        }
        CancelOrder {
            client_order_id: order.client_order_id,
            order_id: None,
        }
    }

    /// An order inside every limit, or `None` when every book is at its cap.
    fn ordinary(&mut self) -> Option<SubmitOrder> {
        let n = self.instruments.len();
        let first = self.rng.random_range(0..n);
        let buy_first = self.rng.random_bool(0.5);
        let prefer_close = self.rng.random_bool(0.5);
        // Try the chosen instrument and side first, then the other side, then the other
        // instruments, so a capped book moves the flow elsewhere instead of breaking a limit.
        let mut pick = None;
        'search: for k in 0..n {
            let i = (first + k) % n;
            let t = &self.instruments[i];
            let (fills, cap) = (t.spec.fills(), t.open_cap);
            let volume = self.rng.random_range(1..=t.max_order_volume.clamp(1, 5));
            for side in [buy_first, !buy_first] {
                let side = if side { Side::Buy } else { Side::Sell };
                // A sell closes a long, a buy closes a short.
                let held = self.settled(i, side == Side::Sell);
                let can_close = fills && held >= CLOSE_MARGIN + i64::from(volume);
                let opened = *self.open.get(&(i, side == Side::Buy)).unwrap_or(&0);
                let can_open = opened + i64::from(volume) <= cap;
                let close = can_close && (prefer_close || !can_open);
                if close || can_open {
                    pick = Some((i, side, volume, close));
                    break 'search;
                }
            }
        }
        let (i, side, volume, close) = pick?;
        let offset = if !close {
            *self.open.entry((i, side == Side::Buy)).or_default() += i64::from(volume);
            self.unsettled
                .entry((i, side == Side::Buy))
                .or_default()
                .push_back((self.ops, i64::from(volume)));
            Offset::Open
        } else {
            *self.open.entry((i, side == Side::Sell)).or_default() -= i64::from(volume);
            if self.instruments[i].spec.splits_today() {
                Offset::CloseToday
            } else {
                Offset::Close
            }
        };
        let order = self.order(i, side, offset, volume);
        if self.recent.len() == RECENT {
            let k = self.rng.random_range(0..RECENT);
            self.recent.swap_remove(k);
        }
        self.recent.push((order.clone(), i));
        Some(order)
    }

    /// The planned open volume of a book old enough to have filled.
    fn settled(&mut self, i: usize, long: bool) -> i64 {
        let (now, wait) = (self.ops, self.settle_ops);
        let q = self.unsettled.entry((i, long)).or_default();
        while q.front().is_some_and(|(at, _)| at + wait <= now) {
            q.pop_front();
        }
        let pending: i64 = q.iter().map(|(_, v)| v).sum();
        self.open.get(&(i, long)).copied().unwrap_or(0) - pending
    }

    fn order(&mut self, i: usize, side: Side, offset: Offset, volume: i32) -> SubmitOrder {
        let client_order_id = self.client_id();
        let spec = &self.instruments[i].spec;
        // Marketable: a buy 0.3–0.8 % above the pre-settlement price, a sell as far below, so
        // that an instrument that fills on its own fills it while the last price wanders near
        // the pre-settlement price (the price band is 3–5 %).
        let lo = (spec.pre_settlement_price * 0.003 / spec.price_tick).ceil() as i64;
        let hi = (spec.pre_settlement_price * 0.008 / spec.price_tick).floor() as i64;
        let off = self.rng.random_range(lo..=hi.max(lo)) * if side == Side::Buy { 1 } else { -1 };
        let price = ((spec.pre_settlement_price / spec.price_tick).round() as i64 + off) as f64
            * spec.price_tick;
        SubmitOrder {
            client_order_id,
            account_id: self.spec.account.clone(),
            instrument_id: spec.instrument_id.clone(),
            side,
            offset,
            limit_price: (price * 1e6).round() / 1e6,
            volume,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;
    use crate::workload::spec::Mix;

    fn tradables(account: &str) -> Vec<Tradable> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let limits = contract::fixtures::risk_limits(&dir).unwrap();
        let specs = contract::fixtures::instruments(&dir).unwrap();
        let n = specs.len();
        specs
            .into_iter()
            .map(|s| Tradable::from_fixtures(s, &limits, account, 1.0e7, n).unwrap())
            .collect()
    }

    fn ops(seed: u64, n: usize, mix: Mix) -> Vec<PlannedOp> {
        let spec = WorkloadSpec::new("000001", 100.0, n as u64, seed).with_mix(mix);
        let mut p = Planner::new(&spec, tradables("000001")).unwrap();
        (0..n).map(|_| p.next_op()).collect()
    }

    #[test]
    fn the_same_seed_plans_the_same_flow() {
        let mix = Mix {
            cancel: 0.1,
            duplicate: 0.05,
            risk_reject: 0.05,
        };
        assert_eq!(ops(11, 500, mix), ops(11, 500, mix));
        assert_ne!(ops(11, 500, mix), ops(12, 500, mix));
    }

    proptest! {
        #[test]
        fn ordinary_orders_stay_inside_the_limits(seed in any::<u64>()) {
            let t = tradables("000001");
            let mut open: HashMap<(String, bool), i64> = HashMap::new();
            let mut opens: HashMap<String, ((String, bool), i64)> = HashMap::new();
            for op in ops(seed, 2_000, Mix::default()) {
                let o = match op {
                    PlannedOp::Submit(o, Intent::Order) => o,
                    // Every book at its cap: a cancel instead, which frees an open's room.
                    PlannedOp::Cancel(c) => {
                        if let Some((key, v)) = opens.remove(&c.client_order_id) {
                            *open.entry(key).or_default() -= v;
                        }
                        continue;
                    }
                    other => panic!("without a mix only orders and cancels: {other:?}"),
                };
                let spec = &t.iter().find(|x| x.spec.instrument_id == o.instrument_id).unwrap();
                prop_assert!(o.volume >= 1 && o.volume <= spec.max_order_volume);
                let dev = (o.limit_price / spec.spec.pre_settlement_price - 1.0).abs();
                prop_assert!((0.0029..=0.0081).contains(&dev), "price {} off by {dev}", o.limit_price);
                let ticks = o.limit_price / spec.spec.price_tick;
                prop_assert!((ticks - ticks.round()).abs() < 1e-6);
                let long = o.side == Side::Buy;
                let key = if o.offset == Offset::Open { long } else { !long };
                if o.offset == Offset::Open {
                    opens.insert(o.client_order_id.clone(), ((o.instrument_id.clone(), key), i64::from(o.volume)));
                }
                let e = open.entry((o.instrument_id.clone(), key)).or_default();
                *e += if o.offset == Offset::Open { 1 } else { -1 } * i64::from(o.volume);
                prop_assert!(*e <= spec.open_cap, "open {} cap {}", e, spec.open_cap);
            }
        }

        #[test]
        fn shares_and_references_are_honoured(seed in any::<u64>()) {
            let mix = Mix { cancel: 0.2, duplicate: 0.1, risk_reject: 0.1 };
            let plan = ops(seed, 1_000, mix);
            let mut seen = std::collections::HashSet::new();
            let (mut cancels, mut rejects) = (0, 0);
            for op in &plan {
                match op {
                    PlannedOp::Submit(o, Intent::Order) => {
                        prop_assert!(seen.insert(o.client_order_id.clone()), "fresh ids");
                    }
                    PlannedOp::Submit(o, Intent::RiskReject) => {
                        prop_assert!(seen.insert(o.client_order_id.clone()), "fresh ids");
                        let t = tradables("000001");
                        let spec = t.iter().find(|x| x.spec.instrument_id == o.instrument_id).unwrap();
                        prop_assert_eq!(o.volume, spec.max_order_volume + 1);
                        rejects += 1;
                    }
                    PlannedOp::Submit(o, Intent::Duplicate) => {
                        prop_assert!(seen.contains(&o.client_order_id));
                    }
                    PlannedOp::Cancel(c) => {
                        cancels += 1;
                        prop_assert!(seen.contains(&c.client_order_id));
                    }
                    PlannedOp::Submit(_, Intent::Cancel) => unreachable!(),
                }
            }
            prop_assert!((120..=280).contains(&cancels), "{cancels} cancels of 1000");
            prop_assert!((50..=150).contains(&rejects), "{rejects} risk rejects of 1000");
        }
    }
}
