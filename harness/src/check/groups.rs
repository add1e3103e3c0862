//! Items grouped by a dense group number (engine orders by row), stored flat: one vector per
//! order would be a million allocations. Items are `u32` row numbers or small copies of what
//! the checks read of a row: at a million orders and five groupings, 8-byte items were 40 MB
//! more memory to fault in and stream through.

use super::id_rows::NONE;

pub(crate) struct Groups<T = u32> {
    start: Vec<u32>,
    items: Vec<T>,
}

/// The callers' rows are numbered in `u32`; a run beyond that is refused, not misjudged.
pub(crate) fn row32(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 rows")
}

impl<T: Copy> Groups<T> {
    /// Groups `(group, item)` pairs, items keeping their input order within a group.
    pub fn build(groups: usize, pairs: impl Iterator<Item = (u32, T)> + Clone) -> Self {
        let mut start = vec![0u32; groups + 1];
        let mut any = None;
        for (g, item) in pairs.clone() {
            start[g as usize + 1] += 1;
            any.get_or_insert(item);
        }
        for g in 0..groups {
            start[g + 1] += start[g];
        }
        let mut fill = start.clone();
        let mut items = any.map_or_else(Vec::new, |any| vec![any; start[groups] as usize]);
        for (g, item) in pairs {
            let at = &mut fill[g as usize];
            items[*at as usize] = item;
            *at += 1;
        }
        Self { start, items }
    }

    /// Items `item(i)` grouped by the group `links[i]` names ([`NONE`] for none), in `i`
    /// order. Items are read in `i` order and scattered into place: reading them in group
    /// order would be a random walk through, say, Kafka events as received.
    pub fn by_links(groups: usize, links: &[u32], item: impl Fn(usize) -> T) -> Self {
        let mut start = vec![0u32; groups + 1];
        for &g in links.iter().filter(|&&g| g != NONE) {
            start[g as usize + 1] += 1;
        }
        for g in 0..groups {
            start[g + 1] += start[g];
        }
        let Some(first) = links.iter().position(|&g| g != NONE) else {
            return Self {
                start,
                items: Vec::new(),
            };
        };
        let mut fill = start.clone();
        let mut items = vec![item(first); start[groups] as usize];
        for (i, &g) in links.iter().enumerate().filter(|&(_, &g)| g != NONE) {
            let at = &mut fill[g as usize];
            items[*at as usize] = item(i);
            *at += 1;
        }
        Self { start, items }
    }

    pub fn of(&self, group: usize) -> &[T] {
        &self.items[self.start[group] as usize..self.start[group + 1] as usize]
    }

    pub fn len(&self) -> usize {
        self.start.len() - 1
    }
}

impl Groups<u32> {
    /// Item numbers grouped by the group each names ([`NONE`] for none), in item order.
    pub fn of_links(groups: usize, links: &[u32]) -> Self {
        Self::by_links(groups, links, row32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_keep_their_order_within_a_group() {
        let g = Groups::of_links(3, &[2, NONE, 0, 2, 2]);
        assert_eq!(g.of(0), &[2]);
        assert!(g.of(1).is_empty());
        assert_eq!(g.of(2), &[0, 3, 4]);
        assert_eq!(g.len(), 3);
        let tens = Groups::by_links(3, &[2, NONE, 0, 2, 2], |i| i * 10);
        assert_eq!(tens.of(2), &[0, 30, 40]);
        let none = Groups::by_links(2, &[NONE], |i| i);
        assert!(none.of(0).is_empty() && none.of(1).is_empty());
    }
}
