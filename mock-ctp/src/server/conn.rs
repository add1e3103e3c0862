//! What both fronts do with a connection before and around the CTP conversation: the version
//! handshake, protocol errors, writes that give up on a peer that stopped reading, and closing
//! with a reason code.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::error::{CodecError, FrameError};
use crate::protocol::{
    CtpCodec, FrontDisconnected, FrontKind, HelloAck, Message, ProtocolError, ProtocolErrorCode,
    PROTOCOL_NAME, PROTOCOL_VERSION,
};

use super::shared::Shared;

/// Why a write did not go out.
#[derive(Debug)]
pub enum WriteError {
    /// The socket failed or was closed by the peer.
    Closed(CodecError),
    /// The peer took nothing for the front's write timeout: its buffers are full because it
    /// stopped reading (a hung or too slow consumer). The connection must be dropped.
    Stalled,
}

/// A framed connection whose every write gives up after the front's write timeout.
pub struct Conn {
    framed: Framed<TcpStream, CtpCodec>,
    write_timeout: Duration,
}

impl Conn {
    /// The next frame from the peer.
    pub async fn next(&mut self) -> Option<Result<Result<Message, FrameError>, CodecError>> {
        self.framed.next().await
    }

    /// Queues `msg`, writing out what is buffered if the buffer is full.
    pub async fn feed(&mut self, msg: Message) -> Result<(), WriteError> {
        within(self.write_timeout, self.framed.feed(msg)).await
    }

    /// Writes out everything queued.
    pub async fn flush(&mut self) -> Result<(), WriteError> {
        within(self.write_timeout, self.framed.flush()).await
    }

    /// Queues `msg` and writes out everything queued.
    pub async fn send(&mut self, msg: Message) -> Result<(), WriteError> {
        self.feed(msg).await?;
        self.flush().await
    }

    /// Closes the socket at once, with whatever is still queued for a peer that stopped
    /// reading: a reset, so that neither side keeps the connection (or its buffers).
    pub fn abort(self) {
        let stream = self.framed.into_inner();
        if let Err(e) = stream.set_zero_linger() {
            tracing::debug!(error = %e, "setting SO_LINGER to 0 before a reset");
        }
        drop(stream);
    }
}

/// A write that gives up as [`WriteError::Stalled`] when it makes no progress for `timeout`.
async fn within(
    timeout: Duration,
    write: impl std::future::Future<Output = Result<(), CodecError>>,
) -> Result<(), WriteError> {
    match tokio::time::timeout(timeout, write).await {
        Ok(r) => r.map_err(WriteError::Closed),
        Err(_) => Err(WriteError::Stalled),
    }
}

/// Sends a protocol error (best effort).
pub async fn send_protocol_error(conn: &mut Conn, code: ProtocolErrorCode, message: String) {
    let _ = conn
        .send(Message::ProtocolError(ProtocolError { code, message }))
        .await;
}

/// Tells the client why it is being dropped, then closes; a peer that stopped reading cannot
/// be told, and its socket is reset. Returns whether the peer had stopped reading.
pub async fn disconnect(mut conn: Conn, reason: i32) -> bool {
    match conn
        .send(Message::FrontDisconnected(FrontDisconnected { reason }))
        .await
    {
        Err(WriteError::Stalled) => {
            conn.abort();
            true
        }
        _ => {
            let timeout = conn.write_timeout;
            let _ = tokio::time::timeout(timeout, conn.framed.close()).await;
            false
        }
    }
}

/// Answers a frame that held no valid message; the session goes on.
pub async fn answer_frame_error(conn: &mut Conn, e: FrameError) {
    let code = match e {
        FrameError::Malformed(_) => ProtocolErrorCode::Malformed,
        FrameError::UnknownMessage(_) => ProtocolErrorCode::UnknownMessage,
        FrameError::BadHello(_) => ProtocolErrorCode::Malformed,
    };
    send_protocol_error(conn, code, e.to_string()).await;
}

/// Answers a stream error and closes.
pub async fn answer_stream_error(mut conn: Conn, e: CodecError) {
    if matches!(e, CodecError::FrameTooLarge) {
        send_protocol_error(&mut conn, ProtocolErrorCode::FrameTooLarge, e.to_string()).await;
        disconnect(conn, crate::protocol::reason::BAD_PACKET).await;
    }
}

