//! Rows keyed by a string id (client_order_id, OrderSysID, TradeID), interned as integers
//! when every key is one prefix followed by a number: the workload names orders
//! `{prefix}-{n}`, mock-ctp numbers OrderSysIDs and TradeIDs, so a million keys become a
//! table indexed by number ([`IdRows`]) instead of a million strings hashed and compared.
//! Any other key set is hashed as strings ([`StrRows`]): same answers, just slower.

use super::each_key::each_key;
use super::groups::row32;
use super::id_rows::{IdRows, Keep, NONE};
use super::str_rows::{trim, StrRows};

/// A key's prefix (all before its trailing digits) and the number those digits spell, when
/// they spell it canonically (no leading zero but "0", at most 18 digits, so it fits an i64):
/// then two keys are equal exactly when their prefixes and numbers are.
pub(crate) fn split_number(key: &str) -> Option<(&str, i64)> {
    let b = key.as_bytes();
    let digits = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let at = b.len() - digits;
    let d = &b[at..];
    if d.is_empty() || d.len() > 18 || (d[0] == b'0' && d.len() > 1) {
        return None;
    }
    let n = d.iter().fold(0i64, |n, c| n * 10 + i64::from(c - b'0'));
    Some((&key[..at], n))
}

/// A bare key's number (an OrderSysID or TradeID once trimmed), or [`NOT_NUMBER`].
pub(crate) fn bare_number(key: &str) -> i64 {
    match split_number(key) {
        Some(("", n)) => n,
        _ => NOT_NUMBER,
    }
}

/// Not a bare number: such a key is compared as a string. Numbers are never negative.
pub(crate) const NOT_NUMBER: i64 = -1;

/// Whether key `a`, given by its [`bare_number`] (its string read only if that is not one),
/// equals `b`. Two bare numbers are equal keys exactly when the numbers are, and a bare
/// number never equals a key that is not one.
pub(crate) fn same_key<'k>(a: i64, a_key: impl FnOnce() -> &'k str, b: &str) -> bool {
    let n = bare_number(b);
    if a == NOT_NUMBER && n == NOT_NUMBER {
        a_key() == b
    } else {
        a == n
    }
}

/// How a row's raw string becomes its key.
#[derive(Clone, Copy)]
pub(crate) struct Form {
    /// Keys are compared trimmed (CTP pads its fields with spaces).
    pub trim: bool,
    /// An empty key names no row.
    pub skip_empty: bool,
}

impl Form {
    pub const AS_IS: Self = Self {
        trim: false,
        skip_empty: false,
    };
    pub const TRIMMED: Self = Self {
        trim: true,
        skip_empty: false,
    };
    pub const TRIMMED_NOT_EMPTY: Self = Self {
        trim: true,
        skip_empty: true,
    };

    pub fn key(self, raw: &str) -> Option<&str> {
        let key = if self.trim { trim(raw) } else { raw };
        (!(self.skip_empty && key.is_empty())).then_some(key)
    }
}

pub(crate) struct KeyRows<'a, F> {
    /// A row's raw string, made a key by `form`.
    raw_of: F,
    form: Form,
    how: How<'a>,
}

enum How<'a> {
    Numbered { prefix: &'a str, ids: IdRows },
    Hashed(StrRows),
}

impl<'a, F: Fn(u32) -> &'a str> KeyRows<'a, F> {
    /// Rows `0..n` by key, a repeated key naming its first row; with, for each row, the first
    /// row of its key ([`NONE`] for a row without one).
    pub fn first_wins(n: usize, raw_of: F, form: Form) -> (Self, Vec<u32>) {
        Self::build(n, raw_of, form, Keep::First)
    }

    /// Rows `0..n` by key, a repeated key naming its last row.
    pub fn last_wins(n: usize, raw_of: F, form: Form) -> Self {
        Self::build(n, raw_of, form, Keep::Last).0
    }

    fn build(n: usize, raw_of: F, form: Form, keep: Keep) -> (Self, Vec<u32>) {
        if let Some((prefix, numbers)) = numbered(n, |i| raw_of(row32(i)), form) {
            let (ids, named) = IdRows::of(n, |i| (numbers[i] >= 0).then_some(numbers[i]), keep);
            let how = How::Numbered { prefix, ids };
            return (Self { raw_of, form, how }, named);
        }
        let mut table = StrRows::with_capacity(n);
        let mut named = Vec::new();
        {
            let key_of = |r: u32| form.key(raw_of(r)).unwrap_or_default();
            each_key(
                n,
                |i| raw_of(row32(i)),
                |i, raw| {
                    let r = row32(i);
                    match (form.key(raw), keep) {
                        (None, Keep::First) => named.push(NONE),
                        (None, Keep::Last) => {}
                        (Some(k), Keep::First) => named.push(table.first_or_insert(k, r, key_of)),
                        (Some(k), Keep::Last) => table.insert(k, r, key_of),
                    }
                    true
                },
            );
        }
        (
            Self {
                raw_of,
                form,
                how: How::Hashed(table),
            },
            named,
        )
    }

    /// The row `key` (already in this index's form) names.
    fn get(&self, key: &str) -> Option<u32> {
        match &self.how {
            How::Numbered { prefix, ids } => split_number(key)
                .filter(|(p, _)| same_prefix(p, prefix))
                .map(|(_, n)| ids.row(n))
                .filter(|&r| r != NONE),
            How::Hashed(table) => {
                table.get(key, |r| self.form.key((self.raw_of)(r)).unwrap_or_default())
            }
        }
    }

    /// For each query `i` in `0..n`, in order: `f(i, its key, the row it names)`; a query the
    /// form leaves without a key names none.
    pub fn look_up_each<'q>(
        &self,
        n: usize,
        raw_of: impl Fn(usize) -> &'q str,
        mut f: impl FnMut(usize, Option<&str>, Option<u32>),
    ) {
        each_key(n, raw_of, |i, raw| {
            let key = self.form.key(raw);
            f(i, key, key.and_then(|k| self.get(k)));
            true
        });
    }
}

