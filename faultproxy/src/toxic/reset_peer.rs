//! reset_peer: like Toxiproxy, the first data that reaches the toxic is dropped and, `timeout`
//! ms later, the connection is closed with a TCP RST (SO_LINGER 0), so the peers see
//! "connection reset by peer" rather than a clean close.

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

use super::{Event, Stage};

pub(crate) struct ResetPeer {
    timeout: Duration,
    triggered: bool,
}

impl ResetPeer {
    pub(crate) fn new(timeout_ms: u64) -> Self {
        ResetPeer {
            timeout: Duration::from_millis(timeout_ms),
            triggered: false,
        }
    }
}

impl Stage for ResetPeer {
    fn on_data(&mut self, at: Instant, _: Bytes, _: &mut ChaCha8Rng, out: &mut Vec<Event>) {
        if !self.triggered {
            self.triggered = true;
            out.push(Event::Reset {
                at: at + self.timeout,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::testing;

    #[test]
    fn first_data_schedules_a_reset_after_the_timeout() {
        let now = Instant::now();
        let mut stage = ResetPeer::new(30);
        assert_eq!(
            testing::data(&mut stage, now, b"x"),
            vec![Event::Reset {
                at: now + Duration::from_millis(30)
            }]
        );
        assert!(testing::data(&mut stage, now, b"y").is_empty());
    }
}
