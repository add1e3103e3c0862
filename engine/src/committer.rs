//! Group commit of admitted orders: one transaction per batch of whatever admissions are
//! waiting (up to 512), inserting the orders with their CTP identity (FrontID, SessionID,
//! OrderRef: persisted before the request is written), the accounts' frozen margin and the
//! `new` events in the outbox. Under load a batch carries many orders for one fsync; a lone
//! order commits at once. Only after the commit are the orders acknowledged and routed.
//!
//! The transaction is one prepared statement (data-modifying CTEs): one round trip to
//! PostgreSQL per batch.
//!
//! An error whose outcome is unknown (the connection died during COMMIT) is resolved by
//! reading the orders back before answering, so an order is never acknowledged unless it
//! is durable, and never refused if it was committed.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use contract::trading::v1 as pb;
use tokio::sync::{mpsc, watch};

use crate::book::{cents, OrderRec};
use crate::convert::{order_event, order_pb, OutboxRow};
use crate::db::Pg;
use crate::engine::{AckResult, Engine};
use crate::error::EngineError;
use crate::refusal::Refusal;

const MAX_BATCH: usize = 512;
const ID_BLOCK: i64 = 1000;

/// An admitted order waiting for its commit.
#[derive(Debug)]
pub struct Admission {
    pub rec: OrderRec,
    pub done: watch::Sender<AckResult>,
    /// When it was handed to the committer.
    pub queued: Instant,
}

struct Ids {
    next: i64,
    end: i64,
}

impl Ids {
    async fn take(&mut self, pg: &mut Pg) -> Result<i64, EngineError> {
        if self.next >= self.end {
            let row = pg
                .get()
                .await?
                .query_one("SELECT nextval('order_id_seq')", &[])
                .await?;
            let start: i64 = row.get(0);
            self.next = start;
            self.end = start + ID_BLOCK;
        }
        self.next += 1;
        Ok(self.next - 1)
    }
}

pub async fn run(engine: Arc<Engine>, mut rx: mpsc::Receiver<Admission>, mut pg: Pg) {
    let mut ids = Ids { next: 0, end: 0 };
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(a) => batch.push(a),
                Err(_) => break,
            }
        }
        commit_batch(&engine, &mut pg, &mut ids, batch).await;
    }
}

async fn commit_batch(engine: &Engine, pg: &mut Pg, ids: &mut Ids, mut batch: Vec<Admission>) {
    let taken = Instant::now();
    for a in &batch {
        engine.metrics.order_queue.observe(taken - a.queued);
    }
    for a in &mut batch {
        loop {
            match crate::db::timed("allocate order ids", ids.take(pg)).await {
                Ok(id) => {
                    a.rec.order_id = id;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "order id block not allocated; retrying");
                    pg.reset();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
    let lost = {
        let mut book = engine.book();
        let s = &mut book.session;
        if s.ready {
            for a in &mut batch {
                a.rec.trading_day = s.trading_day.clone();
                a.rec.front_id = s.front_id;
                a.rec.session_id = s.session_id;
                a.rec.order_ref = s.take_order_ref();
            }
            false
        } else {
            true
        }
    };
    if lost {
        refuse(engine, batch, "ctp trade session lost before the commit");
        return;
    }
    if engine.cfg.defects.ack_before_durable {
        // DEFECT (test only): acknowledge and route before the commit; a crash now loses
        // acknowledged orders.
        publish(engine, &batch, taken);
    }
    let mut attempt = 0u32;
    let t0 = Instant::now();
    loop {
        match crate::db::timed("commit an order batch", write(engine, pg, &batch)).await {
            Ok(()) => {
                engine.metrics.order_commit.observe(t0.elapsed());
                engine.metrics.order_commit_batches.fetch_add(1, Relaxed);
                break;
            }
            Err(e) => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "order batch commit failed");
                pg.reset();
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt.min(20)))).await;
                match crate::db::timed("read back an order batch", committed_ids(pg, &batch)).await
                {
                    Ok(done) if done.len() == batch.len() => break,
                    Ok(done) if !done.is_empty() => {
                        let (ok, rest): (Vec<_>, Vec<_>) = batch
                            .into_iter()
                            .partition(|a| done.contains(&a.rec.client_order_id));
                        if let Some(why) = engine.fenced_now() {
                            refuse(engine, ok, &why);
                        } else if !engine.cfg.defects.ack_before_durable {
                            publish(engine, &ok, taken);
                        }
                        batch = rest;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot read back the batch"),
                }
                if engine.shutdown.is_cancelled() && attempt > 50 {
                    refuse(engine, batch, "database unavailable while shutting down");
                    return;
                }
            }
        }
    }
    if let Some(why) = engine.fenced_now() {
        // Durable in this site's database, which the new primary's rebuild discards: never
        // acknowledged.
        refuse(engine, batch, &why);
        return;
    }
    if !engine.cfg.defects.ack_before_durable {
        publish(engine, &batch, taken);
    }
    engine.outbox_notify.notify_one();
}

