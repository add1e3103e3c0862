//! Errors of reading a platform's final state. Each names the service and what was read.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ObserveError {
    #[error("failed to query {what} in postgresql at {addr}")]
    Postgres {
        what: &'static str,
        addr: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("postgresql row of {table} has an invalid {field}: {value:?}")]
    Row {
        table: &'static str,
        field: &'static str,
        value: String,
    },
    #[error("failed to read the exchange record from {url}")]
    Exchange {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("failed to read topic {topic} from kafka at {bootstrap}")]
    Kafka {
        topic: String,
        bootstrap: String,
        #[source]
        source: Box<rdkafka::error::KafkaError>,
    },
    #[error("kafka topic {topic} partition {partition} offset {offset} holds an invalid event")]
    Event {
        topic: String,
        partition: i32,
        offset: i64,
        #[source]
        source: serde_json::Error,
    },
    #[error("kafka topic {topic} was not read to its end within {timeout_s} s (at {read} of {end} records{})",
        last_error.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    KafkaTimeout {
        topic: String,
        timeout_s: u64,
        read: i64,
        end: i64,
        last_error: Option<String>,
    },
    #[error("the platform has no trading engine to observe")]
    NoEngine,
}
