//! The client side of a connection: connect, handshake, and the write half behind a mutex so
//! that `Req*` calls from any task write directly (no task hop on the order path).

use std::net::SocketAddr;
use std::time::Duration;

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::error::ClientError;
use crate::protocol::{CtpCodec, FrontKind, Hello, Message, PROTOCOL_NAME, PROTOCOL_VERSION};

/// The write half.
pub type Writer = SplitSink<Framed<TcpStream, CtpCodec>, Message>;
/// The read half.
pub type Reader = SplitStream<Framed<TcpStream, CtpCodec>>;

/// Timing of a client connection.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub max_frame_len: usize,
    pub heartbeat_interval: Duration,
    /// No frame for this long is CTP's 0x2001 (heartbeat timeout).
    pub heartbeat_timeout: Duration,
    pub connect_timeout: Duration,
    /// Reconnect after a disconnect, every this often, as CTP's API does; `None` to stay down.
    pub reconnect_interval: Option<Duration>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            max_frame_len: crate::protocol::codec::DEFAULT_MAX_FRAME_LEN,
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            reconnect_interval: Some(Duration::from_secs(1)),
        }
    }
}

/// Connects and completes the handshake for `front`.
pub async fn connect(
    addr: SocketAddr,
    front: FrontKind,
    cfg: &ClientConfig,
) -> Result<(Writer, Reader), ClientError> {
    let fut = async {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect { addr, source })?;
        let _ = stream.set_nodelay(true);
        let mut framed = Framed::new(stream, CtpCodec::new(cfg.max_frame_len));
        let hello = Hello {
            protocol: PROTOCOL_NAME.into(),
            version: PROTOCOL_VERSION,
            front,
        };
        framed
            .send(Message::Hello(hello))
            .await
            .map_err(ClientError::Codec)?;
        match framed.next().await {
            Some(Ok(Ok(Message::HelloAck(_)))) => Ok(framed.split()),
            Some(Ok(Ok(Message::ProtocolError(e)))) => Err(ClientError::Refused(e.message)),
            Some(Ok(Ok(other))) => {
                Err(ClientError::Refused(format!("unexpected {}", other.name())))
            }
            Some(Ok(Err(e))) => Err(ClientError::Refused(e.to_string())),
            Some(Err(e)) => Err(ClientError::Codec(e)),
            None => Err(ClientError::Closed),
        }
    };
    tokio::time::timeout(cfg.connect_timeout, fut)
        .await
        .map_err(|_| ClientError::Timeout)?
}

/// Writes one message; false if the connection is gone.
pub async fn write(writer: &tokio::sync::Mutex<Option<Writer>>, msg: Message) -> bool {
    let mut g = writer.lock().await;
    let Some(w) = g.as_mut() else { return false };
    if w.send(msg).await.is_ok() {
        return true;
    }
    *g = None;
    false
}
