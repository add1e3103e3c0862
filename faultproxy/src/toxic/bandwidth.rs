//! bandwidth: limits a direction to `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy). Each chunk
//! leaves when the previous one has finished "transmitting" plus its own transmission time;
//! chunks larger than 100 ms worth of data are split, as Toxiproxy does, so a slow link
//! trickles instead of stalling. A rate of 0 means no limit.

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

use super::{Event, Stage};

pub(crate) struct Bandwidth {
    rate_kb_s: u64,
    free_at: Option<Instant>,
}

impl Bandwidth {
    pub(crate) fn new(rate_kb_s: u64) -> Self {
        Bandwidth {
            rate_kb_s,
            free_at: None,
        }
    }

    fn transmission(&self, bytes: usize) -> Duration {
        // bytes / (rate * 1000 bytes/s) seconds = bytes * 1e6 / rate nanoseconds.
        Duration::from_nanos((bytes as u64).saturating_mul(1_000_000) / self.rate_kb_s)
    }
}

impl Stage for Bandwidth {
    fn on_data(&mut self, at: Instant, mut data: Bytes, _: &mut ChaCha8Rng, out: &mut Vec<Event>) {
        if self.rate_kb_s == 0 {
            out.push(Event::Data { at, data });
            return;
        }
        let piece = usize::try_from(self.rate_kb_s.saturating_mul(100)).unwrap_or(usize::MAX);
        let mut t = self.free_at.map_or(at, |free| free.max(at));
        while !data.is_empty() {
            let part = data.split_to(piece.min(data.len()));
            t += self.transmission(part.len());
            out.push(Event::Data { at: t, data: part });
        }
        self.free_at = Some(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::testing;

    #[test]
    fn one_kb_at_ten_kb_s_takes_100_ms_and_queues_the_next() {
        let now = Instant::now();
        let mut stage = Bandwidth::new(10);
        let kb = vec![0u8; 1000];
        let mut out = Vec::new();
        stage.on_data(now, Bytes::from(kb.clone()), &mut testing::rng(), &mut out);
        stage.on_data(now, Bytes::from(kb), &mut testing::rng(), &mut out);
        let times: Vec<Duration> = out.iter().map(|e| e.at() - now).collect();
        assert_eq!(
            times,
            vec![Duration::from_millis(100), Duration::from_millis(200)]
        );
    }

    #[test]
    fn large_chunks_are_split_into_100_ms_pieces() {
        let now = Instant::now();
        let out = {
            let mut out = Vec::new();
            Bandwidth::new(1).on_data(
                now,
                Bytes::from(vec![1u8; 250]),
                &mut testing::rng(),
                &mut out,
            );
            out
        };
        let sizes: Vec<usize> = out
            .iter()
            .map(|e| match e {
                Event::Data { data, .. } => data.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        assert_eq!(out[2].at() - now, Duration::from_millis(250));
    }

    #[test]
    fn zero_rate_passes_through() {
        let now = Instant::now();
        assert_eq!(
            testing::data(&mut Bandwidth::new(0), now, b"abc"),
            vec![Event::Data {
                at: now,
                data: "abc".into()
            }]
        );
    }
}
