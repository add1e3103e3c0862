//! Indexes over the observations shared by the checks: engine orders by id, client id and CTP
//! identity, and each exchange order linked to the engine order it belongs to (by OrderSysID,
//! else by FrontID/SessionID/OrderRef, which the engine persists before writing a request).
//!
//! Also links each operation of the history to the engine rows of its client_order_id, so the
//! checks that walk the history hash each client id once here instead of once per check.
//!
//! Built for a million orders: per-order lists are stored flat ([`Groups`]) rather than one
//! vector per order, engine order ids (a sequence) index a table rather than a hash map
//! ([`OrderIds`]), and hashing uses a multiply-rotate hasher (the keys are our own data, so
//! hash flooding is no concern).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::observations::{Observations, OrderRow};
use super::str_rows::{trim, StrRows};
use crate::history::{History, Op};

/// FxHash's multiply-rotate: a few cycles per word instead of SipHash's tens.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_i32(&mut self, n: i32) {
        self.write_u64(u64::from(n as u32));
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    /// A final avalanche (MurmurHash3's fmix64): the multiply alone leaves the low bits, which
    /// pick the bucket, depending only on the low bytes of each word, and keys such as
    /// `c-123456` differ in their high bytes.
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub(crate) type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<FastHasher>>;

pub(crate) fn fast_map<K, V>(cap: usize) -> FastMap<K, V> {
    FastMap::with_capacity_and_hasher(cap, BuildHasherDefault::default())
}

/// Items grouped by a dense group number, stored flat (items keep their input order).
pub(crate) struct Groups {
    start: Vec<usize>,
    items: Vec<usize>,
}

impl Groups {
    fn build(groups: usize, pairs: impl Iterator<Item = (usize, usize)> + Clone) -> Self {
        let mut start = vec![0usize; groups + 1];
        for (g, _) in pairs.clone() {
            start[g + 1] += 1;
        }
        for g in 0..groups {
            start[g + 1] += start[g];
        }
        let mut fill = start.clone();
        let mut items = vec![0usize; start[groups]];
        for (g, i) in pairs {
            items[fill[g]] = i;
            fill[g] += 1;
        }
        Self { start, items }
    }

    pub fn of(&self, group: usize) -> &[usize] {
        &self.items[self.start[group]..self.start[group + 1]]
    }

    pub fn len(&self) -> usize {
        self.start.len() - 1
    }
}

/// Engine order ids to rows: a table indexed by `id - min` when the ids are dense (the engine
/// draws them from a sequence, so a million orders span about a million ids), else a hash map.
/// A repeated id maps to its last row, as a map's insert would.
pub(crate) enum OrderIds {
    Dense { min: i64, rows: Vec<u32> },
    Sparse(FastMap<i64, usize>),
}

impl OrderIds {
    const NONE: u32 = u32::MAX;

    fn build(orders: &[OrderRow]) -> Self {
        let n = orders.len();
        let min = orders.iter().map(|o| o.order_id).min().unwrap_or(0);
        let max = orders.iter().map(|o| o.order_id).max().unwrap_or(0);
        let span = i128::from(max) - i128::from(min) + 1;
        if n < Self::NONE as usize && span <= 4 * n as i128 + 1024 {
            let mut rows = vec![Self::NONE; span as usize];
            for (i, o) in orders.iter().enumerate() {
                rows[(o.order_id - min) as usize] = i as u32;
            }
            return Self::Dense { min, rows };
        }
        let mut map = fast_map(n);
        for (i, o) in orders.iter().enumerate() {
            map.insert(o.order_id, i);
        }
        Self::Sparse(map)
    }

    pub fn get(&self, id: i64) -> Option<usize> {
        match self {
            Self::Dense { min, rows } => {
                let k = usize::try_from(id.checked_sub(*min)?).ok()?;
                rows.get(k)
                    .copied()
                    .filter(|&r| r != Self::NONE)
                    .map(|r| r as usize)
            }
            Self::Sparse(map) => map.get(&id).copied(),
        }
    }

    pub fn contains(&self, id: i64) -> bool {
        self.get(id).is_some()
    }
}

pub(crate) struct Index {
    pub by_order_id: OrderIds,
    /// Engine orders per first row of their client_order_id (more than one is a duplicate).
    pub client_rows: Groups,
    /// For each exchange order, the engine order it belongs to.
    pub exchange_link: Vec<Option<usize>>,
    /// For each engine order, the exchange orders linked to it.
    pub exchange_orders_of: Groups,
    /// Engine trades per engine order.
    pub trades_of: Groups,
    /// Kafka order and trade events per engine order, in received order.
    pub order_events_of: Groups,
    pub trade_events_of: Groups,
    /// Events whose order id the database lacks, by order id.
    pub stray_events: FastMap<i64, usize>,
    /// For each history operation, the first engine row of its client_order_id.
    op_first_row: Vec<Option<usize>>,
}

