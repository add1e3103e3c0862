//! The outbox relay: publishes unsent outbox rows to Kafka with an idempotent producer
//! (acks=all), then marks them sent. A row is marked only after Kafka acknowledged it, so an
//! unreachable Kafka delays events but never loses them; a crash between the ack and the mark
//! resends, and consumers drop the repeated per-order `seq`.
//!
//! The relay reads from a cursor ([`Cursor`]), not from the start of the unsent rows: every
//! mark-sent leaves a dead entry in the `outbox_unsent` partial index until vacuum, and reading
//! the unsent rows from the lowest id walked all of them each round (4.1 ms of PostgreSQL per
//! read at 1,000 orders/s, 38 reads a second: pg_stat_statements). Ids are taken from a sequence
//! when a row is inserted and become visible when its transaction commits, so a row can appear
//! below the cursor after the relay passed it (the order committer and the return applier
//! commit concurrently) or never (a rolled-back transaction's ids): the ids the cursor skipped
//! are read again by key each round for [`GAP_WATCH`], and a sweep from the lowest id every
//! [`SWEEP_EVERY`] finds whatever committed later still. Each read is published in id order;
//! one order's events keep their order, since each is written after the one before it
//! committed; events of different orders may leave in another order than their ids.
//!
//! linger.ms is 1: a lone event waits at most 1 ms for company (librdkafka's default of 5
//! would add 5 ms to every quiet-time event).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::db::Pg;
use crate::engine::Engine;
use crate::error::EngineError;

const BATCH: i64 = 1000;

/// How long the ids the cursor skipped are read again by key. A transaction of the engine
/// holds its ids uncommitted for milliseconds, and for at most the engine's 10 s round-trip
/// timeout plus PostgreSQL's 5 s idle-in-transaction timeout when its link fails. Watching
/// that long keeps one order's events in their order (the next one is written only after the
/// one before committed, so both are read in the same round at the latest); a late row waits
/// one relay round, not a sweep.
const GAP_WATCH: Duration = Duration::from_secs(15);

/// At most this many skipped ids are watched: twice what the two writers can hold
/// uncommitted at once (an order batch of 512 and a return batch of 1,024 returns). Ids that
/// never commit (a rolled-back batch, a sequence that jumped after a crash) are dropped after
/// [`GAP_WATCH`]; beyond the bound the sweep finds late rows.
const MAX_GAPS: usize = 4096;

/// How often the relay reads the unsent rows from the lowest id: the guarantee that a row
/// committed after the cursor and its gap watch passed it is still published.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Reads the watched ids and the next rows after the cursor, in id order. With a cursor of 0
/// and no ids it is the sweep.
const READ: &str = "SELECT id, topic, key, payload FROM ( \
     (SELECT id, topic, key, payload FROM outbox WHERE sent_at IS NULL AND id = ANY($2)) \
     UNION ALL \
     (SELECT id, topic, key, payload FROM outbox WHERE sent_at IS NULL AND id > $1 \
     ORDER BY id LIMIT $3)) r ORDER BY id";

/// Where the relay stands in the outbox.
#[derive(Debug)]
pub struct Cursor {
    /// Every row above it is unread.
    after: i64,
    /// Ids below `after` that were not visible when the relay passed them, with when.
    gaps: BTreeMap<i64, Instant>,
    /// The last read from the lowest id.
    swept: Option<Instant>,
}

impl Cursor {
    pub fn new() -> Self {
        Self {
            after: 0,
            gaps: BTreeMap::new(),
            swept: None,
        }
    }

    fn sweep_due(&self, now: Instant) -> bool {
        self.swept.is_none_or(|t| now - t >= SWEEP_EVERY)
    }

    /// What the next read asks for: (after, watched ids), and whether it is a sweep.
    fn request(&mut self, now: Instant) -> (i64, Vec<i64>, bool) {
        self.gaps.retain(|_, seen| now - *seen < GAP_WATCH);
        if self.sweep_due(now) {
            (0, Vec::new(), true)
        } else {
            (self.after, self.gaps.keys().copied().collect(), false)
        }
    }

    /// Moves past a read whose every row was published and marked: `ids` in ascending order.
    fn advance(&mut self, ids: &[i64], sweep: bool, now: Instant) {
        if sweep {
            self.swept = Some(now);
        }
        for id in ids {
            self.gaps.remove(id);
        }
        // Before the first read nothing was passed: the ids below its rows are the rows sent
        // before this engine started, not gaps.
        let watch = self.after > 0;
        let mut last = self.after;
        for &id in ids.iter().filter(|&&id| id > self.after) {
            for missing in ((last + 1)..id).filter(|_| watch) {
                if self.gaps.len() >= MAX_GAPS {
                    break;
                }
                self.gaps.insert(missing, now);
            }
            last = id;
        }
        self.after = last;
    }
}

