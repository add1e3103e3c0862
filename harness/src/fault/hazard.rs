//! The size of a fault's hazard, measured from ground truth as the fault strikes: what the
//! recovery path the scenario is about has to recover. Never from the engine's word: the mock
//! CTP front's own count of what it cut, the engine's database read directly once the engine
//! is dead.
//!
//! A measure that cannot be taken is logged and left out: the hazard is then "not measured",
//! which a scenario that needs it judges unknown. Measuring never fails the fault itself.
//!
//! Known gaps: the PostgreSQL link faults (cut, reset, black hole) and Redis faults have no
//! measure yet: commits in flight on a link are seen by neither end alone.

use serde_json::Value;

use super::context::Context;
use super::spec::Fault;
use crate::history::Hazard;
use crate::observe::admin_get;

/// What a front disconnect puts at risk: private-flow returns sequenced by the exchange and
/// not yet written to the session it cut.
pub const RETURNS_UNDELIVERED: &str = "returns_undelivered";

/// What an engine kill puts at risk: returns the exchange sequenced that the engine had not
/// made durable (its persisted private-flow position is behind the exchange's flow).
pub const RETURNS_UNAPPLIED: &str = "returns_unapplied";

/// The hazard of a front disconnect, from the front's answer: for each trade session cut, the
/// returns its investor's private flow had sequenced and the session had not been written
/// (PROTOCOL.md, `cut`): what the client must get back by RESUME. `None` when the front closed
/// no trade session.
pub(crate) fn cut_returns(fault: &Fault, answer: &Value) -> Option<Hazard> {
    let cut = answer["cut"].as_array().filter(|c| !c.is_empty())?;
    let mut size = 0;
    let parts: Vec<String> = cut
        .iter()
        .map(|m| {
            let next = m["next_seq"].as_u64().unwrap_or(0);
            let last = m["flow_last"].as_u64().unwrap_or(0);
            let n = (last + 1).saturating_sub(next);
            size += n;
            format!(
                "session {} of {}: {n} returns undelivered (seq {next}..={last})",
                m["session_id"],
                m["user_id"].as_str().unwrap_or("?")
            )
        })
        .collect();
    Some(Hazard {
        fault: fault.kind().to_owned(),
        target: fault.target(),
        measure: RETURNS_UNDELIVERED.to_owned(),
        size,
        detail: parts.join("; "),
    })
}

/// The hazard of a dead engine (killed or stopped), read once it is down: per investor, the
/// returns the exchange sequenced past the engine's persisted private-flow position (what the
/// RESUME after its restart must bring back), with the orders committed without an exchange
/// answer and the outbox rows not relayed as detail.
pub(crate) async fn engine_down(ctx: &Context, fault: &Fault) -> Option<Hazard> {
    match measure_engine_down(ctx, fault).await {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::warn!(%fault, error = %e, "the engine kill's hazard was not measured");
            None
        }
    }
}

async fn measure_engine_down(ctx: &Context, fault: &Fault) -> anyhow::Result<Hazard> {
    let pg = &ctx.endpoints.postgres;
    let (client, connection) =
        tokio_postgres::connect(&pg.connection_string(false), tokio_postgres::NoTls).await?;
    let conn = tokio::spawn(connection);
    let flows = client
        .query("SELECT user_id, last_seq FROM ctp_private_flow", &[])
        .await?;
    let unanswered: i64 = client
        .query_one("SELECT count(*) FROM orders WHERE status = 'new'", &[])
        .await?
        .get(0);
    let unsent: i64 = client
        .query_one("SELECT count(*) FROM outbox WHERE sent_at IS NULL", &[])
        .await?
        .get(0);
    drop(client);
    conn.abort();
    let mock = &ctx.endpoints.mock_ctp;
    let mut size = 0;
    let mut parts = Vec::new();
    for row in flows {
        let (user, applied): (String, i64) = (row.get(0), row.get(1));
        let answer: Value = admin_get(&ctx.http, mock, &format!("/flows/{user}/last")).await?;
        let last = answer["last_seq"].as_u64().unwrap_or(0);
        let n = last.saturating_sub(applied.max(0) as u64);
        size += n;
        parts.push(format!(
            "flow of {user}: {n} returns unapplied (exchange at {last}, engine at {applied})"
        ));
    }
    parts.push(format!(
        "{unanswered} orders committed without an exchange answer"
    ));
    parts.push(format!("{unsent} outbox rows not relayed"));
    Ok(Hazard {
        fault: fault.kind().to_owned(),
        target: fault.target(),
        measure: RETURNS_UNAPPLIED.to_owned(),
        size,
        detail: parts.join("; "),
    })
}

