//! The relay, pipelined: a dispatcher reads unsent rows in id order and hands them to the
//! producer without waiting, while an acker awaits their acknowledgements in the same order,
//! marks the acknowledged rows sent (one UPDATE per batch) and only then lets them go. Reading,
//! producing and marking overlap, so an event waits for the broker's produce latency and not
//! for a whole read → produce → acknowledge → mark cycle of the rows before it.
//!
//! Which rows the dispatcher reads: every unsent row not in flight, lowest ids first. Not
//! only those above the highest id read so far: ids are drawn before commit, and the order
//! committer and the return applier commit concurrently, so a row can become visible after a
//! higher one was read. Reading above a cursor left such a row behind while the same order's
//! next event went out (the engine suite saw an order's event 3 reach Kafka before its event
//! 2). An order's next event is written only after its previous one committed, so a read that
//! sees the next one sees the previous one too, and sends it first. A row in flight is never
//! read again, and it leaves the in-flight set only once it is marked sent (or its delivery
//! failed), so nothing is sent twice while the engine runs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use tokio::sync::{mpsc, Notify};

use crate::db::Pg;
use crate::engine::Engine;

/// Rows read per query, and acknowledgements marked per UPDATE at most.
const BATCH: usize = 1000;
/// Rows handed to the producer and not yet marked at most: bounds memory and the in-flight
/// set while Kafka is away (every row stays in the outbox meanwhile).
const MAX_IN_FLIGHT: usize = 5000;
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long the dispatcher sleeps when nothing woke it (a missed notification costs this).
const IDLE: Duration = Duration::from_millis(200);

/// Unsent rows not in flight ($1), through the partial index on unsent rows. The rows in
/// flight are few (about a produce latency's worth of events) while Kafka answers.
const READ_UNSENT: &str = "SELECT id, topic, key, payload FROM outbox \
     WHERE sent_at IS NULL AND id <> ALL($1) ORDER BY id LIMIT $2";
const MARK_SENT: &str = "UPDATE outbox SET sent_at = now() WHERE id = ANY($1)";

/// What the dispatcher and the acker share.
#[derive(Default)]
struct Shared {
    in_flight: Mutex<HashSet<i64>>,
    /// Deliveries failed since the dispatcher last looked: it backs off before sending again.
    failures: AtomicU64,
    /// Woken when rows leave the in-flight set.
    freed: Notify,
}

