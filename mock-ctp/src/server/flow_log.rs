//! The trade sessions' private-flow marks: where each session's flow started (its resume mode,
//! the first sequence number it was sent and the flow's last one then, so how many returns it
//! was replayed) and where it ended (the next sequence number it would have been sent and the
//! flow's last one, so how many sequenced returns the session never received). This is the
//! ground truth of a front-disconnect scenario's hazard: returns in flight at the cut, replayed
//! after the RESUME.
//!
//! Bounded: the oldest marks go first past [`MAX_MARKS`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// How many marks the log keeps.
pub const MAX_MARKS: usize = 10_000;

/// One start or end of a trade session's private flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FlowMark {
    /// The session (re)subscribed and its flow starts at `from_seq`.
    Started {
        at_us: u64,
        session_id: i32,
        user_id: String,
        /// `restart`, `resume` or `quick`.
        resume_type: String,
        from_seq: u64,
        /// The flow's last sequence number then: returns `from_seq..=flow_last` are replayed.
        flow_last: u64,
    },
    /// The session ended; `next_seq` is the first return it was never written.
    Ended {
        at_us: u64,
        session_id: i32,
        user_id: String,
        /// `told 0x1001` (the admin API), `dropped 0x2001` (the front), `closed`, `unreadable`,
        /// `stalled`.
        end: String,
        /// Whether the admin API's disconnect ended it.
        told: bool,
        next_seq: u64,
        flow_last: u64,
    },
}

impl FlowMark {
    /// Returns a session was replayed at a start, or never received at an end.
    pub fn returns(&self) -> u64 {
        match self {
            Self::Started {
                from_seq,
                flow_last,
                ..
            } => (flow_last + 1).saturating_sub(*from_seq),
            Self::Ended {
                next_seq,
                flow_last,
                ..
            } => (flow_last + 1).saturating_sub(*next_seq),
        }
    }

    fn is_told_end(&self) -> bool {
        matches!(self, Self::Ended { told: true, .. })
    }
}

/// The log, shared by the sessions and the admin API.
#[derive(Debug, Default)]
pub struct FlowLog {
    marks: Mutex<(u64, VecDeque<FlowMark>)>,
    changed: Notify,
}

impl FlowLog {
    /// How many marks were ever pushed (a position to wait from).
    pub fn position(&self) -> u64 {
        self.lock().0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, VecDeque<FlowMark>)> {
        self.marks.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push(&self, mark: FlowMark) {
        {
            let mut g = self.lock();
            g.0 += 1;
            g.1.push_back(mark);
            if g.1.len() > MAX_MARKS {
                g.1.pop_front();
            }
        }
        self.changed.notify_waiters();
    }

    /// Every mark kept, oldest first, optionally of one investor.
    pub fn marks(&self, user_id: Option<&str>) -> Vec<FlowMark> {
        self.lock()
            .1
            .iter()
            .filter(|m| {
                user_id.is_none_or(|u| match m {
                    FlowMark::Started { user_id, .. } | FlowMark::Ended { user_id, .. } => {
                        user_id == u
                    }
                })
            })
            .cloned()
            .collect()
    }

    /// The marks pushed after `position`.
    fn since(&self, position: u64) -> Vec<FlowMark> {
        let g = self.lock();
        let skip = g.1.len().saturating_sub((g.0 - position) as usize);
        g.1.iter().skip(skip).cloned().collect()
    }

    /// Waits (at most `limit`) until `count` sessions told to disconnect after `position`
    /// have ended; returns their end marks (fewer when the limit ran out).
    pub async fn told_ends_after(
        &self,
        position: u64,
        count: usize,
        limit: Duration,
    ) -> Vec<FlowMark> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let ends: Vec<FlowMark> = self
                .since(position)
                .into_iter()
                .filter(FlowMark::is_told_end)
                .collect();
            if ends.len() >= count {
                return ends;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return ends;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(session_id: i32, next_seq: u64, flow_last: u64, told: bool) -> FlowMark {
        FlowMark::Ended {
            at_us: 0,
            session_id,
            user_id: "000003".into(),
            end: "told 0x1001".into(),
            told,
            next_seq,
            flow_last,
        }
    }

    #[test]
    fn an_end_counts_the_returns_never_written() {
        assert_eq!(end(1, 8, 10, true).returns(), 3);
        assert_eq!(end(1, 11, 10, true).returns(), 0);
        let start = FlowMark::Started {
            at_us: 0,
            session_id: 2,
            user_id: "000003".into(),
            resume_type: "resume".into(),
            from_seq: 8,
            flow_last: 12,
        };
        assert_eq!(start.returns(), 5);
    }

    #[test]
    fn the_log_keeps_the_newest_marks() {
        let log = FlowLog::default();
        for i in 0..(MAX_MARKS + 5) {
            log.push(end(i as i32, 1, 0, false));
        }
        let marks = log.marks(None);
        assert_eq!(marks.len(), MAX_MARKS);
        assert_eq!(marks[0], end(5, 1, 0, false));
        assert_eq!(log.position(), (MAX_MARKS + 5) as u64);
    }

    #[tokio::test]
    async fn told_ends_are_awaited_from_a_position() {
        let log = std::sync::Arc::new(FlowLog::default());
        log.push(end(1, 1, 0, true));
        let at = log.position();
        let l2 = log.clone();
        let waiter =
            tokio::spawn(async move { l2.told_ends_after(at, 1, Duration::from_secs(5)).await });
        log.push(end(2, 3, 4, false));
        log.push(end(3, 3, 4, true));
        let got = waiter.await.unwrap();
        assert_eq!(got, vec![end(3, 3, 4, true)]);
        let none = log
            .told_ends_after(log.position(), 1, Duration::from_millis(20))
            .await;
        assert!(none.is_empty());
    }
}