/// What a PostgreSQL crash puts at risk: the engine's transactions open in the database at
/// that instant (a statement running or a transaction between its statements), whose commits
/// are in flight: each must end committed and answered, or rolled back and never acknowledged.
pub const TRANSACTIONS_OPEN: &str = "engine_transactions_open";

/// Reads, directly (not through the fault proxy), the engine's transactions open in PostgreSQL
/// now: taken just before the database is killed, the commits the crash catches in flight.
pub(crate) async fn postgres_open_transactions(ctx: &Context, fault: &Fault) -> Option<Hazard> {
    let read = async {
        let pg = &ctx.endpoints.postgres;
        let (client, connection) =
            tokio_postgres::connect(&pg.connection_string(false), tokio_postgres::NoTls).await?;
        let conn = tokio::spawn(connection);
        let rows = client
            .query(
                "SELECT state, left(query, 40) FROM pg_stat_activity \
                 WHERE application_name = 'engine' AND xact_start IS NOT NULL",
                &[],
            )
            .await;
        conn.abort();
        anyhow::Ok(rows?)
    };
    match read.await {
        Ok(rows) => {
            let parts: Vec<String> = rows
                .iter()
                .map(|r| {
                    let (state, query): (Option<String>, Option<String>) = (r.get(0), r.get(1));
                    format!(
                        "{} ({})",
                        state.unwrap_or_default(),
                        query
                            .unwrap_or_default()
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                })
                .collect();
            Some(Hazard {
                fault: fault.kind().to_owned(),
                target: fault.target(),
                measure: TRANSACTIONS_OPEN.to_owned(),
                size: rows.len() as u64,
                detail: match parts.is_empty() {
                    true => "no engine transaction was open".to_owned(),
                    false => parts.join("; "),
                },
            })
        }
        Err(e) => {
            tracing::warn!(%fault, error = %e, "the PostgreSQL crash's hazard was not measured");
            None
        }
    }
}

/// What losing the site of the primary database puts at risk: WAL the primary had written and
/// its standby in the other site had not yet flushed, in bytes. Under asynchronous replication
/// the orders acknowledged in it are lost with the site; under synchronous replication none of
/// it was acknowledged yet.
pub const WAL_NOT_ON_STANDBY: &str = "wal_not_on_standby";

/// Reads, directly on the lost site's PostgreSQL the moment before the loss, how far each
/// standby's flushed position is behind the primary's WAL. `None` when the site's database is a
/// standby itself (losing it puts no acknowledged commit at risk) or cannot be read; a primary
/// with no standby streaming is logged and left unmeasured (the gap has no end to count from).
pub(crate) async fn wal_not_on_standby(
    ctx: &Context,
    fault: &Fault,
    dc: crate::platform::Dc,
) -> Option<Hazard> {
    let site = ctx.sites.get(&dc)?;
    let read = async {
        let (client, connection) = tokio_postgres::connect(
            &site.postgres.connection_string(false),
            tokio_postgres::NoTls,
        )
        .await?;
        let conn = tokio::spawn(connection);
        let standby: bool = client
            .query_one("SELECT pg_is_in_recovery()", &[])
            .await?
            .get(0);
        let rows = match standby {
            true => None,
            false => Some(
                client
                    .query(
                        "SELECT application_name, sync_state, \
                                (pg_current_wal_lsn() - flush_lsn)::int8 \
                         FROM pg_stat_replication",
                        &[],
                    )
                    .await?,
            ),
        };
        conn.abort();
        anyhow::Ok(rows)
    };
    let rows = match read.await {
        Ok(Some(rows)) => rows,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(%fault, error = %e, "the datacenter loss's hazard was not measured");
            return None;
        }
    };
    let standbys: Vec<(String, String, i64)> = rows
        .iter()
        .filter_map(|r| Some((r.get(0), r.get(1), r.get::<_, Option<i64>>(2)?)))
        .map(
            |(name, state, gap): (Option<String>, Option<String>, i64)| {
                (name.unwrap_or_default(), state.unwrap_or_default(), gap)
            },
        )
        .collect();
    if standbys.is_empty() {
        tracing::warn!(%fault, "no standby streams from the lost primary: its hazard was not measured");
        return None;
    }
    // What no standby has: the smallest gap (the list is not empty).
    let size = standbys
        .iter()
        .map(|(_, _, gap)| (*gap).max(0) as u64)
        .min()
        .unwrap_or(0);
    Some(Hazard {
        fault: fault.kind().to_owned(),
        target: fault.target(),
        measure: WAL_NOT_ON_STANDBY.to_owned(),
        size,
        detail: standbys
            .iter()
            .map(|(name, state, gap)| {
                format!("standby {name} ({state}): {gap} bytes of WAL written on {dc} not flushed there")
            })
            .collect::<Vec<_>>()
            .join("; "),
    })
}

