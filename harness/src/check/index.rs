//! Indexes over the observations shared by the checks: engine orders by id, client id and CTP
//! identity, and each exchange order linked to the engine order it belongs to (by OrderSysID,
//! else by FrontID/SessionID/OrderRef, which the engine persists before writing a request).
//!
//! Built for a million orders: per-order lists are stored flat ([`Groups`]) rather than one
//! vector per order, and hashing uses a multiply-rotate hasher (the keys are our own data, so
//! hash flooding is no concern).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::observations::Observations;

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

pub(crate) struct Index<'a> {
    pub by_order_id: FastMap<i64, usize>,
    /// The first engine order of each client_order_id; [`Index::client_rows`] has them all.
    pub by_client: FastMap<&'a str, usize>,
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
}

impl<'a> Index<'a> {
    pub fn build(obs: &'a Observations) -> Self {
        let orders = &obs.db.orders;
        let n = orders.len();
        let mut by_order_id = fast_map(n);
        let mut by_client = fast_map(n);
        let mut client_first = Vec::with_capacity(n);
        let mut by_ref: FastMap<(i32, i32, &str), usize> = fast_map(n);
        let mut by_sys: FastMap<&str, usize> = fast_map(n);
        for (i, o) in orders.iter().enumerate() {
            by_order_id.insert(o.order_id, i);
            client_first.push(*by_client.entry(o.client_order_id.as_str()).or_insert(i));
            by_ref.insert((o.front_id, o.session_id, o.order_ref.trim()), i);
            let sys = o.order_sys_id.trim();
            if !sys.is_empty() {
                by_sys.insert(sys, i);
            }
        }
        let client_rows = Groups::build(n, client_first.iter().copied().zip(0..));
        let exchange_link: Vec<Option<usize>> = obs
            .exchange
            .orders
            .iter()
            .map(|e| {
                let sys = e.order_sys_id.trim();
                (!sys.is_empty())
                    .then(|| by_sys.get(sys).copied())
                    .flatten()
                    .or_else(|| {
                        by_ref
                            .get(&(e.front_id, e.session_id, e.order_ref.trim()))
                            .copied()
                    })
            })
            .collect();
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
            .map(|t| by_order_id.get(&t.order_id).copied())
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
            let row = by_order_id.get(&id).copied();
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
        Self {
            by_order_id,
            by_client,
            client_rows,
            exchange_link,
            exchange_orders_of,
            trades_of,
            order_events_of,
            trade_events_of,
            stray_events,
        }
    }

    /// Every engine order of a client_order_id.
    pub fn rows_of_client(&self, cid: &str) -> &[usize] {
        self.by_client
            .get(cid)
            .map_or(&[][..], |&first| self.client_rows.of(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn keys_differing_in_high_bytes_spread_over_low_bits() {
        let b = BuildHasherDefault::<FastHasher>::default();
        let low: FastSet<u64> = (0..4096)
            .map(|i| b.hash_one(format!("c-{i:06}").as_str()) & 0xfff)
            .collect();
        assert!(low.len() > 2000, "{} distinct buckets of 4096", low.len());
    }
}
