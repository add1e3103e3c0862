//! The outbox relay: publishes unsent outbox rows to Kafka in id order with an idempotent
//! producer (acks=all), then marks them sent. A row is marked only after Kafka acknowledged
//! it, so an unreachable Kafka delays events but never loses them; a crash between the ack
//! and the mark resends, and consumers drop the repeated per-order `seq`. The relay itself
//! (pipelined: reading and producing go on while acknowledgements are awaited and marked)
//! is in [`relay`]; this module makes the topics and the producer.
//!
//! linger.ms is 1: a lone event waits at most 1 ms for company (librdkafka's default of 5
//! would add 5 ms to every quiet-time event).

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::FutureProducer;

use crate::error::EngineError;

mod relay;

pub use relay::run;

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
