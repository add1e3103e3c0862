//! limit_data: passes `bytes` bytes in this direction, then closes the connection, as a
//! connection cut mid-message would. The count survives updates of other toxics on the link.

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

use super::{Event, Stage};

pub(crate) struct LimitData {
    remaining: u64,
}

impl LimitData {
    pub(crate) fn new(bytes: u64) -> Self {
        LimitData { remaining: bytes }
    }
}

impl Stage for LimitData {
    fn on_data(&mut self, at: Instant, mut data: Bytes, _: &mut ChaCha8Rng, out: &mut Vec<Event>) {
        let allowed = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        data.truncate(allowed);
        self.remaining -= data.len() as u64;
        if !data.is_empty() {
            out.push(Event::Data { at, data });
        }
        if self.remaining == 0 {
            out.push(Event::Close { at });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::testing;

    #[test]
    fn passes_the_limit_then_closes() {
        let now = Instant::now();
        let mut stage = LimitData::new(5);
        assert_eq!(
            testing::data(&mut stage, now, b"abc"),
            vec![Event::Data {
                at: now,
                data: "abc".into()
            }]
        );
        assert_eq!(
            testing::data(&mut stage, now, b"defg"),
            vec![
                Event::Data {
                    at: now,
                    data: "de".into()
                },
                Event::Close { at: now }
            ]
        );
    }

    #[test]
    fn zero_closes_on_first_data() {
        let now = Instant::now();
        assert_eq!(
            testing::data(&mut LimitData::new(0), now, b"a"),
            vec![Event::Close { at: now }]
        );
    }
}
