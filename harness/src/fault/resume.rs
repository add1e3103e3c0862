//! The resume side of a front disconnect: for each trade session a disconnect cut with returns
//! in flight, the session of the same investor that started after it, and whether its private
//! flow was replayed from at most the first return the cut session never got. The mock CTP
//! front's own marks (`GET /flows/{investor}/sessions`, PROTOCOL.md) are the ground truth; a
//! session that resumed past the cut (QUICK, or a sequence number above what it had applied)
//! leaves returns that no session of the investor was ever sent.

use std::fmt;

use serde::Deserialize;

use crate::observe::admin_get;
use crate::platform::Endpoints;

/// One start or end of a trade session's private flow, as `GET /flows/{investor}/sessions`
/// answers it (PROTOCOL.md: the front's API is the contract, not its crate's types).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FlowMark {
    Started {
        at_us: u64,
        session_id: i32,
        user_id: String,
        resume_type: String,
        from_seq: u64,
        flow_last: u64,
    },
    Ended {
        at_us: u64,
        session_id: i32,
        user_id: String,
        end: String,
        /// Whether the admin API's disconnect ended it.
        told: bool,
        next_seq: u64,
        flow_last: u64,
    },
}

/// One session cut with returns in flight, and what came after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub user_id: String,
    pub cut_session: i32,
    /// The first return the cut session was never written.
    pub next_seq: u64,
    /// The flow's last return at the cut.
    pub flow_last: u64,
    /// The first start of the investor's private flow after the cut that replayed it, or else
    /// the first start after it; `None` if none started.
    pub resumed: Option<Resumed>,
}

/// Where the next session's private flow started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    pub session_id: i32,
    /// `restart`, `resume` or `quick`.
    pub resume_type: String,
    pub from_seq: u64,
    /// The flow's last return when it started: `from_seq..=flow_last` were replayed.
    pub flow_last: u64,
}

impl Resume {
    /// The returns the cut session never got.
    pub fn missed(&self) -> u64 {
        (self.flow_last + 1).saturating_sub(self.next_seq)
    }

    /// Whether the next session was replayed every return the cut one missed.
    pub fn covered(&self) -> bool {
        self.resumed
            .as_ref()
            .is_some_and(|r| r.from_seq <= self.next_seq && r.flow_last >= self.flow_last)
    }
}

impl fmt::Display for Resume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "session {} of {} cut with {} returns in flight (seq {}..={})",
            self.cut_session,
            self.user_id,
            self.missed(),
            self.next_seq,
            self.flow_last
        )?;
        match &self.resumed {
            Some(r) => write!(
                f,
                ": session {} resumed ({}) from seq {}, replayed {} returns (..={})",
                r.session_id,
                r.resume_type,
                r.from_seq,
                (r.flow_last + 1).saturating_sub(r.from_seq),
                r.flow_last
            ),
            None => write!(f, ": no session started after it"),
        }
    }
}

/// For every session the admin API's disconnect cut at or after `since_us` (the front's wall
/// clock, microseconds since the Unix epoch) with returns in flight, the investor's first
/// session started after the cut. Marks are oldest first, as the front answers them.
pub fn after_cuts(marks: &[FlowMark], since_us: u64) -> Vec<Resume> {
    marks
        .iter()
        .enumerate()
        .filter_map(|(i, mark)| {
            let FlowMark::Ended {
                at_us,
                session_id,
                user_id,
                told: true,
                next_seq,
                flow_last,
                ..
            } = mark
            else {
                return None;
            };
            if *at_us < since_us || next_seq > flow_last {
                return None;
            }
            // The first start that replays the cut, else the first start at all (a resume past
            // the cut that a later re-subscription, the engine's gap check, made good counts).
            let starts: Vec<Resumed> = marks[i + 1..]
                .iter()
                .filter_map(|later| match later {
                    FlowMark::Started {
                        session_id,
                        user_id: u,
                        resume_type,
                        from_seq,
                        flow_last,
                        ..
                    } if u == user_id => Some(Resumed {
                        session_id: *session_id,
                        resume_type: resume_type.clone(),
                        from_seq: *from_seq,
                        flow_last: *flow_last,
                    }),
                    _ => None,
                })
                .collect();
            let resumed = starts
                .iter()
                .find(|r| r.from_seq <= *next_seq)
                .or(starts.first())
                .cloned();
            Some(Resume {
                user_id: user_id.clone(),
                cut_session: *session_id,
                next_seq: *next_seq,
                flow_last: *flow_last,
                resumed,
            })
        })
        .collect()
}

/// The front's flow marks of `investor`'s trade sessions, oldest first.
pub async fn flow_marks(endpoints: &Endpoints, investor: &str) -> anyhow::Result<Vec<FlowMark>> {
    let path = format!("/flows/{investor}/sessions");
    Ok(admin_get(&reqwest::Client::new(), &endpoints.mock_ctp, &path).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(at_us: u64, session_id: i32, told: bool, next_seq: u64, flow_last: u64) -> FlowMark {
        FlowMark::Ended {
            at_us,
            session_id,
            user_id: "000003".into(),
            end: if told { "told 0x1001" } else { "closed" }.into(),
            told,
            next_seq,
            flow_last,
        }
    }

    fn started(
        at_us: u64,
        session_id: i32,
        resume_type: &str,
        from_seq: u64,
        flow_last: u64,
    ) -> FlowMark {
        FlowMark::Started {
            at_us,
            session_id,
            user_id: "000003".into(),
            resume_type: resume_type.into(),
            from_seq,
            flow_last,
        }
    }

    #[test]
    fn a_resume_from_the_cut_covers_what_the_cut_session_missed() {
        let marks = [
            started(10, 1, "restart", 1, 0),
            ended(20, 1, true, 41, 80),
            started(30, 2, "resume", 41, 95),
        ];
        let r = after_cuts(&marks, 0);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].missed(), 40);
        assert!(r[0].covered(), "{}", r[0]);
        assert!(r[0].to_string().contains("replayed 55 returns"), "{}", r[0]);
    }

    #[test]
    fn a_quick_resume_past_the_cut_leaves_a_gap() {
        let marks = [ended(20, 1, true, 41, 80), started(30, 2, "quick", 81, 80)];
        let r = after_cuts(&marks, 0);
        assert!(!r[0].covered(), "{}", r[0]);
    }

    #[test]
    fn a_re_subscription_that_replays_the_cut_makes_good_a_quick_resume() {
        let marks = [
            ended(20, 1, true, 41, 80),
            started(30, 2, "quick", 81, 80),
            started(31, 2, "resume", 41, 83),
        ];
        let r = after_cuts(&marks, 0);
        assert!(r[0].covered(), "{}", r[0]);
        assert_eq!(r[0].resumed.as_ref().unwrap().resume_type, "resume");
    }

    #[test]
    fn a_cut_with_no_session_after_it_is_not_covered() {
        let r = after_cuts(&[ended(20, 1, true, 41, 80)], 0);
        assert_eq!(r[0].resumed, None);
        assert!(!r[0].covered());
    }

    #[test]
    fn only_the_runs_told_cuts_with_returns_in_flight_count() {
        let marks = [
            ended(5, 1, true, 10, 20),   // before the run
            ended(20, 2, false, 30, 40), // closed by the client
            ended(25, 3, true, 41, 40),  // nothing in flight
            started(30, 4, "resume", 41, 40),
        ];
        assert!(after_cuts(&marks, 10).is_empty());
    }
}
