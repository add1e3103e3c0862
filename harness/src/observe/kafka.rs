//! Reads every event of `order-events` and `trade-events` from the start of each partition (or
//! from where it ended when a run began, its [`KafkaMarks`], when several runs share one
//! platform) to its high watermark as it was when reading began: after the outbox is drained that is
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

/// How long a metadata or watermark query is retried: a broker just restarted, or one whose
/// client link was cut a moment ago, answers again within seconds.
const META_RETRY_FOR: Duration = Duration::from_secs(30);

const TOPICS: [&str; 2] = [ORDER_EVENTS_TOPIC, TRADE_EVENTS_TOPIC];

/// The high watermark of each (topic, partition) at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KafkaMarks(HashMap<(String, i32), i64>);

/// Where each partition of both topics ends now (a topic not yet created has no mark).
pub async fn marks(bootstrap: &str) -> Result<KafkaMarks, ObserveError> {
    let bootstrap = bootstrap.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut marks = HashMap::new();
        for topic in TOPICS {
            let consumer = consumer(&bootstrap, topic)?;
            for (partition, _, high) in watermarks(&consumer, &bootstrap, topic)? {
                marks.insert((topic.to_owned(), partition), high);
            }
        }
        Ok(KafkaMarks(marks))
    })
    .await
    .expect("the kafka reader does not panic")
}

/// Whether the broker answers a metadata and an offsets query for `order-events` now (no
/// retry): a broker whose storage died keeps its port open but answers neither.
pub async fn answers(bootstrap: &str) -> Result<(), ObserveError> {
    let bootstrap = bootstrap.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer = consumer(&bootstrap, ORDER_EVENTS_TOPIC)?;
        watermarks_once(&consumer, &bootstrap, ORDER_EVENTS_TOPIC).map(|_| ())
    })
    .await
    .expect("the kafka reader does not panic")
}

/// Both topics, read from `from` (else each partition's start) within `timeout` each.
pub async fn read_all(
    bootstrap: &str,
    timeout: Duration,
    from: &KafkaMarks,
) -> Result<KafkaEvents, ObserveError> {
    let bootstrap = bootstrap.to_owned();
    let from = from.clone();
    tokio::task::spawn_blocking(move || {
        Ok(KafkaEvents {
            order_events: read_topic::<OrderEvent>(&bootstrap, ORDER_EVENTS_TOPIC, timeout, &from)?,
            trade_events: read_topic::<TradeEvent>(&bootstrap, TRADE_EVENTS_TOPIC, timeout, &from)?,
        })
    })
    .await
    .expect("the kafka reader does not panic")
}

fn kafka_error<'a>(bootstrap: &'a str, topic: &'a str) -> impl Fn(KafkaError) -> ObserveError + 'a {
    move |source| ObserveError::Kafka {
        topic: topic.to_owned(),
        bootstrap: bootstrap.to_owned(),
        source: Box::new(source),
    }
}

fn consumer(bootstrap: &str, topic: &str) -> Result<BaseConsumer, ObserveError> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "group.id",
            format!("harness-observe-{}", std::process::id()),
        )
        .set("enable.auto.commit", "false")
        .set("allow.auto.create.topics", "false")
        .create()
        .map_err(kafka_error(bootstrap, topic))
}

/// (partition, low, high) of each partition of `topic`; none when the topic does not exist.
/// A failed query is tried again for [`META_RETRY_FOR`]; the last error is returned after that.
fn watermarks(
    consumer: &BaseConsumer,
    bootstrap: &str,
    topic: &str,
) -> Result<Vec<(i32, i64, i64)>, ObserveError> {
    let deadline = Instant::now() + META_RETRY_FOR;
    loop {
        match watermarks_once(consumer, bootstrap, topic) {
            Err(e) if Instant::now() < deadline => {
                tracing::warn!(topic, error = %crate::fault::chain(&e), "kafka metadata query failed; trying again");
                std::thread::sleep(Duration::from_millis(500));
            }
            done => return done,
        }
    }
}

fn watermarks_once(
    consumer: &BaseConsumer,
    bootstrap: &str,
    topic: &str,
) -> Result<Vec<(i32, i64, i64)>, ObserveError> {
    let err = kafka_error(bootstrap, topic);
    let meta = consumer
        .fetch_metadata(Some(topic), META_TIMEOUT)
        .map_err(&err)?;
    let Some(t) = meta.topics().iter().find(|t| t.name() == topic) else {
        return Ok(Vec::new());
    };
    if matches!(t.error(), Some(e) if RDKafkaErrorCode::from(e) == RDKafkaErrorCode::UnknownTopicOrPartition)
    {
        return Ok(Vec::new());
    }
    t.partitions()
        .iter()
        .map(|p| {
            let (low, high) = consumer
                .fetch_watermarks(topic, p.id(), META_TIMEOUT)
                .map_err(&err)?;
            Ok((p.id(), low, high))
        })
        .collect()
}

/// Whether a consumer error is one librdkafka recovers from by itself.
fn is_transient(e: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    match e.rdkafka_error_code() {
        Some(code) => matches!(
            code,
            C::BrokerTransportFailure
                | C::AllBrokersDown
                | C::OperationTimedOut
                | C::RequestTimedOut
                | C::NetworkException
                | C::LeaderNotAvailable
                | C::NotLeaderForPartition
                | C::NotCoordinator
                | C::CoordinatorNotAvailable
                | C::CoordinatorLoadInProgress
                | C::Resolve
                | C::PartitionEOF
        ),
        None => false,
    }
}

fn read_topic<T: DeserializeOwned>(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
    from: &KafkaMarks,
) -> Result<Vec<T>, ObserveError> {
    let err = kafka_error(bootstrap, topic);
    let consumer = consumer(bootstrap, topic)?;
    let mut ends: HashMap<i32, i64> = HashMap::new();
    let mut assignment = TopicPartitionList::new();
    for (partition, low, high) in watermarks(&consumer, bootstrap, topic)? {
        let start = from
            .0
            .get(&(topic.to_owned(), partition))
            .map_or(low, |m| (*m).max(low));
        if high > start {
            ends.insert(partition, high);
            assignment
                .add_partition_offset(topic, partition, Offset::Offset(start))
                .map_err(&err)?;
        }
    }
    let total: i64 = ends.values().sum();
    let mut events = Vec::new();
    if ends.is_empty() {
        return Ok(events);
    }
    consumer.assign(&assignment).map_err(&err)?;
    let deadline = Instant::now() + timeout;
    let mut read = 0i64;
    let mut last_error: Option<String> = None;
    while !ends.is_empty() {
        if Instant::now() >= deadline {
            return Err(ObserveError::KafkaTimeout {
                topic: topic.to_owned(),
                timeout_s: timeout.as_secs(),
                read,
                end: total,
                last_error,
            });
        }
        let msg = match consumer.poll(Duration::from_millis(200)) {
            None => continue,
            Some(Ok(msg)) => msg,
            // librdkafka reports a broken connection or a broker that is away for a moment
            // through poll and reconnects by itself: keep reading until the deadline.
            Some(Err(e)) if is_transient(&e) => {
                tracing::warn!(topic, error = %e, "kafka read error; the consumer reconnects");
                last_error = Some(e.to_string());
                continue;
            }
            Some(Err(e)) => return Err(err(e)),
        };
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
