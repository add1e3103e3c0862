//! Rows keyed by one of their string fields, for the indexes over a million orders or trades
//! whose ids are not a prefix and a number (those are looked up by number, `key_rows.rs`).
//! A slot holds the row's number (4 bytes) and the key is read back from the row when probing,
//! where a `HashMap<&str, usize>` holds 24 bytes a slot: at a million keys that is 8 MB of table
//! instead of 48 MB, which stays in cache and keeps the checks within their time budget.
//!
//! Known gaps: rows are numbered in `u32`; the callers refuse (panic) beyond 2^32 rows, which
//! no run approaches (a million orders take a few hundred MB already).

use std::hash::{BuildHasher, BuildHasherDefault};

use hashbrown::hash_table::{Entry, HashTable};

use super::hasher::FastHasher;

/// `s.trim()`, faster on CTP's space-padded fields: ASCII whitespace is cut byte by byte, and
/// the general (Unicode) trim runs only when what is left starts or ends with a byte that may
/// still be whitespace to it (vertical tab, which `trim_ascii` keeps, or a non-ASCII byte).
pub(crate) fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    let may_be_space = |b: Option<&u8>| b.is_some_and(|&b| b == 0x0b || !b.is_ascii());
    if may_be_space(t.as_bytes().first()) || may_be_space(t.as_bytes().last()) {
        t.trim()
    } else {
        t
    }
}

pub(crate) struct StrRows {
    table: HashTable<u32>,
    hasher: BuildHasherDefault<FastHasher>,
}

impl StrRows {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            table: HashTable::with_capacity(n),
            hasher: BuildHasherDefault::default(),
        }
    }

    /// The row `key` already names, else `row` after recording it (the first row wins).
    pub fn first_or_insert<'k>(
        &mut self,
        key: &str,
        row: u32,
        key_of: impl Fn(u32) -> &'k str,
    ) -> u32 {
        let hash = self.hasher.hash_one(key);
        let hasher = &self.hasher;
        match self
            .table
            .entry(hash, |&r| key_of(r) == key, |&r| hasher.hash_one(key_of(r)))
        {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                e.insert(row);
                row
            }
        }
    }

    /// Records `row` under `key`, replacing an earlier row of the same key (the last wins).
    pub fn insert<'k>(&mut self, key: &str, row: u32, key_of: impl Fn(u32) -> &'k str) {
        let hash = self.hasher.hash_one(key);
        let hasher = &self.hasher;
        match self
            .table
            .entry(hash, |&r| key_of(r) == key, |&r| hasher.hash_one(key_of(r)))
        {
            Entry::Occupied(mut e) => *e.get_mut() = row,
            Entry::Vacant(e) => {
                e.insert(row);
            }
        }
    }

    pub fn get<'k>(&self, key: &str, key_of: impl Fn(u32) -> &'k str) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        self.table.find(hash, |&r| key_of(r) == key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_cuts_what_str_trim_cuts() {
        for s in [
            "",
            "   ",
            "  12 ",
            "\t\x0b 7\x0b\r\n",
            "\u{3000}全角\u{a0}",
            "\u{2003} x \u{85}",
            "é ",
            "a b",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn first_wins_on_first_or_insert_and_last_on_insert() {
        let keys = ["a", "b", "a", "c", "b"];
        let key_of = |r: u32| keys[r as usize];
        let mut first = StrRows::with_capacity(2);
        let got: Vec<u32> = (0..5)
            .map(|r| first.first_or_insert(keys[r as usize], r, key_of))
            .collect();
        assert_eq!(got, [0, 1, 0, 3, 1]);
        let mut last = StrRows::with_capacity(0);
        for r in 0..5 {
            last.insert(keys[r as usize], r, key_of);
        }
        assert_eq!(last.get("a", key_of), Some(2));
        assert_eq!(last.get("b", key_of), Some(4));
        assert_eq!(last.get("d", key_of), None);
    }
}