/// `a == b` for the short prefixes of ids, compared in place: `==` on strings calls `memcmp`,
/// once per key of a million.
fn same_prefix(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// Every row's key number (-1 for a row without a key) and the keys' common prefix, if every
/// key is that prefix and a canonical number.
fn numbered<'a>(
    n: usize,
    raw_of: impl Fn(usize) -> &'a str,
    form: Form,
) -> Option<(&'a str, Vec<i64>)> {
    let mut prefix = None;
    let mut numbers = Vec::with_capacity(n);
    each_key(n, raw_of, |_, raw| {
        let Some(key) = form.key(raw) else {
            numbers.push(-1);
            return true;
        };
        let Some((p, number)) = split_number(key) else {
            return false;
        };
        if !same_prefix(prefix.get_or_insert(p), p) {
            return false;
        }
        numbers.push(number);
        true
    });
    (numbers.len() == n).then(|| (prefix.unwrap_or_default(), numbers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_split_off_only_when_it_spells_the_key_back() {
        assert_eq!(split_number("w1f-42"), Some(("w1f-", 42)));
        assert_eq!(split_number("c-0"), Some(("c-", 0)));
        assert_eq!(split_number("17"), Some(("", 17)));
        assert_eq!(split_number("c-007"), None);
        assert_eq!(split_number("c-"), None);
        assert_eq!(split_number(""), None);
        assert_eq!(split_number("1234567890123456789"), None);
        assert_eq!(split_number("é9"), Some(("é", 9)));
    }

    #[test]
    fn same_key_is_string_equality() {
        let keys = ["12", "012", "x12", "", "0", "00", "12 "];
        for a in keys {
            for b in keys {
                assert_eq!(same_key(bare_number(a), || a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    fn answers(
        keys: &[Option<&'static str>],
        probes: &[&'static str],
    ) -> (Vec<u32>, Vec<Option<u32>>, bool) {
        // `None` is an empty key, which this form skips.
        let raw: Vec<&str> = keys.iter().map(|k| k.unwrap_or("  ")).collect();
        let form = Form::TRIMMED_NOT_EMPTY;
        let (first, named) = KeyRows::first_wins(raw.len(), |r| raw[r as usize], form);
        let last = KeyRows::last_wins(raw.len(), |r| raw[r as usize], form);
        let mut got = Vec::new();
        first.look_up_each(probes.len(), |i| probes[i], |_, _, r| got.push(r));
        let mut got_last = Vec::new();
        last.look_up_each(probes.len(), |i| probes[i], |_, _, r| got_last.push(r));
        let got = got
            .into_iter()
            .zip(got_last)
            .flat_map(|(a, b)| [a, b])
            .collect();
        (named, got, matches!(first.how, How::Numbered { .. }))
    }

    #[test]
    fn numbered_and_hashed_keys_answer_alike() {
        let probes = [" c-1", "c-2 ", "c-3", "c-01", "d-1", "1", " "];
        let numbered = [Some("c-1"), Some("c-2"), None, Some("c-1"), Some("c-3")];
        let (named, got, is_numbered) = answers(&numbered, &probes);
        assert!(is_numbered);
        assert_eq!(named, [0, 1, NONE, 0, 4]);
        let hashed = [Some("c-1"), Some("c-2"), None, Some("c-1"), Some("c-03")];
        let (named_h, got_h, is_numbered) = answers(&hashed, &probes);
        assert!(!is_numbered);
        assert_eq!(named_h, named);
        // "c-3" is only in the numbered set, "c-03" only in the hashed one.
        let strip = |g: Vec<Option<u32>>| g[..4].to_vec();
        assert_eq!(strip(got.clone()), strip(got_h.clone()));
        assert_eq!(&got[4..6], &[Some(4), Some(4)]);
        assert_eq!(&got_h[4..6], &[None, None]);
        assert!(got[6..].iter().all(Option::is_none), "{got:?}");
        let mixed = [Some("c-1"), Some("d-2")];
        assert!(!answers(&mixed, &[]).2);
    }
}
