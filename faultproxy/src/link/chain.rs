//! The toxics active on one direction of one connection. When the proxy's toxic list
//! changes, the chain keeps the stage (and its state: bytes counted, bandwidth debt) of every
//! toxic that did not change, and rolls toxicity once for each new or updated toxic, as
//! Toxiproxy decides toxicity per link when a toxic reaches it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

use crate::proxy::ToxicEntry;
use crate::toxic::{self, Event, Stage, Stream};

pub(crate) struct Chain {
    stream: Stream,
    rng: ChaCha8Rng,
    active: Vec<Active>,
}

struct Active {
    name: String,
    generation: u64,
    /// None when the toxicity roll left this link untouched.
    stage: Option<Box<dyn Stage>>,
}

impl Chain {
    pub(crate) fn new(stream: Stream, rng: ChaCha8Rng) -> Self {
        Chain {
            stream,
            rng,
            active: Vec::new(),
        }
    }

    pub(crate) fn reconfigure(&mut self, toxics: &[ToxicEntry], now: Instant) {
        let mut previous = std::mem::take(&mut self.active);
        for entry in toxics.iter().filter(|e| e.toxic.stream == self.stream) {
            let kept = previous
                .iter()
                .position(|a| a.name == entry.toxic.name && a.generation == entry.generation);
            if let Some(index) = kept {
                self.active.push(previous.swap_remove(index));
                continue;
            }
            let applies = self.rng.random::<f32>() < entry.toxic.toxicity;
            self.active.push(Active {
                name: entry.toxic.name.clone(),
                generation: entry.generation,
                stage: applies.then(|| toxic::stage(&entry.toxic.kind, now)),
            });
        }
    }

    /// True when no toxic acts on this direction: the pump may copy bytes straight through.
    pub(crate) fn is_idle(&self) -> bool {
        self.active.iter().all(|a| a.stage.is_none())
    }

    /// Names of the toxics whose toxicity roll applied them (for logs and tests).
    pub(crate) fn applied(&self) -> Vec<&str> {
        self.active
            .iter()
            .filter(|a| a.stage.is_some())
            .map(|a| a.name.as_str())
            .collect()
    }

    pub(crate) fn process(&mut self, event: Event) -> Vec<Event> {
        let mut stages: Vec<&mut (dyn Stage + 'static)> = self
            .active
            .iter_mut()
            .filter_map(|a| a.stage.as_deref_mut())
            .collect();
        toxic::run_chain(&mut stages, event, &mut self.rng)
    }

    /// The earliest instant a toxic closes the connection on its own timer.
    pub(crate) fn close_deadline(&self) -> Option<Instant> {
        self.active
            .iter()
            .filter_map(|a| a.stage.as_ref()?.close_deadline())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use crate::toxic::{Toxic, ToxicKind};

    fn entry(name: &str, toxicity: f32, generation: u64) -> ToxicEntry {
        ToxicEntry {
            toxic: Toxic {
                name: name.to_owned(),
                kind: ToxicKind::Latency {
                    latency_ms: 10,
                    jitter_ms: 0,
                },
                stream: Stream::Downstream,
                toxicity,
            },
            generation,
        }
    }

    fn chain(connection: u64) -> Chain {
        Chain::new(
            Stream::Downstream,
            rng::for_link(1, "p", connection, "downstream"),
        )
    }

    #[test]
    fn toxicity_one_always_and_zero_never_applies() {
        let mut c = chain(0);
        c.reconfigure(&[entry("on", 1.0, 1), entry("off", 0.0, 2)], Instant::now());
        assert_eq!(c.applied(), vec!["on"]);
        assert!(!c.is_idle());
    }

    #[test]
    fn other_stream_toxics_are_ignored() {
        let mut c = Chain::new(Stream::Upstream, rng::for_link(1, "p", 0, "upstream"));
        c.reconfigure(&[entry("down", 1.0, 1)], Instant::now());
        assert!(c.is_idle());
    }

    #[test]
    fn unchanged_toxics_are_not_rerolled_but_updated_ones_are() {
        // Find a connection whose first roll at toxicity 0.5 misses, then check that a
        // reconfigure with the same generation keeps the miss.
        let missed = (0..64)
            .find(|&n| {
                let mut c = chain(n);
                c.reconfigure(&[entry("half", 0.5, 1)], Instant::now());
                c.is_idle()
            })
            .expect("some connection misses a 0.5 roll");
        let mut c = chain(missed);
        c.reconfigure(&[entry("half", 0.5, 1)], Instant::now());
        for _ in 0..20 {
            c.reconfigure(&[entry("half", 0.5, 1)], Instant::now());
            assert!(c.is_idle());
        }
        let mut applied_after_update = false;
        for generation in 2..40 {
            c.reconfigure(&[entry("half", 0.5, generation)], Instant::now());
            applied_after_update |= !c.is_idle();
        }
        assert!(applied_after_update);
    }

    #[test]
    fn toxicity_rolls_follow_the_seed() {
        let rolls = |seed: u64| -> Vec<bool> {
            (0..32)
                .map(|n| {
                    let mut c = Chain::new(
                        Stream::Downstream,
                        rng::for_link(seed, "p", n, "downstream"),
                    );
                    c.reconfigure(&[entry("half", 0.5, 1)], Instant::now());
                    c.is_idle()
                })
                .collect()
        };
        assert_eq!(rolls(5), rolls(5));
        assert_ne!(rolls(5), rolls(6));
        let hits = rolls(5).iter().filter(|idle| !**idle).count();
        assert!(
            (6..=26).contains(&hits),
            "{hits} of 32 applied at toxicity 0.5"
        );
    }
}
