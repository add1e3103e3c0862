//! Waiting for the platform to settle before its final state is read: the engine has relayed
//! its whole outbox, no order still waits for the exchange's first answer, and the engine has
//! applied its CTP private flow up to the exchange's last return. A platform that does not
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
                 answer, flows behind {:?}",
                self.waited_ms, self.outbox_unsent, self.orders_new, self.flows_behind
            ),
        );
        v.evidence
            .counts
            .insert("outbox_unsent".into(), self.outbox_unsent.max(0) as u64);
        v.evidence
            .counts
            .insert("orders_new".into(), self.orders_new.max(0) as u64);
        v
    }
}

#[derive(Deserialize)]
struct Last {
    last_seq: u64,
}

async fn exchange_last(
    http: &reqwest::Client,
    ctp: &MockCtpEndpoint,
    investor: &str,
) -> Result<u64, ObserveError> {
    let last: Last = admin_get(http, ctp, &format!("/flows/{investor}/last")).await?;
    Ok(last.last_seq)
}

/// Polls until settled or `timeout`; errors only when a service cannot be read at all.
pub async fn wait(
    db: &Db,
    ctp: &MockCtpEndpoint,
    timeout: Duration,
) -> Result<Convergence, ObserveError> {
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        let (outbox_unsent, orders_new) = db.backlog().await?;
        let mut flows_behind = Vec::new();
        for (investor, applied) in db.flows().await? {
            let last = exchange_last(&http, ctp, &investor).await?;
            if u64::try_from(applied).unwrap_or(0) < last {
                flows_behind.push((investor, applied, last));
            }
        }
        let converged = outbox_unsent == 0 && orders_new == 0 && flows_behind.is_empty();
        let waited_ms = start.elapsed().as_millis() as u64;
        if converged || start.elapsed() >= timeout {
            return Ok(Convergence {
                converged,
                waited_ms,
                outbox_unsent,
                orders_new,
                flows_behind,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
