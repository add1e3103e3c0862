//! latency: delays every chunk by `latency` ms, plus or minus a uniform `jitter` ms drawn per
//! chunk from the link's seeded stream. The delay counts from when the chunk was read, so
//! a stream of chunks is delayed, not throttled.

use bytes::Bytes;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

use super::{Event, Stage};

pub(crate) struct Latency {
    latency_ms: u64,
    jitter_ms: u64,
}

impl Latency {
    pub(crate) fn new(latency_ms: u64, jitter_ms: u64) -> Self {
        Latency {
            latency_ms,
            jitter_ms,
        }
    }

    fn delay(&self, rng: &mut ChaCha8Rng) -> Duration {
        let base = i128::from(self.latency_ms);
        let jitter = i128::from(self.jitter_ms);
        let offset = if jitter > 0 {
            rng.random_range(-jitter..=jitter)
        } else {
            0
        };
        Duration::from_millis((base + offset).max(0) as u64)
    }
}

impl Stage for Latency {
    fn on_data(&mut self, at: Instant, data: Bytes, rng: &mut ChaCha8Rng, out: &mut Vec<Event>) {
        out.push(Event::Data {
            at: at + self.delay(rng),
            data,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::testing;

    #[test]
    fn delays_by_latency() {
        let now = Instant::now();
        let out = testing::data(&mut Latency::new(100, 0), now, b"x");
        assert_eq!(
            out,
            vec![Event::Data {
                at: now + Duration::from_millis(100),
                data: "x".into()
            }]
        );
    }

    #[test]
    fn jitter_stays_in_bounds_varies_and_repeats_with_the_seed() {
        let stage = Latency::new(100, 20);
        let draw = |rng: &mut ChaCha8Rng| -> Vec<Duration> {
            (0..200).map(|_| stage.delay(rng)).collect()
        };
        let first = draw(&mut testing::rng());
        assert_eq!(first, draw(&mut testing::rng()));
        assert!(first.iter().all(|d| (80..=120).contains(&d.as_millis())));
        assert!(first.iter().any(|d| d.as_millis() < 95));
        assert!(first.iter().any(|d| d.as_millis() > 105));
    }

    #[test]
    fn jitter_larger_than_latency_never_goes_negative() {
        let stage = Latency::new(1, 50);
        let mut rng = testing::rng();
        assert!((0..200).all(|_| stage.delay(&mut rng) <= Duration::from_millis(51)));
    }
}
