//! The private flow: per investor, an append-only log of every order and trade return of the
//! trading day, numbered from 1 without gaps.
//!
//! This is what makes RESUME work: a session reads the flow from a cursor, and faults that
//! drop returns drop them on the wire only, never from here. Each flow has a `watch` channel
//! whose value is the last sequence number, so sessions of the same investor wake when
//! another session's order produces a return.
//!
//! Known gaps: no public flow; the flow lives in memory only (a restart of the mock is a new
//! trading day, as CTP's warning about cleared flows describes).

use std::collections::HashMap;
use std::time::Instant;

use tokio::sync::watch;

use crate::protocol::{Message, ResumeType};

/// One return and when it was appended (the delay fault counts from then).
#[derive(Debug, Clone)]
pub struct FlowEntry {
    pub seq_no: u64,
    pub appended_at: Instant,
    pub message: Message,
}

#[derive(Debug)]
struct Flow {
    entries: Vec<FlowEntry>,
    tx: watch::Sender<u64>,
}

impl Flow {
    fn new() -> Self {
        Self {
            entries: Vec::new(),
            tx: watch::channel(0).0,
        }
    }
}

/// Every investor's private flow.
#[derive(Debug, Default)]
pub struct PrivateFlows {
    flows: HashMap<String, Flow>,
}

impl PrivateFlows {
    /// Appends a return, numbering it; `make` receives the sequence number so that the
    /// message can carry it.
    pub fn append(&mut self, investor: &str, now: Instant, make: impl FnOnce(u64) -> Message) {
        let flow = self
            .flows
            .entry(investor.to_owned())
            .or_insert_with(Flow::new);
        let seq_no = flow.entries.len() as u64 + 1;
        flow.entries.push(FlowEntry {
            seq_no,
            appended_at: now,
            message: make(seq_no),
        });
        flow.tx.send_replace(seq_no);
    }

    /// The last sequence number of an investor's flow (0 when empty).
    pub fn last_seq(&self, investor: &str) -> u64 {
        self.flows
            .get(investor)
            .map_or(0, |f| f.entries.len() as u64)
    }

    /// A receiver that changes whenever the investor's flow grows.
    pub fn subscribe(&mut self, investor: &str) -> watch::Receiver<u64> {
        self.flows
            .entry(investor.to_owned())
            .or_insert_with(Flow::new)
            .tx
            .subscribe()
    }

    /// Up to `max` entries with sequence numbers from `first_seq` on.
    pub fn read_from(&self, investor: &str, first_seq: u64, max: usize) -> Vec<FlowEntry> {
        let Some(flow) = self.flows.get(investor) else {
            return Vec::new();
        };
        let start = first_seq.max(1) as usize - 1;
        flow.entries.iter().skip(start).take(max).cloned().collect()
    }

    /// All entries of an investor's flow (for the admin API and tests).
    pub fn all(&self, investor: &str) -> Vec<FlowEntry> {
        self.read_from(investor, 1, usize::MAX)
    }

    /// Empties every flow for a new trading day. Receivers of the old flows are closed, so
    /// sessions that still follow them notice.
    pub fn clear(&mut self) {
        self.flows.clear();
    }
}

/// The first sequence number a subscription delivers, given the flow's current last one.
///
/// RESUME delivers everything after `last_seen`; if the flow is shorter (it was cleared for a
/// new day while the client kept its sequence), nothing is delivered until the flow grows past
/// it, exactly the behaviour CTP's documentation warns about.
pub fn first_seq(mode: ResumeType, last_seen: u64, flow_last: u64) -> u64 {
    match mode {
        ResumeType::Restart => 1,
        ResumeType::Resume => last_seen + 1,
        ResumeType::Quick => flow_last + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::FrontDisconnected;
    use proptest::prelude::*;

    fn msg(seq: u64) -> Message {
        Message::FrontDisconnected(FrontDisconnected { reason: seq as i32 })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Sequence numbers are gapless and increasing per flow, whatever the interleaving of
        /// investors.
        #[test]
        fn sequence_numbers_are_gapless_per_flow(investors in prop::collection::vec(0u8..3, 0..200)) {
            let mut flows = PrivateFlows::default();
            let now = Instant::now();
            for i in &investors {
                flows.append(&format!("inv{i}"), now, msg);
            }
            for i in 0u8..3 {
                let all = flows.all(&format!("inv{i}"));
                let expected = investors.iter().filter(|x| **x == i).count() as u64;
                prop_assert_eq!(all.len() as u64, expected);
                for (k, e) in all.iter().enumerate() {
                    prop_assert_eq!(e.seq_no, k as u64 + 1);
                    prop_assert_eq!(&e.message, &msg(k as u64 + 1));
                }
            }
        }

        /// RESUME from the last seen return yields exactly the rest; RESTART all; QUICK none.
        #[test]
        fn resume_yields_exactly_the_missed_returns(n in 0u64..100, seen_frac in 0.0f64..=1.0) {
            let mut flows = PrivateFlows::default();
            let now = Instant::now();
            for _ in 0..n {
                flows.append("a", now, msg);
            }
            let seen = (n as f64 * seen_frac) as u64;
            let from = first_seq(ResumeType::Resume, seen, n);
            let got: Vec<u64> = flows.read_from("a", from, usize::MAX).iter().map(|e| e.seq_no).collect();
            prop_assert_eq!(got, (seen + 1..=n).collect::<Vec<_>>());
            let all = flows.read_from("a", first_seq(ResumeType::Restart, seen, n), usize::MAX);
            prop_assert_eq!(all.len() as u64, n);
            prop_assert!(flows.read_from("a", first_seq(ResumeType::Quick, seen, n), usize::MAX).is_empty());
        }
    }

    #[test]
    fn watchers_see_appends() {
        let mut flows = PrivateFlows::default();
        let rx = flows.subscribe("a");
        flows.append("a", Instant::now(), msg);
        assert_eq!(*rx.borrow(), 1);
    }
}