impl Index {
    pub fn build(history: &History, obs: &Observations) -> Self {
        let orders = &obs.db.orders;
        let n = orders.len();
        let by_order_id = OrderIds::build(orders);
        let mut by_client = StrRows::with_capacity(n);
        let mut client_first = Vec::with_capacity(n);
        let cid_of = |r: u32| orders[r as usize].client_order_id.as_str();
        let mut by_sys = StrRows::with_capacity(n);
        let sys_of = |r: u32| trim(&orders[r as usize].order_sys_id);
        for (i, o) in orders.iter().enumerate() {
            let row = u32::try_from(i).expect("fewer than 2^32 engine orders");
            client_first.push(by_client.first_or_insert(&o.client_order_id, row, cid_of) as usize);
            let sys = trim(&o.order_sys_id);
            if !sys.is_empty() {
                by_sys.insert(sys, row, sys_of);
            }
        }
        let client_rows = Groups::build(n, client_first.iter().copied().zip(0..));
        let mut exchange_link: Vec<Option<usize>> = obs
            .exchange
            .orders
            .iter()
            .map(|e| {
                let sys = trim(&e.order_sys_id);
                (!sys.is_empty())
                    .then(|| by_sys.get(sys, sys_of).map(|r| r as usize))
                    .flatten()
            })
            .collect();
        // The CTP reference is the fallback for orders the OrderSysID did not link (rejected
        // ones, or the engine never learnt it): its map is built only when one is left.
        if exchange_link.iter().any(Option::is_none) {
            let mut by_ref: FastMap<(i32, i32, &str), usize> = fast_map(n);
            for (i, o) in orders.iter().enumerate() {
                by_ref.insert((o.front_id, o.session_id, trim(&o.order_ref)), i);
            }
            for (link, e) in exchange_link.iter_mut().zip(&obs.exchange.orders) {
                if link.is_none() {
                    *link = by_ref
                        .get(&(e.front_id, e.session_id, trim(&e.order_ref)))
                        .copied();
                }
            }
        }
        let exchange_orders_of = Groups::build(
            n,
            exchange_link
                .iter()
                .enumerate()
                .filter_map(|(x, l)| l.map(|row| (row, x))),
        );
        let trade_rows: Vec<Option<usize>> = obs
            .db
            .trades
            .iter()
            .map(|t| by_order_id.get(t.order_id))
            .collect();
        let trades_of = Groups::build(
            n,
            trade_rows
                .iter()
                .enumerate()
                .filter_map(|(t, r)| r.map(|r| (r, t))),
        );
        let mut stray_events = fast_map(0);
        let mut rows_of = |id: i64| {
            let row = by_order_id.get(id);
            if row.is_none() {
                *stray_events.entry(id).or_default() += 1;
            }
            row
        };
        let oe: Vec<Option<usize>> = obs
            .kafka
            .order_events
            .iter()
            .map(|e| rows_of(e.order_id))
            .collect();
        let te: Vec<Option<usize>> = obs
            .kafka
            .trade_events
            .iter()
            .map(|e| rows_of(e.order_id))
            .collect();
        let order_events_of = Groups::build(
            n,
            oe.iter().enumerate().filter_map(|(k, r)| r.map(|r| (r, k))),
        );
        let trade_events_of = Groups::build(
            n,
            te.iter().enumerate().filter_map(|(k, r)| r.map(|r| (r, k))),
        );
        let op_first_row = history
            .operations
            .iter()
            .map(|op| {
                let cid = match &op.op {
                    Op::Submit(s) => &s.client_order_id,
                    Op::Cancel(c) => &c.client_order_id,
                };
                by_client.get(cid, cid_of).map(|r| r as usize)
            })
            .collect();
        Self {
            by_order_id,
            op_first_row,
            client_rows,
            exchange_link,
            exchange_orders_of,
            trades_of,
            order_events_of,
            trade_events_of,
            stray_events,
        }
    }

    /// The first engine row of the client_order_id of history operation `op`, if any.
    pub fn first_row_of_op(&self, op: usize) -> Option<usize> {
        self.op_first_row.get(op).copied().flatten()
    }

    /// Every engine order of the client_order_id of history operation `op`.
    pub fn rows_of_op(&self, op: usize) -> &[usize] {
        self.first_row_of_op(op)
            .map_or(&[][..], |first| self.client_rows.of(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn order_ids_are_a_table_when_dense_and_a_map_when_not() {
        let (_, mut o) = crate::check::synthetic::run(50);
        let dense = OrderIds::build(&o.db.orders);
        assert!(matches!(dense, OrderIds::Dense { .. }));
        assert_eq!(dense.get(crate::check::synthetic::order_id(7)), Some(7));
        assert_eq!(dense.get(999), None);
        assert_eq!(dense.get(i64::MIN), None);
        assert_eq!(dense.get(i64::MAX), None);
        o.db.orders[3].order_id = i64::MAX - 5;
        let sparse = OrderIds::build(&o.db.orders);
        assert!(matches!(sparse, OrderIds::Sparse(_)));
        assert_eq!(sparse.get(i64::MAX - 5), Some(3));
        assert_eq!(sparse.get(crate::check::synthetic::order_id(7)), Some(7));
    }

    #[test]
    fn an_exchange_order_without_order_sys_id_links_by_its_ctp_reference() {
        let (h, mut o) = crate::check::synthetic::run(20);
        o.exchange.orders[4].order_sys_id = " ".repeat(12);
        o.exchange.orders[9].order_ref = "no-such-ref".into();
        o.exchange.orders[9].order_sys_id = format!("{:>12}", "999");
        let idx = Index::build(&h, &o);
        assert_eq!(idx.exchange_link[4], Some(4));
        assert_eq!(idx.exchange_link[9], None);
        assert_eq!(idx.exchange_link[5], Some(5));
        assert_eq!(idx.exchange_orders_of.of(4), &[4]);
    }

    #[test]
    fn keys_differing_in_high_bytes_spread_over_low_bits() {
        let b = BuildHasherDefault::<FastHasher>::default();
        let low: FastSet<u64> = (0..4096)
            .map(|i| b.hash_one(format!("c-{i:06}").as_str()) & 0xfff)
            .collect();
        assert!(low.len() > 2000, "{} distinct buckets of 4096", low.len());
    }
}