impl Shared {
    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A row handed to the producer.
struct Dispatched {
    id: i64,
    /// For a trade event: when its return was applied (wall clock, µs).
    trade_applied_us: Option<i64>,
    delivery: DeliveryFuture,
}

/// Runs the relay until shutdown: `read` serves the dispatcher, `mark` the acker (with
/// asynchronous commit: see [`Pg::asynchronous_commit`]).
pub async fn run(engine: Arc<Engine>, mut read: Pg, mark: Pg, producer: FutureProducer) {
    let shared = Arc::new(Shared::default());
    let (tx, rx) = mpsc::channel(MAX_IN_FLIGHT);
    tokio::spawn(acker(engine.clone(), mark, rx, shared.clone()));
    let mut backoff = MIN_BACKOFF;
    loop {
        if shared.failures.swap(0, Relaxed) > 0 {
            if pause(&engine, backoff).await {
                return;
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        // Taken before the read's snapshot: a row freed after this was marked sent before.
        let (in_flight, room) = {
            let f = shared.in_flight();
            let ids: Vec<i64> = f.iter().copied().collect();
            let room = MAX_IN_FLIGHT - ids.len().min(MAX_IN_FLIGHT);
            (ids, room)
        };
        if room == 0 {
            if idle(&engine, &shared).await {
                return;
            }
            continue;
        }
        let limit = room.min(BATCH) as i64;
        let rows = crate::db::timed("read the outbox", async {
            let (client, statement) = read.prepared(READ_UNSENT).await?;
            Ok(client.query(&statement, &[&in_flight, &limit]).await?)
        })
        .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay: read");
                read.reset();
                if pause(&engine, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        if rows.is_empty() {
            backoff = MIN_BACKOFF;
            if idle(&engine, &shared).await {
                return;
            }
            continue;
        }
        for row in &rows {
            let id: i64 = row.get(0);
            let topic: &str = row.get(1);
            let key: &str = row.get(2);
            let payload: &str = row.get(3);
            let record = FutureRecord::to(topic).key(key).payload(payload);
            let delivery = match producer.send_result(record) {
                Ok(delivery) => delivery,
                Err((e, _)) => {
                    // The producer's queue refused it: read it again on the next round.
                    engine.metrics.outbox_publish_errors.fetch_add(1, Relaxed);
                    shared.failures.fetch_add(1, Relaxed);
                    tracing::warn!(id, error = %e, "kafka producer refused an event; will retry");
                    break;
                }
            };
            shared.in_flight().insert(id);
            let trade_applied_us = trade_applied_us(topic, payload);
            let sent = Dispatched {
                id,
                trade_applied_us,
                delivery,
            };
            if tx.send(sent).await.is_err() {
                return; // the acker stopped: shutdown
            }
        }
    }
}

/// Waits for new rows or freed room; true on shutdown.
async fn idle(engine: &Engine, shared: &Shared) -> bool {
    tokio::select! {
        _ = engine.outbox_notify.notified() => false,
        _ = shared.freed.notified() => false,
        _ = tokio::time::sleep(IDLE) => false,
        _ = engine.shutdown.cancelled() => true,
    }
}

/// Sleeps `d`; true on shutdown.
async fn pause(engine: &Engine, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = engine.shutdown.cancelled() => true,
    }
}

/// Awaits acknowledgements in dispatch order, marks each batch sent, then frees its rows.
async fn acker(
    engine: Arc<Engine>,
    mut pg: Pg,
    mut rx: mpsc::Receiver<Dispatched>,
    shared: Arc<Shared>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let n = tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => n,
            _ = engine.shutdown.cancelled() => return,
        };
        if n == 0 {
            return;
        }
        let deliveries = std::mem::take(&mut batch).into_iter().map(|d| async move {
            let result = d.delivery.await;
            (d.id, d.trade_applied_us, result, crate::convert::now_us())
        });
        let results = tokio::select! {
            r = futures::future::join_all(deliveries) => r,
            _ = engine.shutdown.cancelled() => return,
        };
        let mut acked = Vec::with_capacity(results.len());
        let mut failed = Vec::new();
        for (id, applied_us, result, acked_us) in results {
            match result {
                Ok(Ok(_)) => {
                    acked.push(id);
                    if let Some(applied_us) = applied_us {
                        let us = u64::try_from(acked_us - applied_us).unwrap_or(0);
                        engine
                            .metrics
                            .trade_publish
                            .observe(Duration::from_micros(us));
                    }
                }
                Ok(Err((e, _))) => {
                    tracing::warn!(id, error = %e, "kafka publish failed; will retry");
                    failed.push(id);
                }
                Err(_) => {
                    tracing::warn!(id, "kafka delivery dropped by the producer; will retry");
                    failed.push(id);
                }
            }
        }
        if !acked.is_empty() {
            if !mark_sent(&engine, &mut pg, &acked).await {
                return;
            }
            engine
                .metrics
                .outbox_published
                .fetch_add(acked.len() as u64, Relaxed);
        }
        {
            let mut f = shared.in_flight();
            for id in acked.iter().chain(&failed) {
                f.remove(id);
            }
        }
        if !failed.is_empty() {
            engine
                .metrics
                .outbox_publish_errors
                .fetch_add(failed.len() as u64, Relaxed);
            shared.failures.fetch_add(failed.len() as u64, Relaxed);
        }
        shared.freed.notify_one();
    }
}

/// Marks `ids` sent, retrying until it succeeds (marking twice is harmless); false on
/// shutdown. The rows stay in flight meanwhile, so none is sent again.
async fn mark_sent(engine: &Engine, pg: &mut Pg, ids: &[i64]) -> bool {
    let mut backoff = MIN_BACKOFF;
    loop {
        let marked = crate::db::timed("mark outbox rows sent", async {
            let (client, statement) = pg.prepared(MARK_SENT).await?;
            Ok(client.execute(&statement, &[&ids]).await?)
        })
        .await;
        match marked {
            Ok(_) => return true,
            Err(e) => {
                tracing::warn!(error = %e, rows = ids.len(), "outbox relay: mark sent");
                pg.reset();
                if pause(engine, backoff).await {
                    return false;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// A trade event's apply time (`at_us`), to time its publication; None for other events.
fn trade_applied_us(topic: &str, payload: &str) -> Option<i64> {
    if topic != contract::events::TRADE_EVENTS_TOPIC {
        return None;
    }
    serde_json::from_str::<contract::events::TradeEvent>(payload)
        .ok()
        .map(|e| e.at_us)
}
