//! The engine's errors. Messages are lowercase fragments that read after "failed to ...".

/// A malformed environment, named by its variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("read environment variable {name}: not set")]
    Missing { name: &'static str },
    #[error("read environment variable {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl ConfigError {
    /// The variable at fault.
    pub fn variable(&self) -> &'static str {
        match self {
            Self::Missing { name } | Self::Invalid { name, .. } => name,
        }
    }
}

/// What can fail while the engine starts or runs.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("talk to postgresql")]
    Db(#[from] tokio_postgres::Error),
    #[error("{what}: no answer from postgresql within {after:?} (connection given up)")]
    Timeout {
        what: &'static str,
        after: std::time::Duration,
    },
    #[error("load {what} from postgresql: {reason}")]
    Load { what: &'static str, reason: String },
    #[error("apply the fixture seed")]
    Seed(#[source] contract::ContractError),
    #[error("create the kafka producer")]
    Kafka(#[source] rdkafka::error::KafkaError),
    #[error("bind {what} on {addr}")]
    Bind {
        what: &'static str,
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("serve grpc")]
    Grpc(#[source] tonic::transport::Error),
    #[error("resolve {what} address {addr}: {reason}")]
    Resolve {
        what: &'static str,
        addr: String,
        reason: String,
    },
}
