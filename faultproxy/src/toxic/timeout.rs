//! timeout: a blackhole. Data is dropped (as Toxiproxy does) and, if `timeout` is not 0, the
//! connection is closed `timeout` ms after the toxic reached the link; with 0 the link stays
//! silent until the toxic is removed.

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

use super::{Event, Stage};

pub(crate) struct Timeout {
    close_at: Option<Instant>,
}

impl Timeout {
    pub(crate) fn new(timeout_ms: u64, activated: Instant) -> Self {
        let close_at = (timeout_ms > 0).then(|| activated + Duration::from_millis(timeout_ms));
        Timeout { close_at }
    }
}

impl Stage for Timeout {
    fn on_data(&mut self, _: Instant, _: Bytes, _: &mut ChaCha8Rng, _: &mut Vec<Event>) {}

    fn close_deadline(&self) -> Option<Instant> {
        self.close_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::testing;

    #[test]
    fn drops_data_and_closes_after_the_timeout() {
        let now = Instant::now();
        let mut stage = Timeout::new(500, now);
        assert!(testing::data(&mut stage, now, b"lost").is_empty());
        assert_eq!(
            stage.close_deadline(),
            Some(now + Duration::from_millis(500))
        );
    }

    #[test]
    fn zero_holds_forever() {
        let mut stage = Timeout::new(0, Instant::now());
        assert!(testing::data(&mut stage, Instant::now(), b"lost").is_empty());
        assert_eq!(stage.close_deadline(), None);
    }
}
