//! The checks' hasher and maps keyed with it. The keys are our own data (ids, accounts), so
//! hash flooding is no concern and a multiply-rotate hash of a few cycles a word replaces
//! SipHash's tens.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash's multiply-rotate, reading strings a word at a time.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

/// `bytes` (at most 8) as one little-endian word, by at most two loads whatever the length:
/// copying a short tail into a buffer is a `memcpy` call per key, which dominated hashing ids.
fn short_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let u32_at = |i: usize| {
        u64::from(u32::from_le_bytes([
            bytes[i],
            bytes[i + 1],
            bytes[i + 2],
            bytes[i + 3],
        ]))
    };
    match n {
        0 => 0,
        1..=3 => u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16,
        _ => u32_at(0) | u32_at(n - 4) << 32,
    }
}

fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().expect("an 8-byte chunk"))
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        if n <= 8 {
            // The length tells apart what the overlapping loads may not ("ab" and "abab").
            self.write_u64(short_word(bytes) ^ (n as u64) << 59);
            return;
        }
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.write_u64(word(chunk));
        }
        if !chunks.remainder().is_empty() {
            // The last 8 bytes, overlapping the last full chunk: two loads, no copy.
            self.write_u64(word(&bytes[n - 8..]) ^ (n as u64) << 59);
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

    #[test]
    fn strings_of_every_short_length_hash_apart() {
        let b = BuildHasherDefault::<FastHasher>::default();
        let keys = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "aa",
            "aaa",
            "abab",
            "abcd",
            "abcde",
            "0000",
            "00000",
            "12345678",
            "123456789",
            "1234567890123456",
            "12345678901234567",
        ];
        let hashes: FastSet<u64> = keys.iter().map(|k| b.hash_one(k)).collect();
        assert_eq!(hashes.len(), keys.len());
    }
}