impl Default for Cursor {
    fn default() -> Self {
        Self::new()
    }
}

/// Creates `order-events` and `trade-events` if they are missing (3 partitions, one
/// replica: the platform runs one broker); an existing topic is left as it is.
pub async fn ensure_topics(brokers: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: Result<AdminClient<rdkafka::client::DefaultClientContext>, _> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create();
    let Ok(admin) = admin else {
        tracing::warn!("kafka admin client not created; topics not ensured");
        return;
    };
    let topics = [
        NewTopic::new(
            contract::events::ORDER_EVENTS_TOPIC,
            3,
            TopicReplication::Fixed(1),
        ),
        NewTopic::new(
            contract::events::TRADE_EVENTS_TOPIC,
            3,
            TopicReplication::Fixed(1),
        ),
    ];
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(5)));
    match tokio::time::timeout(Duration::from_secs(10), admin.create_topics(&topics, &opts)).await {
        Ok(Ok(results)) => {
            for r in results {
                match r {
                    Ok(t) => tracing::info!(topic = %t, "kafka topic created"),
                    Err((t, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {
                        tracing::debug!(topic = %t, "kafka topic exists")
                    }
                    Err((t, e)) => {
                        tracing::warn!(topic = %t, error = %e, "kafka topic not created")
                    }
                }
            }
        }
        other => tracing::warn!(
            ?other,
            "kafka topics not ensured (the relay retries publishing)"
        ),
    }
}

pub fn producer(brokers: &str) -> Result<FutureProducer, EngineError> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "1")
        // A request whose answer was lost (a black-holed link) is sent again after 5 s
        // (`socket.timeout.ms`: librdkafka's client-side request timeout, 60 s by default) with
        // the same sequence numbers, so the broker keeps it once. Messages themselves get five
        // minutes: a message that times out makes the idempotent producer bump its epoch,
        // which tansu 0.6 cannot take (its storage task panics, "more or less than one row",
        // and the broker answers nothing after that); the outbox keeps every row until it
        // is acknowledged anyway.
        .set("socket.timeout.ms", "5000")
        .set("message.timeout.ms", "300000")
        .set("socket.keepalive.enable", "true")
        .set("reconnect.backoff.max.ms", "1000")
        .create()
        .map_err(EngineError::Kafka)
}

/// Publishes one batch; returns how many rows were marked sent. The cursor moves only past a
/// batch that was wholly published and marked: what failed is read again.
pub async fn relay_once(
    engine: &Engine,
    pg: &mut Pg,
    producer: &FutureProducer,
    cursor: &mut Cursor,
) -> Result<usize, EngineError> {
    let now = Instant::now();
    let (after, watched, sweep) = cursor.request(now);
    // PostgreSQL's parts are timed, not Kafka's: a delivery waits as long as Kafka is away.
    let rows = crate::db::timed("read the outbox", async {
        let (client, read) = pg.prepared(READ).await?;
        Ok(client.query(&read, &[&after, &watched, &BATCH]).await?)
    })
    .await?;
    if rows.is_empty() {
        cursor.advance(&[], sweep, now);
        return Ok(0);
    }
    let sends = rows.iter().map(|r| {
        let topic: &str = r.get(1);
        let key: &str = r.get(2);
        let payload: &str = r.get(3);
        let id: i64 = r.get(0);
        async move {
            let rec = FutureRecord::to(topic).key(key).payload(payload);
            (id, producer.send(rec, Duration::from_secs(5)).await)
        }
    });
    let results = futures::future::join_all(sends).await;
    let mut sent = Vec::with_capacity(results.len());
    let acked_at = crate::convert::now_us();
    for ((id, r), row) in results.into_iter().zip(&rows) {
        match r {
            Ok(_) => {
                sent.push(id);
                observe_trade_publish(engine, row, acked_at);
            }
            Err((e, _)) => {
                engine.metrics.outbox_publish_errors.fetch_add(1, Relaxed);
                tracing::warn!(id, error = %e, "kafka publish failed; will retry");
            }
        }
    }
    if !sent.is_empty() {
        crate::db::timed("mark outbox rows sent", async {
            Ok(pg
                .get()
                .await?
                .execute(
                    "UPDATE outbox SET sent_at = now() WHERE id = ANY($1)",
                    &[&sent],
                )
                .await?)
        })
        .await?;
        engine
            .metrics
            .outbox_published
            .fetch_add(sent.len() as u64, Relaxed);
    }
    if sent.len() == rows.len() {
        cursor.advance(&sent, sweep, now);
    } else {
        return Err(EngineError::Load {
            what: "outbox",
            reason: format!(
                "{} of {} rows not acknowledged by kafka",
                rows.len() - sent.len(),
                rows.len()
            ),
        });
    }
    Ok(sent.len())
}