/// What a Kafka fault puts at risk: events committed in the outbox and not yet acknowledged
/// by Kafka, which the relay must deliver once the broker is back.
pub const OUTBOX_BACKLOG: &str = "outbox_backlog";

/// Whether `fault` keeps the engine from Kafka (its link, or the broker's process).
pub(crate) fn hits_kafka(fault: &Fault) -> bool {
    match fault {
        Fault::All { faults, .. } => faults.iter().any(hits_kafka),
        Fault::Kill { service }
        | Fault::Stop { service, .. }
        | Fault::Pause { service }
        | Fault::Partition { service } => service == "kafka",
        other => other.target().starts_with("engine->kafka"),
    }
}

/// The outbox rows not yet relayed, read directly from PostgreSQL: taken as a Kafka fault is
/// healed, the events that waited through it.
pub(crate) async fn outbox_backlog(ctx: &Context, fault: &Fault) -> Option<Hazard> {
    let read = async {
        let pg = &ctx.endpoints.postgres;
        let (client, connection) =
            tokio_postgres::connect(&pg.connection_string(false), tokio_postgres::NoTls).await?;
        let conn = tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE topic = 'trade-events') \
                 FROM outbox WHERE sent_at IS NULL",
                &[],
            )
            .await;
        conn.abort();
        let row = row?;
        anyhow::Ok((row.get::<_, i64>(0), row.get::<_, i64>(1)))
    };
    match read.await {
        Ok((all, trades)) => Some(Hazard {
            fault: fault.kind().to_owned(),
            target: fault.target(),
            measure: OUTBOX_BACKLOG.to_owned(),
            size: all.max(0) as u64,
            detail: format!("{all} events unsent at the heal ({trades} trade events)"),
        }),
        Err(e) => {
            tracing::warn!(%fault, error = %e, "the Kafka fault's hazard was not measured");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_disconnect_sums_what_each_cut_session_missed() {
        let fault = Fault::FrontDisconnect {
            reason: 0x1001,
            session_id: None,
        };
        let answer = json!({"disconnected": 3, "cut": [
            {"event": "ended", "session_id": 7, "user_id": "000003", "next_seq": 41, "flow_last": 52},
            {"event": "ended", "session_id": 8, "user_id": "000004", "next_seq": 10, "flow_last": 9},
        ]});
        let h = cut_returns(&fault, &answer).unwrap();
        assert_eq!(h.size, 12);
        assert_eq!(h.measure, RETURNS_UNDELIVERED);
        assert!(
            h.detail
                .contains("session 7 of 000003: 12 returns undelivered (seq 41..=52)"),
            "{}",
            h.detail
        );
        assert!(
            h.detail.contains("session 8 of 000004: 0 returns"),
            "{}",
            h.detail
        );
    }

    #[test]
    fn a_disconnect_that_cut_no_trade_session_has_no_hazard() {
        let fault = Fault::FrontDisconnect {
            reason: 0x1001,
            session_id: None,
        };
        assert_eq!(
            cut_returns(&fault, &json!({"disconnected": 1, "cut": []})),
            None
        );
        assert_eq!(cut_returns(&fault, &json!({"disconnected": 1})), None);
    }
}
