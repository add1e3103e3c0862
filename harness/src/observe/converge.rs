//! Waiting for the platform to settle before its final state is read: the engine has relayed
//! its whole outbox, no order still waits for the exchange's first answer, the exchange has no
//! fill still to come (a partially filling order adds returns by itself, and a snapshot taken
//! between two of its fills would be judged against returns published while it was read), and
//! the engine has applied its CTP private flow up to the exchange's last return. A platform that does not
//! settle in time is still read and judged, and the run says it did not converge (unknown,
//! never valid, unless a check finds it invalid).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::db::Db;
use super::error::ObserveError;
use super::exchange::admin_get;
use crate::check::Verdict;
use crate::platform::MockCtpEndpoint;

pub const NAME: &str = "converged";
const POLL: Duration = Duration::from_millis(100);

/// How the wait for a settled platform ended.
/// `Default` is what is known when the backlog could not be read at all: nothing settled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Convergence {
    pub converged: bool,
    pub waited_ms: u64,
    /// Outbox rows not yet relayed to Kafka at the last look.
    pub outbox_unsent: i64,
    /// Orders without the exchange's first answer at the last look.
    pub orders_new: i64,
    /// Investors whose private flow the engine has not applied to its end: (investor, engine's
    /// persisted seq, exchange's last seq).
    pub flows_behind: Vec<(String, i64, u64)>,
    /// Orders with fills still to come at the exchange at the last look.
    #[serde(default)]
    pub fills_pending: u64,
}

impl Convergence {
    pub fn verdict(&self) -> Verdict {
        if self.converged {
            return Verdict::valid(NAME, format!("settled after {} ms", self.waited_ms));
        }
        let mut v = Verdict::unknown(
            NAME,
            format!(
                "not settled after {} ms: {} outbox rows unsent, {} orders without an exchange \
                 answer, {} orders still filling at the exchange, flows behind {:?}",
                self.waited_ms,
                self.outbox_unsent,
                self.orders_new,
                self.fills_pending,
                self.flows_behind
            ),
        );
        v.evidence
            .counts
            .insert("outbox_unsent".into(), self.outbox_unsent.max(0) as u64);
        v.evidence
            .counts
            .insert("orders_new".into(), self.orders_new.max(0) as u64);
        v.evidence
            .counts
            .insert("fills_pending".into(), self.fills_pending);
        v
    }
}

#[derive(Deserialize)]
struct Last {
    last_seq: u64,
    #[serde(default)]
    pending_fills: u64,
}

async fn exchange_last(
    http: &reqwest::Client,
    ctp: &MockCtpEndpoint,
    investor: &str,
) -> Result<Last, ObserveError> {
    admin_get(http, ctp, &format!("/flows/{investor}/last")).await
}

/// Polls until settled or `timeout`; errors only when a service cannot be read at all.
pub async fn wait(
    db: &Db,
    ctp: &MockCtpEndpoint,
    timeout: Duration,
) -> Result<Convergence, ObserveError> {
    let http = reqwest::Client::new();
    let start = Instant::now();
    // The flows' positions at the previous look when it was settled: settled twice in a row
    // with nothing new in between, so that a request still on its way to the exchange (a
    // cancel sent at the flow's end) has had a poll interval to arrive and be answered.
    let mut settled_at: Option<Vec<(String, i64)>> = None;
    loop {
        let (outbox_unsent, orders_new) = db.backlog().await?;
        let mut flows_behind = Vec::new();
        let mut fills_pending = 0;
        let flows = db.flows().await?;
        for (investor, applied) in &flows {
            let last = exchange_last(&http, ctp, investor).await?;
            fills_pending += last.pending_fills;
            if u64::try_from(*applied).unwrap_or(0) < last.last_seq {
                flows_behind.push((investor.clone(), *applied, last.last_seq));
            }
        }
        let settled =
            outbox_unsent == 0 && orders_new == 0 && fills_pending == 0 && flows_behind.is_empty();
        let converged = settled && settled_at.as_ref() == Some(&flows);
        settled_at = settled.then_some(flows);
        let waited_ms = start.elapsed().as_millis() as u64;
        if converged || start.elapsed() >= timeout {
            return Ok(Convergence {
                converged,
                waited_ms,
                outbox_unsent,
                orders_new,
                flows_behind,
                fills_pending,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
