//! The crate's errors, one enum per concern.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A stream-level codec failure: the connection cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The length prefix exceeded the maximum frame length.
    #[error("read a frame larger than the maximum frame length")]
    FrameTooLarge,
    /// The socket failed.
    #[error("read or write the socket")]
    Io(#[source] std::io::Error),
    /// A message could not be serialised.
    #[error("encode a message")]
    Encode(#[source] serde_json::Error),
}

impl From<std::io::Error> for CodecError {
    fn from(e: std::io::Error) -> Self {
        CodecError::Io(e)
    }
}

/// A frame that was well framed but held no valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON, or JSON that does not fit the named message.
    #[error("parse a frame: {0}")]
    Malformed(String),
    /// A message name this protocol version does not know.
    #[error("recognise message type {0:?}")]
    UnknownMessage(String),
    /// A `Hello` naming a protocol, version or front in a form this front does not speak.
    #[error("parse the Hello: {0}")]
    BadHello(String),
}

/// Loading fixtures or starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A fixture file could not be read.
    #[error("read fixture {path}")]
    FixtureRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A fixture file could not be parsed.
    #[error("parse fixture {path}: {message}")]
    FixtureParse { path: PathBuf, message: String },
    /// A fixture parsed but holds an impossible value.
    #[error("accept fixture: {0}")]
    FixtureInvalid(String),
    /// A listener could not bind.
    #[error("bind {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The listener's address could not be read back.
    #[error("read the bound address")]
    LocalAddr(#[source] std::io::Error),
}

/// The client library's failures (request-level failures are CTP's int return codes).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// TCP connect failed.
    #[error("connect to {addr}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The stream failed during the handshake.
    #[error("complete the handshake")]
    Codec(#[source] CodecError),
    /// The server refused the handshake.
    #[error("complete the handshake: {0}")]
    Refused(String),
    /// The server closed the connection during the handshake.
    #[error("complete the handshake: connection closed")]
    Closed,
    /// No answer in time.
    #[error("complete the handshake in time")]
    Timeout,
}
