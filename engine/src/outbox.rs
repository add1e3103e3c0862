//! The outbox relay: publishes unsent outbox rows to Kafka in id order with an idempotent
//! producer (acks=all), then marks them sent. A row is marked only after Kafka acknowledged
//! it, so an unreachable Kafka delays events but never loses them; a crash between the ack
//! and the mark resends, and consumers drop the repeated per-order `seq`.
//!
//! linger.ms is 1: a lone event waits at most 1 ms for company (librdkafka's default of 5
//! would add 5 ms to every quiet-time event).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::db::Pg;
use crate::engine::Engine;
use crate::error::EngineError;

const BATCH: i64 = 1000;

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

/// Publishes one batch; returns how many rows were marked sent.
pub async fn relay_once(
    engine: &Engine,
    pg: &mut Pg,
    producer: &FutureProducer,
) -> Result<usize, EngineError> {
    // PostgreSQL's parts are timed, not Kafka's: a delivery waits as long as Kafka is away.
    let rows = crate::db::timed("read the outbox", async {
        Ok(pg
            .get()
            .await?
            .query(
                "SELECT id, topic, key, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1",
                &[&BATCH],
            )
            .await?)
    })
    .await?;
    if rows.is_empty() {
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
    if sent.len() < rows.len() {
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
    loop {
        match relay_once(&engine, &mut pg, &producer).await {
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