/// How a session's conversation ended.
#[derive(Debug)]
pub enum End {
    /// The peer closed the connection, or the socket failed.
    Closed,
    /// The admin API disconnected the session with this reason.
    Told(i32),
    /// The front drops the session on its own with this reason (a heartbeat timeout, a
    /// market-data consumer too far behind).
    Dropped(i32),
    /// A stream the codec cannot read any further (a frame over the maximum length).
    Unreadable(CodecError),
    /// The peer stopped reading ([`WriteError::Stalled`]).
    Stalled,
}

impl From<WriteError> for End {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Closed(_) => End::Closed,
            WriteError::Stalled => End::Stalled,
        }
    }
}

/// Closes connection `conn_id` of `front` as `end` says, and notes in the exchange's record
/// the drops the front decided on its own.
pub async fn finish(shared: &Shared, conn_id: u64, front: &'static str, conn: Conn, end: End) {
    let (reason, slow_consumer) = match end {
        End::Closed => return,
        End::Told(r) => {
            disconnect(conn, r).await;
            return;
        }
        End::Unreadable(e) => return answer_stream_error(conn, e).await,
        End::Dropped(r) => (r, disconnect(conn, r).await),
        End::Stalled => {
            conn.abort();
            (crate::protocol::reason::WRITE_FAILED, true)
        }
    };
    let (session_id, user_id) = shared
        .session_infos()
        .into_iter()
        .find(|i| i.conn_id == conn_id)
        .map_or((0, String::new()), |i| (i.session_id, i.user_id));
    tracing::info!(
        front,
        session_id,
        user_id,
        reason,
        slow_consumer,
        "front dropped a connection"
    );
    shared
        .exchange()
        .record_disconnect(crate::exchange::RecordedDisconnect {
            front: front.to_owned(),
            session_id,
            user_id,
            reason,
            slow_consumer,
            at_us: crate::clock::now_us(),
        });
}

/// Frames a socket and waits for a valid `Hello` for `front`; answers `HelloAck` and returns
/// the connection, or answers the error and returns `None`.
pub async fn accept(shared: &Shared, stream: TcpStream, front: FrontKind) -> Option<Conn> {
    let _ = stream.set_nodelay(true);
    let mut conn = Conn {
        framed: Framed::new(stream, CtpCodec::new(shared.front.max_frame_len)),
        write_timeout: shared.front.write_timeout,
    };
    let first = tokio::time::timeout(shared.front.handshake_timeout, conn.next()).await;
    let hello = match first {
        Ok(Some(Ok(Ok(Message::Hello(h))))) => h,
        Ok(Some(Ok(Ok(other)))) => {
            let msg = format!("expected Hello, got {}", other.name());
            send_protocol_error(&mut conn, ProtocolErrorCode::HandshakeRequired, msg).await;
            return None;
        }
        Ok(Some(Ok(Err(e @ FrameError::BadHello(_))))) => {
            let msg =
                format!("this front speaks {PROTOCOL_NAME} v{PROTOCOL_VERSION} ({front:?}): {e}");
            send_protocol_error(&mut conn, ProtocolErrorCode::VersionMismatch, msg).await;
            return None;
        }
        Ok(Some(Ok(Err(e)))) => {
            send_protocol_error(
                &mut conn,
                ProtocolErrorCode::HandshakeRequired,
                e.to_string(),
            )
            .await;
            return None;
        }
        Ok(Some(Err(e))) => {
            answer_stream_error(conn, e).await;
            return None;
        }
        Ok(None) | Err(_) => return None,
    };
    if hello.protocol != PROTOCOL_NAME || hello.version != PROTOCOL_VERSION || hello.front != front
    {
        let msg = format!(
            "this front speaks {PROTOCOL_NAME} v{PROTOCOL_VERSION} ({front:?}), not {} v{} ({:?})",
            hello.protocol, hello.version, hello.front
        );
        send_protocol_error(&mut conn, ProtocolErrorCode::VersionMismatch, msg).await;
        return None;
    }
    let (front_id, trading_day) = {
        let ex = shared.exchange();
        (ex.front_id(), ex.trading_day().to_owned())
    };
    let ack = HelloAck {
        version: PROTOCOL_VERSION,
        front_id,
        trading_day,
    };
    conn.send(Message::HelloAck(ack)).await.ok()?;
    Some(conn)
}
