//! Toxics: their API model (`spec`) and their behaviour on a link (one file per type).
//!
//! A toxic's behaviour is a `Stage`: it turns timestamped events (data read at some instant,
//! end of stream) into events due at later instants, or into an abort of the connection.
//! Stages compute *when* things happen rather than sleeping themselves, so a chain of toxics
//! is a plain function the link pump evaluates, and each stage can be tested without sockets.

mod bandwidth;
mod latency;
mod limit_data;
mod reset_peer;
mod slicer;
mod slow_close;
pub(crate) mod spec;
mod timeout;

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

pub use spec::{Stream, Toxic, ToxicKind, ToxicView};

/// Something that happens on one direction of a link, at `at`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Event {
    /// Bytes to write to the destination.
    Data { at: Instant, data: Bytes },
    /// The source ended: half-close the destination.
    Eof { at: Instant },
    /// Close the whole connection.
    Close { at: Instant },
    /// Close the whole connection with a TCP RST.
    Reset { at: Instant },
}

impl Event {
    pub(crate) fn at(&self) -> Instant {
        match self {
            Event::Data { at, .. }
            | Event::Eof { at }
            | Event::Close { at }
            | Event::Reset { at } => *at,
        }
    }

    pub(crate) fn delay_to(&mut self, later: Instant) {
        match self {
            Event::Data { at, .. }
            | Event::Eof { at }
            | Event::Close { at }
            | Event::Reset { at } => *at = (*at).max(later),
        }
    }
}

/// The behaviour of one toxic on one direction of one connection.
pub(crate) trait Stage: Send {
    fn on_data(&mut self, at: Instant, data: Bytes, _rng: &mut ChaCha8Rng, out: &mut Vec<Event>) {
        out.push(Event::Data { at, data });
    }

    fn on_eof(&mut self, at: Instant, out: &mut Vec<Event>) {
        out.push(Event::Eof { at });
    }

    /// When the stage closes the connection on a timer of its own, independent of data
    /// (the timeout toxic's).
    fn close_deadline(&self) -> Option<Instant> {
        None
    }
}

/// The stage for `kind`, activated on a link at `now`.
pub(crate) fn stage(kind: &ToxicKind, now: Instant) -> Box<dyn Stage> {
    match *kind {
        ToxicKind::Latency {
            latency_ms,
            jitter_ms,
        } => Box::new(latency::Latency::new(latency_ms, jitter_ms)),
        ToxicKind::Bandwidth { rate_kb_s } => Box::new(bandwidth::Bandwidth::new(rate_kb_s)),
        ToxicKind::SlowClose { delay_ms } => Box::new(slow_close::SlowClose::new(delay_ms)),
        ToxicKind::Timeout { timeout_ms } => Box::new(timeout::Timeout::new(timeout_ms, now)),
        ToxicKind::ResetPeer { timeout_ms } => Box::new(reset_peer::ResetPeer::new(timeout_ms)),
        ToxicKind::Slicer {
            average_size,
            size_variation,
            delay_us,
        } => Box::new(slicer::Slicer::new(average_size, size_variation, delay_us)),
        ToxicKind::LimitData { bytes } => Box::new(limit_data::LimitData::new(bytes)),
    }
}

/// Runs one event through a chain of stages, in order. Events come out in time order, and
/// nothing follows an abort.
pub(crate) fn run_chain(
    stages: &mut [&mut (dyn Stage + 'static)],
    input: Event,
    rng: &mut ChaCha8Rng,
) -> Vec<Event> {
    let mut events = vec![input];
    for stage in stages.iter_mut() {
        let mut next = Vec::with_capacity(events.len());
        for event in events {
            match event {
                Event::Data { at, data } => stage.on_data(at, data, rng, &mut next),
                Event::Eof { at } => stage.on_eof(at, &mut next),
                abort => next.push(abort),
            }
        }
        events = next;
    }
    let mut last: Option<Instant> = None;
    let mut ordered = Vec::with_capacity(events.len());
    for mut event in events {
        if let Some(last) = last {
            event.delay_to(last);
        }
        last = Some(event.at());
        let abort = matches!(event, Event::Close { .. } | Event::Reset { .. });
        ordered.push(event);
        if abort {
            break;
        }
    }
    ordered
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use rand::SeedableRng;

    pub(crate) fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    pub(crate) fn data(stage: &mut dyn Stage, at: Instant, bytes: &'static [u8]) -> Vec<Event> {
        let mut out = Vec::new();
        stage.on_data(at, Bytes::from_static(bytes), &mut rng(), &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn chain_applies_stages_in_order_and_stops_at_abort() {
        let now = Instant::now();
        let mut latency = latency::Latency::new(10, 0);
        let mut limit = limit_data::LimitData::new(3);
        let mut rng = testing::rng();
        let input = Event::Data {
            at: now,
            data: Bytes::from_static(b"hello"),
        };
        let out = run_chain(&mut [&mut latency, &mut limit], input, &mut rng);
        let due = now + Duration::from_millis(10);
        assert_eq!(
            out,
            vec![
                Event::Data {
                    at: due,
                    data: Bytes::from_static(b"hel")
                },
                Event::Close { at: due }
            ]
        );
    }
}
