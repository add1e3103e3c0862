//! Integer ids to rows: a table indexed by `id - min` when the ids are dense (the engine draws
//! order ids from a sequence, mock-ctp numbers OrderSysIDs and TradeIDs from 1, the workload
//! numbers client ids), else a hash map. A lookup is then one load instead of hashing a
//! string and comparing it with the row's.

use super::hasher::{fast_map, FastMap};
use super::observations::OrderRow;

/// No row.
pub(crate) const NONE: u32 = u32::MAX;

pub(crate) enum IdRows {
    Dense { min: i64, rows: Vec<u32> },
    Sparse(FastMap<i64, u32>),
}

/// Engine order ids to rows; a repeated id names its last row, as a map's insert would.
pub(crate) type OrderIds = IdRows;

/// Which row a repeated id names.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    First,
    Last,
}

impl IdRows {
    pub fn build(orders: &[OrderRow]) -> Self {
        Self::of(orders.len(), |i| Some(orders[i].order_id), Keep::Last).0
    }

    /// Rows `0..n` by `id_of` (`None`: the row is not indexed), and for each row the row its
    /// id names ([`NONE`] for a row not indexed; only filled with [`Keep::First`]).
    pub fn of(n: usize, id_of: impl Fn(usize) -> Option<i64>, keep: Keep) -> (Self, Vec<u32>) {
        assert!(n < NONE as usize, "fewer than 2^32 - 1 rows");
        let (mut min, mut max, mut any) = (i64::MAX, i64::MIN, false);
        for id in (0..n).filter_map(&id_of) {
            (min, max, any) = (min.min(id), max.max(id), true);
        }
        let span = if any {
            i128::from(max) - i128::from(min) + 1
        } else {
            0
        };
        let mut named = if keep == Keep::First {
            vec![NONE; n]
        } else {
            Vec::new()
        };
        let mut pick = |slot: &mut u32, row: u32| {
            if keep == Keep::Last || *slot == NONE {
                *slot = row;
            }
            if keep == Keep::First {
                named[row as usize] = *slot;
            }
        };
        if span <= 4 * n as i128 + 1024 {
            let mut rows = vec![NONE; span as usize];
            for i in 0..n {
                if let Some(id) = id_of(i) {
                    pick(&mut rows[(id - min) as usize], i as u32);
                }
            }
            return (Self::Dense { min, rows }, named);
        }
        let mut map = fast_map(n);
        for i in 0..n {
            if let Some(id) = id_of(i) {
                pick(map.entry(id).or_insert(NONE), i as u32);
            }
        }
        (Self::Sparse(map), named)
    }

    #[cfg(test)]
    pub fn get(&self, id: i64) -> Option<usize> {
        let row = self.row(id);
        (row != NONE).then_some(row as usize)
    }

    /// The row of `id`, or [`NONE`].
    pub fn row(&self, id: i64) -> u32 {
        match self {
            Self::Dense { min, rows } => id
                .checked_sub(*min)
                .and_then(|k| usize::try_from(k).ok())
                .and_then(|k| rows.get(k).copied())
                .unwrap_or(NONE),
            Self::Sparse(map) => map.get(&id).copied().unwrap_or(NONE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn first_or_last_row_of_a_repeated_id_and_unindexed_rows() {
        let ids = [Some(5), Some(6), Some(5), None, Some(6)];
        let (first, named) = IdRows::of(5, |i| ids[i], Keep::First);
        assert_eq!(named, [0, 1, 0, NONE, 1]);
        assert_eq!(
            (first.get(5), first.get(6), first.get(7)),
            (Some(0), Some(1), None)
        );
        let (last, named) = IdRows::of(5, |i| ids[i], Keep::Last);
        assert!(named.is_empty());
        assert_eq!((last.get(5), last.get(6)), (Some(2), Some(4)));
        let far = [Some(i64::MIN), Some(i64::MAX), Some(i64::MIN)];
        let (sparse, named) = IdRows::of(3, |i| far[i], Keep::First);
        assert!(matches!(sparse, IdRows::Sparse(_)));
        assert_eq!(named, [0, 1, 0]);
        let (none, _) = IdRows::of(2, |_| None, Keep::Last);
        assert_eq!(none.get(0), None);
    }
}
