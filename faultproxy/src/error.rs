//! The crate's one error type. Each variant knows the HTTP status the Toxiproxy API gives it,
//! so the API layer and the in-process `Server` report the same failures the same way.

use std::io;

/// Every way an operation on the proxy server can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("proxy not found")]
    ProxyNotFound,
    #[error("proxy already exists")]
    ProxyExists,
    #[error("toxic not found")]
    ToxicNotFound,
    #[error("toxic already exists")]
    ToxicExists,
    #[error("missing required field: {0}")]
    MissingField(&'static str),
    #[error("bad request body")]
    BadBody(#[source] serde_json::Error),
    #[error("invalid toxic type: {0}")]
    UnknownToxicType(String),
    #[error("invalid attribute {field}: {reason}")]
    InvalidAttribute {
        field: &'static str,
        reason: &'static str,
    },
    #[error("invalid stream {0:?}: must be upstream or downstream")]
    InvalidStream(String),
    #[error("invalid toxicity: must be a number between 0 and 1")]
    InvalidToxicity,
    #[error("listen on {addr}")]
    Listen {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("bind api server on {addr}")]
    ApiBind {
        addr: std::net::SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("read config file {path}")]
    ConfigRead {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("parse config file {path}")]
    ConfigParse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// The HTTP status Toxiproxy answers with for this failure.
    pub fn status(&self) -> u16 {
        match self {
            Error::ProxyNotFound | Error::ToxicNotFound => 404,
            Error::ProxyExists | Error::ToxicExists => 409,
            Error::MissingField(_)
            | Error::BadBody(_)
            | Error::UnknownToxicType(_)
            | Error::InvalidAttribute { .. }
            | Error::InvalidStream(_)
            | Error::InvalidToxicity
            | Error::ConfigParse { .. } => 400,
            Error::Listen { .. } | Error::ApiBind { .. } | Error::ConfigRead { .. } => 500,
        }
    }

    /// The message with its causes, for API clients that only see the JSON body.
    pub fn chain_message(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        message
    }
}
