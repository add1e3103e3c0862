//! PostgreSQL streaming replication across the inter-DC line, as the primary reports it
//! (`pg_stat_replication`): whether dc2's standby streams, whether it is the synchronous one,
//! and how far behind it is. The launch waits on it; the DR drills read it.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::datacenter::Replication;
use crate::error::{Error, Result};

/// The `application_name` dc2's standby connects with, and the name the primary's
/// `synchronous_standby_names` lists in `sync` mode.
pub(crate) const STANDBY_NAME: &str = "dc2";

/// One look at the standby from the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicationStatus {
    /// `streaming`, `catchup`, `startup`, …; `None` when the standby is not connected.
    pub state: Option<String>,
    /// `sync`, `async`, `potential` or `quorum`, as PostgreSQL says.
    pub sync_state: Option<String>,
    /// WAL bytes written on the primary and not yet replayed on the standby.
    pub replay_lag_bytes: Option<i64>,
}

impl ReplicationStatus {
    /// True once the standby streams in the way `mode` asks (the synchronous one in `sync`).
    pub fn is_streaming_as(&self, mode: Replication) -> bool {
        self.state.as_deref() == Some("streaming")
            && match mode {
                Replication::Sync => self.sync_state.as_deref() == Some("sync"),
                Replication::Async => true,
            }
    }
}

/// Reads the standby's row of `pg_stat_replication` on the primary at `conn`.
pub async fn status(conn: &str) -> Result<ReplicationStatus> {
    let fail = |e: tokio_postgres::Error| Error::Service {
        service: "dc1/postgres".into(),
        action: "reading pg_stat_replication".into(),
        source: Box::new(e),
    };
    let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls)
        .await
        .map_err(fail)?;
    let task = tokio::spawn(connection);
    let row = client
        .query_opt(
            "SELECT state, sync_state, \
                    (pg_current_wal_lsn() - replay_lsn)::int8 \
               FROM pg_stat_replication WHERE application_name = $1",
            &[&STANDBY_NAME],
        )
        .await
        .map_err(fail);
    drop(client);
    let _ = task.await;
    Ok(match row? {
        Some(row) => ReplicationStatus {
            state: row.get(0),
            sync_state: row.get(1),
            replay_lag_bytes: row.get(2),
        },
        None => ReplicationStatus {
            state: None,
            sync_state: None,
            replay_lag_bytes: None,
        },
    })
}

/// Waits until dc2's standby streams from the primary at `conn` as `mode` asks.
pub(crate) async fn wait_streaming(
    conn: &str,
    mode: Replication,
    timeout: Duration,
) -> Result<Duration> {
    let since = Instant::now();
    let mut last = String::from("never read");
    while since.elapsed() < timeout {
        match status(conn).await {
            Ok(s) if s.is_streaming_as(mode) => return Ok(since.elapsed()),
            Ok(s) => last = format!("{s:?}"),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(Error::NotReady {
        service: "dc2/postgres".into(),
        container: format!("(replication to {STANDBY_NAME})"),
        timeout_s: timeout.as_secs(),
        last_error: format!("dc2's standby never streamed as {mode} from dc1's primary: {last}"),
        logs: String::new(),
    })
}
