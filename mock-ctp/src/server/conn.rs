//! What both fronts do with a connection before and around the CTP conversation: the version
//! handshake, protocol errors, and closing with a reason code.

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::error::{CodecError, FrameError};
use crate::protocol::{
    CtpCodec, FrontDisconnected, FrontKind, HelloAck, Message, ProtocolError, ProtocolErrorCode,
    PROTOCOL_NAME, PROTOCOL_VERSION,
};

use super::shared::Shared;

/// A framed connection.
pub type Conn = Framed<TcpStream, CtpCodec>;

/// Sends a protocol error (best effort).
pub async fn send_protocol_error(conn: &mut Conn, code: ProtocolErrorCode, message: String) {
    let _ = conn
        .send(Message::ProtocolError(ProtocolError { code, message }))
        .await;
}

/// Tells the client why it is being dropped, then closes (best effort).
pub async fn disconnect(conn: &mut Conn, reason: i32) {
    let _ = conn
        .send(Message::FrontDisconnected(FrontDisconnected { reason }))
        .await;
    let _ = conn.close().await;
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

/// Answers a stream error; the caller must close.
pub async fn answer_stream_error(conn: &mut Conn, e: CodecError) {
    if matches!(e, CodecError::FrameTooLarge) {
        send_protocol_error(conn, ProtocolErrorCode::FrameTooLarge, e.to_string()).await;
        disconnect(conn, crate::protocol::reason::BAD_PACKET).await;
    }
}

/// Frames a socket and waits for a valid `Hello` for `front`; answers `HelloAck` and returns
/// the connection, or answers the error and returns `None`.
pub async fn accept(shared: &Shared, stream: TcpStream, front: FrontKind) -> Option<Conn> {
    let _ = stream.set_nodelay(true);
    let mut conn = Framed::new(stream, CtpCodec::new(shared.front.max_frame_len));
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
            let _ = conn.close().await;
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
            answer_stream_error(&mut conn, e).await;
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
        let _ = conn.close().await;
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
