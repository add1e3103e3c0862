//! PostgreSQL streaming replication across the inter-DC line, as the primary reports it
//! (`pg_stat_replication`): whether a site's standby streams (dc2's at the start, dc1's once it
//! rejoined after a switchover), whether it is the synchronous one, and how far behind it is.
//! The launch and a rejoin wait on it; the DR controller and the drills read it. A standby
//! streams under its site's name (`application_name`), which a primary's
//! `synchronous_standby_names` lists under `sync`.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::datacenter::{Dc, Replication};
use crate::error::{Error, Result};

/// The `application_name` dc2's standby connects with, and the name the primary's
/// `synchronous_standby_names` lists in `sync` mode (a standby streams under its site's name).
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

/// Reads dc2's standby's row of `pg_stat_replication` on the primary at `conn`.
pub async fn status(conn: &str) -> Result<ReplicationStatus> {
    status_of(conn, Dc::Dc2).await
}

/// Reads the row of `standby`'s standby in `pg_stat_replication` on the primary at `conn`.
pub async fn status_of(conn: &str, standby: Dc) -> Result<ReplicationStatus> {
    let fail = |e: tokio_postgres::Error| Error::Service {
        service: format!("{}/postgres", standby.peer()),
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
            &[&standby.as_str()],
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
    wait_streaming_of(conn, Dc::Dc2, mode, timeout).await
}

/// Waits until `standby`'s standby streams from the primary at `conn` as `mode` asks.
pub(crate) async fn wait_streaming_of(
    conn: &str,
    standby: Dc,
    mode: Replication,
    timeout: Duration,
) -> Result<Duration> {
    let since = Instant::now();
    let mut last = String::from("never read");
    while since.elapsed() < timeout {
        match status_of(conn, standby).await {
            Ok(s) if s.is_streaming_as(mode) => return Ok(since.elapsed()),
            Ok(s) => last = format!("{s:?}"),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(Error::NotReady {
        service: format!("{standby}/postgres"),
        container: format!("(replication to {standby})"),
        timeout_s: timeout.as_secs(),
        last_error: format!(
            "{standby}'s standby never streamed as {mode} from {}'s primary: {last}",
            standby.peer()
        ),
        logs: String::new(),
    })
}

/// Waits, at most `within`, until `standby` has replayed everything the primary at `conn`
/// wrote (replay lag 0): `None` once it has, else the last status seen.
pub async fn wait_replayed(
    conn: &str,
    standby: Dc,
    within: Duration,
) -> Result<Option<ReplicationStatus>> {
    let since = Instant::now();
    loop {
        let status = status_of(conn, standby).await?;
        if status.replay_lag_bytes == Some(0) {
            return Ok(None);
        }
        if since.elapsed() >= within {
            return Ok(Some(status));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Makes `standby` the synchronous standby of `primary`'s PostgreSQL at `conn`
/// (`synchronous_standby_names` and `synchronous_commit = remote_apply` by `ALTER SYSTEM`, then
/// a reload): what a site that rejoins under `sync` replication needs, since a promoted standby
/// starts with none named.
pub(crate) async fn name_sync_standby(conn: &str, primary: Dc, standby: Dc) -> Result<()> {
    let fail = |action: &str, e: tokio_postgres::Error| Error::Service {
        service: format!("{primary}/postgres"),
        action: action.into(),
        source: Box::new(e),
    };
    let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls)
        .await
        .map_err(|e| fail("connecting to name its synchronous standby", e))?;
    let task = tokio::spawn(connection);
    // ALTER SYSTEM runs outside a transaction block: one statement at a time.
    let statements = [
        format!("ALTER SYSTEM SET synchronous_standby_names = '{standby}'"),
        "ALTER SYSTEM SET synchronous_commit = 'remote_apply'".to_string(),
        "SELECT pg_reload_conf()".to_string(),
    ];
    let mut result = Ok(());
    for statement in &statements {
        if let Err(e) = client.simple_query(statement).await {
            result = Err(fail(statement, e));
            break;
        }
    }
    drop(client);
    let _ = task.await;
    result
}
