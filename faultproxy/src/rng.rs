//! Seed derivation. Every random choice (toxicity rolls, jitter, slice sizes) comes from a
//! ChaCha stream derived from the server seed and the identity of what is being decided
//! (proxy name, connection number, direction), never from the order in which tasks happen to
//! run. Two runs with the same seed and the same sequence of events make the same choices.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Mixes the server seed with a path of labels into a 64-bit sub-seed (FNV-1a, then a
/// splitmix64 finaliser so that close inputs give unrelated outputs).
pub(crate) fn derive(seed: u64, labels: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for label in labels {
        for byte in label.iter() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so that ["ab", "c"] and ["a", "bc"] differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(hash)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The random stream of one direction of one connection of one proxy.
pub(crate) fn for_link(seed: u64, proxy: &str, connection: u64, stream: &str) -> ChaCha8Rng {
    let sub = derive(
        seed,
        &[
            proxy.as_bytes(),
            &connection.to_le_bytes(),
            stream.as_bytes(),
        ],
    );
    ChaCha8Rng::seed_from_u64(sub)
}

/// A seed for when the user gave none: the clock, so that runs differ, and printed so that a
/// run can be replayed.
pub fn seed_from_time() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    splitmix64(nanos as u64 ^ u64::from(std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_identity_gives_same_stream() {
        let mut a = for_link(42, "pg", 3, "downstream");
        let mut b = for_link(42, "pg", 3, "downstream");
        let xs: Vec<u64> = (0..16).map(|_| a.random()).collect();
        let ys: Vec<u64> = (0..16).map(|_| b.random()).collect();
        assert_eq!(xs, ys);
    }

    #[test]
    fn any_identity_change_changes_the_stream() {
        let first =
            |seed, proxy, conn, stream| -> u64 { for_link(seed, proxy, conn, stream).random() };
        let base = first(42, "pg", 3, "downstream");
        assert_ne!(base, first(43, "pg", 3, "downstream"));
        assert_ne!(base, first(42, "pg2", 3, "downstream"));
        assert_ne!(base, first(42, "pg", 4, "downstream"));
        assert_ne!(base, first(42, "pg", 3, "upstream"));
        assert_ne!(derive(1, &[b"ab", b"c"]), derive(1, &[b"a", b"bc"]));
    }
}
