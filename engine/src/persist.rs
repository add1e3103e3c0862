//! Writes a set of changes made by exchange returns (or by reconciliation) in one
//! transaction, one prepared statement after the flow lock, in one round trip: order rows,
//! new trades, positions, account deltas, outbox rows and the private-flow position. Order and
//! position rows are written as absolute values from the book; account margins as deltas,
//! because the committer changes frozen margin concurrently. The transaction first locks the
//! private-flow position and writes nothing when it already reached this batch, so a retry
//! after an unknown outcome (the commit's answer lost: the chaos property found account
//! margins counted twice after a reset PostgreSQL link) never applies the deltas twice.

use std::collections::{BTreeSet, HashMap};

use crate::book::{cents, PosKey};
use crate::convert::{OutboxRow, TradeRec};
use crate::db::Pg;
use crate::engine::Engine;
use crate::error::EngineError;

/// What one batch changed.
#[derive(Debug, Default)]
pub struct Changes {
    pub orders: BTreeSet<i64>,
    pub trades: Vec<TradeRec>,
    pub positions: BTreeSet<PosKey>,
    /// Account → (frozen margin delta, current margin delta).
    pub accounts: HashMap<String, (f64, f64)>,
    pub outbox: Vec<OutboxRow>,
    /// The private-flow position to persist with the batch, if it moved.
    pub flow: Option<(String, u64)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.trades.is_empty()
            && self.outbox.is_empty()
            && self.flow.is_none()
    }
}

#[derive(Default)]
struct PosCols<'a>(
    Vec<String>,
    Vec<String>,
    Vec<&'a str>,
    Vec<i32>,
    Vec<i32>,
    Vec<f64>,
);

#[derive(Default)]
struct OrderCols(
    Vec<i64>,
    Vec<String>,
    Vec<i32>,
    Vec<String>,
    Vec<i32>,
    Vec<String>,
    Vec<f64>,
    Vec<i32>,
    Vec<i32>,
    Vec<i64>,
    Vec<i32>,
    Vec<i32>,
    Vec<String>,
);