/// Which of the batch's client ids are in the database.
async fn committed_ids(pg: &mut Pg, batch: &[Admission]) -> Result<Vec<String>, EngineError> {
    let cids: Vec<&str> = batch
        .iter()
        .map(|a| a.rec.client_order_id.as_str())
        .collect();
    let rows = pg
        .get()
        .await?
        .query(
            "SELECT client_order_id FROM orders WHERE client_order_id = ANY($1)",
            &[&cids],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

async fn write(engine: &Engine, pg: &mut Pg, batch: &[Admission]) -> Result<(), EngineError> {
    let n = batch.len();
    let mut c = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut price, mut vol, mut fid, mut sid, mut oref, mut frozen, mut ts, mut day) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut frozen_by_account: HashMap<&str, f64> = HashMap::new();
    let mut outbox: Vec<OutboxRow> = Vec::with_capacity(n);
    for a in batch {
        let o = &a.rec;
        c.0.push(o.order_id);
        c.1.push(o.client_order_id.as_str());
        c.2.push(o.account_id.as_str());
        c.3.push(o.instrument_id.as_str());
        c.4.push(o.exchange_id.as_str());
        c.5.push(o.side.as_str());
        c.6.push(o.offset.as_str());
        price.push(o.limit_price);
        vol.push(o.volume);
        fid.push(o.front_id);
        sid.push(o.session_id);
        oref.push(o.order_ref.as_str());
        frozen.push(cents(o.frozen_margin));
        ts.push(o.created_at_us);
        day.push(o.trading_day.as_str());
        *frozen_by_account.entry(o.account_id.as_str()).or_default() += cents(o.frozen_margin);
        outbox.push(order_event(o, &engine.cfg.engine_id));
    }
    let (acc, acc_delta): (Vec<&str>, Vec<f64>) = frozen_by_account.into_iter().unzip();
    let topics: Vec<&str> = outbox.iter().map(|r| r.topic).collect();
    let keys: Vec<&str> = outbox.iter().map(|r| r.key.as_str()).collect();
    let payloads: Vec<&str> = outbox.iter().map(|r| r.payload.as_str()).collect();
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 21] = [
        &c.0,
        &c.1,
        &c.2,
        &c.3,
        &c.4,
        &c.5,
        &c.6,
        &price,
        &vol,
        &fid,
        &sid,
        &oref,
        &frozen,
        &ts,
        &day,
        &engine.cfg.engine_id,
        &acc,
        &acc_delta,
        &topics,
        &keys,
        &payloads,
    ];
    let (client, statement) = pg.prepared(INSERT_BATCH).await?;
    let inserted = client.execute(&statement, &params).await?;
    if inserted as usize != n {
        return Err(EngineError::Load {
            what: "orders",
            reason: format!("inserted {inserted} of {n}"),
        });
    }
    Ok(())
}

/// The whole batch in one statement, so one implicit transaction: the orders, the accounts'
/// frozen margin and the outbox rows. `execute` returns after ReadyForQuery, that is after
/// the commit (synchronous_commit = on: flushed). One round trip instead of BEGIN, three
/// statements and COMMIT, and the account rows stay locked only while the statement runs,
/// not across round trips, so the return applier's updates of the same accounts wait less.
const INSERT_BATCH: &str = "WITH acc AS ( \
     UPDATE accounts a SET frozen_margin = round((a.frozen_margin + t.d)::numeric, 2)::float8, \
     updated_at = now() FROM UNNEST($17::text[], $18::float8[]) AS t(id, d) \
     WHERE a.account_id = t.id), \
     ob AS (INSERT INTO outbox (topic, key, payload) \
     SELECT * FROM UNNEST($19::text[], $20::text[], $21::text[])) \
     INSERT INTO orders (order_id, client_order_id, account_id, instrument_id, exchange_id, \
     side, offset_flag, limit_price, volume, status, front_id, session_id, order_ref, \
     frozen_margin, order_event_seq, engine_id, trading_day, created_at, updated_at) \
     SELECT id, cid, acct, inst, exch, side, off, price, vol, 'new', fid, sid, oref, frozen, 1, \
     $16, day, to_timestamp(ts / 1e6), to_timestamp(ts / 1e6) \
     FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::float8[], $9::int4[], $10::int4[], $11::int4[], $12::text[], \
     $13::float8[], $14::int8[], $15::text[]) \
     AS t(id, cid, acct, inst, exch, side, off, price, vol, fid, sid, oref, frozen, ts, day)";

/// Records committed orders in the book, acknowledges and routes them.
fn publish(engine: &Engine, batch: &[Admission], taken: Instant) {
    {
        let mut book = engine.book();
        let mut pending = engine.pending.lock().unwrap_or_else(|e| e.into_inner());
        for a in batch {
            book.index(&a.rec);
            book.orders.insert(a.rec.order_id, a.rec.clone());
            pending.remove(&a.rec.client_order_id);
        }
    }
    let committed = Instant::now();
    for a in batch {
        engine.metrics.order_batch.observe(committed - taken);
        let _ = a.done.send(Some(Ok((a.rec.order_id, committed))));
        let _ = engine.route_tx.send(a.rec.order_id);
        let _ = engine.updates.send(pb::Update {
            kind: Some(pb::update::Kind::Order(order_pb(&a.rec))),
        });
    }
}

/// Refuses a batch that cannot be committed, releasing what admission reserved.
fn refuse(engine: &Engine, batch: Vec<Admission>, why: &str) {
    let mut book = engine.book();
    let mut pending = engine.pending.lock().unwrap_or_else(|e| e.into_inner());
    for a in batch {
        let o = &a.rec;
        if let Some(acc) = book.accounts.get_mut(&o.account_id) {
            acc.frozen_margin -= o.frozen_margin;
        }
        book.add_pending(&o.account_id, &o.instrument_id, o.side, o.offset, -o.volume);
        pending.remove(&o.client_order_id);
        let _ = a.done.send(Some(Err(Refusal::Unavailable(why.to_owned()))));
    }
}
