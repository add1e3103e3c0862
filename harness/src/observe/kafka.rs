//! Reads every event of `order-events` and `trade-events` from the start of each partition to
//! its high watermark as it was when reading began: after the outbox is drained that is
//! everything the engine published. Events keep their per-partition order, which is the order
//! the contract promises (per order id). A topic that does not exist yet holds no events.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use contract::events::{OrderEvent, TradeEvent, ORDER_EVENTS_TOPIC, TRADE_EVENTS_TOPIC};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use serde::de::DeserializeOwned;

use super::error::ObserveError;
use crate::check::KafkaEvents;

const META_TIMEOUT: Duration = Duration::from_secs(10);

/// Both topics, read in full from `bootstrap` within `timeout` each.
pub async fn read_all(bootstrap: &str, timeout: Duration) -> Result<KafkaEvents, ObserveError> {
    let bootstrap = bootstrap.to_owned();
    tokio::task::spawn_blocking(move || {
        Ok(KafkaEvents {
            order_events: read_topic::<OrderEvent>(&bootstrap, ORDER_EVENTS_TOPIC, timeout)?,
            trade_events: read_topic::<TradeEvent>(&bootstrap, TRADE_EVENTS_TOPIC, timeout)?,
        })
    })
    .await
    .expect("the kafka reader does not panic")
}

fn read_topic<T: DeserializeOwned>(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<T>, ObserveError> {
    let err = |source: KafkaError| ObserveError::Kafka {
        topic: topic.to_owned(),
        bootstrap: bootstrap.to_owned(),
        source: Box::new(source),
    };
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "group.id",
            format!("harness-observe-{}", std::process::id()),
        )
        .set("enable.auto.commit", "false")
        .set("allow.auto.create.topics", "false")
        .create()
        .map_err(err)?;
    let meta = consumer
        .fetch_metadata(Some(topic), META_TIMEOUT)
        .map_err(err)?;
    let Some(t) = meta.topics().iter().find(|t| t.name() == topic) else {
        return Ok(Vec::new());
    };
    if matches!(t.error(), Some(e) if RDKafkaErrorCode::from(e) == RDKafkaErrorCode::UnknownTopicOrPartition)
    {
        return Ok(Vec::new());
    }
    let mut ends: HashMap<i32, i64> = HashMap::new();
    let mut assignment = TopicPartitionList::new();
    for p in t.partitions() {
        let (low, high) = consumer
            .fetch_watermarks(topic, p.id(), META_TIMEOUT)
            .map_err(err)?;
        if high > low {
            ends.insert(p.id(), high);
            assignment
                .add_partition_offset(topic, p.id(), Offset::Offset(low))
                .map_err(err)?;
        }
    }
    let total: i64 = ends.values().sum();
    let mut events = Vec::new();
    if ends.is_empty() {
        return Ok(events);
    }
    consumer.assign(&assignment).map_err(err)?;
    let deadline = Instant::now() + timeout;
    let mut read = 0i64;
    while !ends.is_empty() {
        if Instant::now() >= deadline {
            return Err(ObserveError::KafkaTimeout {
                topic: topic.to_owned(),
                timeout_s: timeout.as_secs(),
                read,
                end: total,
            });
        }
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = msg.map_err(err)?;
        let (partition, offset) = (msg.partition(), msg.offset());
        let Some(&end) = ends.get(&partition) else {
            continue;
        };
        if offset >= end {
            ends.remove(&partition);
            continue;
        }
        read += 1;
        let event =
            serde_json::from_slice(msg.payload().unwrap_or_default()).map_err(|source| {
                ObserveError::Event {
                    topic: topic.to_owned(),
                    partition,
                    offset,
                    source,
                }
            })?;
        events.push(event);
        if offset + 1 >= end {
            ends.remove(&partition);
        }
    }
    Ok(events)
}
