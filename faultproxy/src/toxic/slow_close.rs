//! slow_close: when the source ends, waits `delay` ms before passing the end of stream on, so
//! a peer that depends on a prompt FIN sees a lingering connection.

use std::time::{Duration, Instant};

use super::{Event, Stage};

pub(crate) struct SlowClose {
    delay: Duration,
}

impl SlowClose {
    pub(crate) fn new(delay_ms: u64) -> Self {
        SlowClose {
            delay: Duration::from_millis(delay_ms),
        }
    }
}

impl Stage for SlowClose {
    fn on_eof(&mut self, at: Instant, out: &mut Vec<Event>) {
        out.push(Event::Eof {
            at: at + self.delay,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::testing;

    #[test]
    fn delays_the_end_of_stream_but_not_data() {
        let now = Instant::now();
        let mut stage = SlowClose::new(250);
        assert_eq!(
            testing::data(&mut stage, now, b"a"),
            vec![Event::Data {
                at: now,
                data: "a".into()
            }]
        );
        let mut out = Vec::new();
        stage.on_eof(now, &mut out);
        assert_eq!(
            out,
            vec![Event::Eof {
                at: now + Duration::from_millis(250)
            }]
        );
    }
}