pub async fn write(pg: &mut Pg, engine: &Engine, ch: &Changes) -> Result<(), EngineError> {
    let mut o: OrderCols = OrderCols::default();
    let mut pc = PosCols::default();
    {
        let book = engine.book();
        for id in &ch.orders {
            let Some(r) = book.orders.get(id) else {
                continue;
            };
            o.0.push(r.order_id);
            o.1.push(r.status.as_str().to_owned());
            o.2.push(r.volume_traded);
            o.3.push(r.order_sys_id.clone());
            o.4.push(r.error_id);
            o.5.push(r.error_msg.clone());
            o.6.push(cents(r.frozen_margin));
            o.7.push(r.order_event_seq);
            o.8.push(r.trade_event_seq);
            o.9.push(r.updated_at_us);
            o.10.push(r.front_id);
            o.11.push(r.session_id);
            o.12.push(r.order_ref.clone());
        }
        for key in &ch.positions {
            let Some(pos) = book.positions.get(key) else {
                continue;
            };
            pc.0.push(key.0.clone());
            pc.1.push(key.1.clone());
            pc.2.push(key.2.as_str());
            pc.3.push(pos.today);
            pc.4.push(pos.yd);
            pc.5.push(cents(pos.margin));
        }
    }
    let t = &ch.trades;
    let t_exch: Vec<&str> = t.iter().map(|x| x.exchange_id.as_str()).collect();
    let t_id: Vec<&str> = t.iter().map(|x| x.trade_id.as_str()).collect();
    let t_side: Vec<&str> = t.iter().map(|x| x.side.as_str()).collect();
    let t_order: Vec<i64> = t.iter().map(|x| x.order_id).collect();
    let t_acct: Vec<&str> = t.iter().map(|x| x.account_id.as_str()).collect();
    let t_inst: Vec<&str> = t.iter().map(|x| x.instrument_id.as_str()).collect();
    let t_off: Vec<&str> = t.iter().map(|x| x.offset.as_str()).collect();
    let t_price: Vec<f64> = t.iter().map(|x| x.price).collect();
    let t_vol: Vec<i32> = t.iter().map(|x| x.volume).collect();
    let t_day: Vec<&str> = t.iter().map(|x| x.trading_day.as_str()).collect();
    let t_seq: Vec<i64> = t.iter().map(|x| x.seq_no as i64).collect();
    let t_ts: Vec<i64> = t.iter().map(|x| x.at_us).collect();
    let (a_id, a_delta): (Vec<&str>, Vec<(f64, f64)>) =
        ch.accounts.iter().map(|(k, v)| (k.as_str(), *v)).unzip();
    let a_frozen: Vec<f64> = a_delta.iter().map(|d| d.0).collect();
    let a_curr: Vec<f64> = a_delta.iter().map(|d| d.1).collect();
    let topics: Vec<&str> = ch.outbox.iter().map(|r| r.topic).collect();
    let keys: Vec<&str> = ch.outbox.iter().map(|r| r.key.as_str()).collect();
    let payloads: Vec<&str> = ch.outbox.iter().map(|r| r.payload.as_str()).collect();

    let (day, seq) = ch.flow.clone().unwrap_or_default();
    let seq = seq as i64;
    let has_flow = ch.flow.is_some();
    let (broker, user) = (&engine.cfg.broker_id, &engine.cfg.user_id);
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 42] = [
        &o.0, &o.1, &o.2, &o.3, &o.4, &o.5, &o.6, &o.7, &o.8, &o.9, &o.10, &o.11, &o.12, &t_exch,
        &t_id, &t_side, &t_order, &t_acct, &t_inst, &t_off, &t_price, &t_vol, &t_day, &t_seq,
        &t_ts, &pc.0, &pc.1, &pc.2, &pc.3, &pc.4, &pc.5, &a_id, &a_frozen, &a_curr, &topics, &keys,
        &payloads, broker, user, &day, &seq, &has_flow,
    ];
    let (_, statement) = pg.prepared(APPLY_RETURNS).await?;
    let (_, lock) = pg.prepared(LOCK_FLOW).await?;
    let client = &*pg.get().await?;
    // One round trip: BEGIN, the flow lock, the statement and COMMIT are pipelined
    // (tokio-postgres sends a request when its future is first polled, and `join!` polls in
    // order). The statement's snapshot is taken after the lock was granted, so its guard sees
    // whatever an earlier attempt committed. Two round trips cost a return batch one more
    // pass through the fault proxy and the engine's and PostgreSQL's schedulers.
    // A failed request leaves the transaction aborted, and COMMIT then ends it as a ROLLBACK
    // without an error: each request's own result is what tells.
    let who: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [broker, user];
    let (begun, locked, applied, committed) = tokio::join!(
        client.batch_execute("BEGIN"),
        client.query_opt(&lock, &who),
        client.execute(&statement, &params),
        client.batch_execute("COMMIT")
    );
    begun?;
    locked?;
    let applied = applied?;
    committed?;
    if has_flow && applied == 0 {
        // An earlier attempt of this batch committed although its answer was lost: its deltas
        // are in, and the guard kept this one from counting them twice.
        tracing::info!(seq, "return batch already committed by an earlier attempt");
    }
    Ok(())
}

/// Locks the private-flow position first: an attempt whose outcome was unknown either
/// committed (its position is then seen here, and the batch is not applied twice) or holds
/// this lock until the server drops it (it cannot commit without its client), so two attempts
/// of one batch never both apply their account deltas.
const LOCK_FLOW: &str = "SELECT trading_day, last_seq FROM ctp_private_flow \
     WHERE broker_id = $1 AND user_id = $2 FOR UPDATE";

