//! slicer: cuts each chunk into slices of about `average_size` bytes (plus or minus
//! `size_variation`, drawn from the link's seeded stream) sent `delay` µs apart, to exercise
//! a peer's handling of partial reads. The cut points follow Toxiproxy's recursive halving.

use bytes::Bytes;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

use super::{Event, Stage};

pub(crate) struct Slicer {
    average_size: u64,
    size_variation: u64,
    delay: Duration,
    free_at: Option<Instant>,
}

impl Slicer {
    pub(crate) fn new(average_size: u64, size_variation: u64, delay_us: u64) -> Self {
        Slicer {
            average_size,
            size_variation,
            delay: Duration::from_micros(delay_us),
            free_at: None,
        }
    }

    /// Cut points of `[start, end)`: halves until a piece is within the variation of the
    /// average, moving each midpoint by a random amount in `[-variation, variation)`.
    /// Validation guarantees `0 <= variation < average`, which keeps every piece non-empty.
    fn cuts(&self, start: u64, end: u64, rng: &mut ChaCha8Rng, out: &mut Vec<u64>) {
        if (end - start).saturating_sub(self.average_size) <= self.size_variation {
            out.push(end);
            return;
        }
        let mut mid = start + (end - start) / 2;
        if self.size_variation > 0 {
            let variation = self.size_variation as i64;
            let offset = rng.random_range(-variation..variation);
            mid = mid.saturating_add_signed(offset);
        }
        self.cuts(start, mid, rng, out);
        self.cuts(mid, end, rng, out);
    }
}

impl Stage for Slicer {
    fn on_data(&mut self, at: Instant, data: Bytes, rng: &mut ChaCha8Rng, out: &mut Vec<Event>) {
        let mut ends = Vec::new();
        self.cuts(0, data.len() as u64, rng, &mut ends);
        let mut t = self.free_at.map_or(at, |free| free.max(at));
        let mut start = 0usize;
        for end in ends {
            let end = end as usize;
            out.push(Event::Data {
                at: t,
                data: data.slice(start..end),
            });
            start = end;
            t += self.delay;
        }
        self.free_at = Some(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::testing;

    fn slices(stage: &mut Slicer, len: usize, rng: &mut ChaCha8Rng) -> Vec<Event> {
        let mut out = Vec::new();
        let data: Bytes = (0..len).map(|i| i as u8).collect::<Vec<u8>>().into();
        stage.on_data(Instant::now(), data, rng, &mut out);
        out
    }

    fn sizes(events: &[Event]) -> Vec<usize> {
        events
            .iter()
            .map(|e| match e {
                Event::Data { data, .. } => data.len(),
                _ => 0,
            })
            .collect()
    }

    #[test]
    fn slices_keep_every_byte_in_order_within_bounds() {
        let mut stage = Slicer::new(10, 4, 0);
        let out = slices(&mut stage, 1000, &mut testing::rng());
        let joined: Vec<u8> = out
            .iter()
            .flat_map(|e| match e {
                Event::Data { data, .. } => data.to_vec(),
                _ => vec![],
            })
            .collect();
        assert_eq!(joined, (0..1000).map(|i| i as u8).collect::<Vec<u8>>());
        let sizes = sizes(&out);
        assert!(sizes.len() > 50, "{sizes:?}");
        assert!(sizes.iter().all(|s| (1..=14).contains(s)), "{sizes:?}");
    }

    #[test]
    fn slices_are_spaced_by_the_delay() {
        let mut stage = Slicer::new(4, 0, 500);
        let out = slices(&mut stage, 16, &mut testing::rng());
        assert_eq!(sizes(&out), vec![4, 4, 4, 4]);
        assert_eq!(out[3].at() - out[0].at(), Duration::from_micros(1500));
    }

    #[test]
    fn same_seed_same_slices() {
        let a = sizes(&slices(
            &mut Slicer::new(20, 15, 0),
            4096,
            &mut testing::rng(),
        ));
        let b = sizes(&slices(
            &mut Slicer::new(20, 15, 0),
            4096,
            &mut testing::rng(),
        ));
        assert_eq!(a, b);
    }
}