/// A trade event's time from its apply (`at_us`, wall clock) to Kafka's acknowledgement.
fn observe_trade_publish(engine: &Engine, row: &tokio_postgres::Row, acked_at_us: i64) {
    if row.get::<_, &str>(1) != contract::events::TRADE_EVENTS_TOPIC {
        return;
    }
    let Ok(e) = serde_json::from_str::<contract::events::TradeEvent>(row.get(3)) else {
        return;
    };
    let us = u64::try_from(acked_at_us - e.at_us).unwrap_or(0);
    engine
        .metrics
        .trade_publish
        .observe(Duration::from_micros(us));
}

pub async fn run(engine: Arc<Engine>, mut pg: Pg, producer: FutureProducer) {
    let mut backoff = Duration::from_millis(100);
    let mut cursor = Cursor::new();
    loop {
        match relay_once(&engine, &mut pg, &producer, &mut cursor).await {
            Ok(0) => {
                backoff = Duration::from_millis(100);
                tokio::select! {
                    _ = engine.outbox_notify.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = engine.shutdown.cancelled() => return,
                }
            }
            Ok(_) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay");
                if matches!(e, EngineError::Db(_) | EngineError::Timeout { .. }) {
                    pg.reset();
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = engine.shutdown.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    /// A cursor that has swept once and read up to `after`.
    fn cursor_at(base: Instant, after: i64) -> Cursor {
        let mut c = Cursor::new();
        let (_, _, sweep) = c.request(base);
        assert!(sweep, "the first read sweeps");
        c.advance(&[after], true, base);
        c
    }

    #[test]
    fn the_first_read_sweeps_and_takes_no_gaps_from_rows_sent_before() {
        let base = Instant::now();
        let c = cursor_at(base, 500);
        assert_eq!(c.after, 500);
        assert!(c.gaps.is_empty(), "{:?}", c.gaps);
    }

    #[rstest]
    #[case::contiguous(&[11, 12, 13], &[])]
    #[case::before_the_first(&[13, 14], &[11, 12])]
    #[case::between_rows(&[11, 14, 16], &[12, 13, 15])]
    fn skipped_ids_are_watched(#[case] read: &[i64], #[case] watched: &[i64]) {
        let base = Instant::now();
        let mut c = cursor_at(base, 10);
        let (after, ids, sweep) = c.request(at(base, 10));
        assert_eq!((after, ids.len(), sweep), (10, 0, false));
        c.advance(read, false, at(base, 10));
        assert_eq!(c.after, *read.last().unwrap());
        let (after, ids, _) = c.request(at(base, 20));
        assert_eq!(after, *read.last().unwrap());
        assert_eq!(ids, watched);
    }

    #[test]
    fn a_watched_id_found_later_is_no_longer_watched() {
        let base = Instant::now();
        let mut c = cursor_at(base, 10);
        c.advance(&[12], false, at(base, 10));
        c.advance(&[11, 13], false, at(base, 20));
        assert!(c.gaps.is_empty(), "{:?}", c.gaps);
        assert_eq!(c.after, 13);
    }

    #[test]
    fn watched_ids_expire_and_the_sweep_comes_back() {
        let base = Instant::now();
        let mut c = cursor_at(base, 10);
        c.advance(&[12], false, at(base, 10));
        let later = at(base, 10) + GAP_WATCH;
        let (after, ids, sweep) = c.request(later);
        assert!(ids.is_empty(), "expired after {GAP_WATCH:?}: {ids:?}");
        assert!(sweep, "a sweep is due every {SWEEP_EVERY:?}");
        assert_eq!(after, 0, "a sweep reads from the lowest id");
        c.advance(&[5, 13], true, later);
        assert_eq!(
            c.after, 13,
            "a sweep moves the cursor past what it read above it"
        );
    }

    #[test]
    fn a_failed_batch_leaves_the_cursor_where_it_was() {
        // relay_once advances only after every row of a read was published and marked; a
        // read that is never advanced is read again from the same place.
        let base = Instant::now();
        let mut c = cursor_at(base, 10);
        let first = c.request(at(base, 10));
        let again = c.request(at(base, 20));
        assert_eq!((first.0, first.1), (again.0, again.1));
    }

    #[test]
    fn the_watch_is_bounded() {
        let base = Instant::now();
        let mut c = cursor_at(base, 10);
        c.advance(&[10 + 3 * MAX_GAPS as i64], false, at(base, 10));
        assert_eq!(c.gaps.len(), MAX_GAPS);
        assert_eq!(c.after, 10 + 3 * MAX_GAPS as i64);
    }
}
