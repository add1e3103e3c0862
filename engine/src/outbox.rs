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
        .set("message.timeout.ms", "30000")
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
    let rows = pg
        .get()
        .await?
        .query(
            "SELECT id, topic, key, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1",
            &[&BATCH],
        )
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
    for (id, r) in results {
        match r {
            Ok(_) => sent.push(id),
            Err((e, _)) => {
                engine.metrics.outbox_publish_errors.fetch_add(1, Relaxed);
                tracing::warn!(id, error = %e, "kafka publish failed; will retry");
            }
        }
    }
    if !sent.is_empty() {
        pg.get()
            .await?
            .execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY($1)",
                &[&sent],
            )
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
                if matches!(e, EngineError::Db(_)) {
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