/// Every change of a batch of returns in one statement (after [`LOCK_FLOW`] in the same
/// transaction): six changes at once, and the account and order rows are locked only from the
/// statement to the commit, which the order committer's updates of the same accounts wait
/// for. Each CTE touches other rows (the keys of each array are distinct), as one statement
/// must. `done` is the guard: when the persisted flow position already reached this batch's
/// (an earlier attempt committed), nothing is written and the statement reports 0 rows.
const APPLY_RETURNS: &str = "WITH done AS (SELECT 1 FROM ctp_private_flow \
     WHERE $42 AND broker_id = $38 AND user_id = $39 AND trading_day = $40 AND last_seq >= $41), \
     o AS ( \
     UPDATE orders o SET status = t.status, volume_traded = t.traded, order_sys_id = t.sys, \
     error_id = t.eid, error_msg = t.emsg, frozen_margin = t.frozen, order_event_seq = t.oseq, \
     trade_event_seq = t.tseq, updated_at = to_timestamp(t.ts / 1e6), front_id = t.fid, \
     session_id = t.sid, order_ref = t.oref \
     FROM UNNEST($1::int8[], $2::text[], $3::int4[], $4::text[], $5::int4[], $6::text[], \
     $7::float8[], $8::int4[], $9::int4[], $10::int8[], $11::int4[], $12::int4[], $13::text[]) \
     AS t(id, status, traded, sys, eid, emsg, frozen, oseq, tseq, ts, fid, sid, oref) \
     WHERE o.order_id = t.id AND NOT EXISTS (SELECT 1 FROM done)), \
     tr AS (INSERT INTO trades (exchange_id, trade_id, side, order_id, account_id, instrument_id, \
     offset_flag, price, volume, trading_day, seq_no, traded_at) \
     SELECT exch, tid, side, oid, acct, inst, off, price, vol, day, seq, to_timestamp(ts / 1e6) \
     FROM UNNEST($14::text[], $15::text[], $16::text[], $17::int8[], $18::text[], $19::text[], \
     $20::text[], $21::float8[], $22::int4[], $23::text[], $24::int8[], $25::int8[]) \
     AS t(exch, tid, side, oid, acct, inst, off, price, vol, day, seq, ts) \
     WHERE NOT EXISTS (SELECT 1 FROM done) ON CONFLICT DO NOTHING), \
     pos AS (INSERT INTO positions (account_id, instrument_id, posi_direction, today_position, \
     yd_position, margin) SELECT * FROM UNNEST($26::text[], $27::text[], $28::text[], \
     $29::int4[], $30::int4[], $31::float8[]) WHERE NOT EXISTS (SELECT 1 FROM done) \
     ON CONFLICT (account_id, instrument_id, posi_direction) DO UPDATE SET \
     today_position = EXCLUDED.today_position, yd_position = EXCLUDED.yd_position, \
     margin = EXCLUDED.margin, updated_at = now()), \
     acc AS (UPDATE accounts a SET \
     frozen_margin = round((a.frozen_margin + t.f)::numeric, 2)::float8, \
     curr_margin = round((a.curr_margin + t.c)::numeric, 2)::float8, updated_at = now() \
     FROM UNNEST($32::text[], $33::float8[], $34::float8[]) AS t(id, f, c) \
     WHERE a.account_id = t.id AND NOT EXISTS (SELECT 1 FROM done)), \
     ob AS (INSERT INTO outbox (topic, key, payload) \
     SELECT * FROM UNNEST($35::text[], $36::text[], $37::text[]) \
     WHERE NOT EXISTS (SELECT 1 FROM done)) \
     INSERT INTO ctp_private_flow (broker_id, user_id, trading_day, last_seq) \
     SELECT $38, $39, $40, $41 WHERE $42 AND NOT EXISTS (SELECT 1 FROM done) \
     ON CONFLICT (broker_id, user_id) DO UPDATE SET trading_day = EXCLUDED.trading_day, \
     last_seq = EXCLUDED.last_seq, updated_at = now()";
