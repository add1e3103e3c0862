//! Framing and encoding: a u32 big-endian length prefix (tokio-util's `LengthDelimitedCodec`)
//! around one JSON-encoded [`Message`].
//!
//! Decoding separates two kinds of failure. A frame whose length exceeds the maximum loses the
//! framing, so it is a stream error and the connection must close. A frame that is well framed
//! but not a valid message (bad JSON, unknown message name) is yielded as an item
//! `Err(FrameError)`, so the server can answer that client and keep the session.

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

use super::messages::Message;
use crate::error::{CodecError, FrameError};

/// The default maximum frame length (64 KiB); CTP's own packets are at most 4 KiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

/// The codec both fronts and the client library use.
#[derive(Debug)]
pub struct CtpCodec {
    inner: LengthDelimitedCodec,
}

impl Default for CtpCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl CtpCodec {
    /// A codec that refuses frames longer than `max_frame_len` bytes.
    pub fn new(max_frame_len: usize) -> Self {
        let inner = LengthDelimitedCodec::builder()
            .length_field_length(4)
            .big_endian()
            .max_frame_length(max_frame_len)
            .new_codec();
        Self { inner }
    }
}

/// Parses one frame's payload.
///
/// A failure is told apart by the frame's `msg`: a name this version does not know is
/// [`FrameError::UnknownMessage`]; a `Hello` whose body does not parse (an unknown front such
/// as `"TRADE"`, a version sent as `"1"` or `1.0`) is [`FrameError::BadHello`], a handshake
/// naming what this front does not speak; anything else is malformed. A `Heartbeat` with an
/// empty or null `body` is a heartbeat. Only a frame that failed is parsed a second time.
pub fn decode_payload(payload: &[u8]) -> Result<Message, FrameError> {
    serde_json::from_slice(payload).or_else(|e| {
        let text = e.to_string();
        let value = serde_json::from_slice::<serde_json::Value>(payload).ok();
        let msg = value
            .as_ref()
            .and_then(|v| v.get("msg")?.as_str().map(str::to_owned));
        // A message without fields may come with an empty or null body as well as none.
        let body = value.as_ref().and_then(|v| v.get("body"));
        let empty =
            body.is_some_and(|b| b.is_null() || b.as_object().is_some_and(|o| o.is_empty()));
        Err(match msg {
            Some(m) if m == "Heartbeat" && empty => return Ok(Message::Heartbeat),
            Some(m) if m == "Hello" => FrameError::BadHello(text),
            Some(m) if text.starts_with(&format!("unknown variant `{m}`")) => {
                FrameError::UnknownMessage(m)
            }
            _ => FrameError::Malformed(text),
        })
    })
}

impl Decoder for CtpCodec {
    type Item = Result<Message, FrameError>;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        match self.inner.decode(src) {
            Ok(Some(frame)) => Ok(Some(decode_payload(&frame))),
            Ok(None) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(CodecError::FrameTooLarge),
            Err(e) => Err(CodecError::Io(e)),
        }
    }
}

impl Encoder<Message> for CtpCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), Self::Error> {
        let mut buf = BytesMut::with_capacity(512).writer();
        serde_json::to_writer(&mut buf, &item).map_err(CodecError::Encode)?;
        let payload: Bytes = buf.into_inner().freeze();
        self.inner.encode(payload, dst).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidInput {
                CodecError::FrameTooLarge
            } else {
                CodecError::Io(e)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::fields::InputOrder;
    use crate::protocol::messages::Request;

    fn frame(payload: &[u8]) -> BytesMut {
        let mut b = BytesMut::new();
        b.put_u32(payload.len() as u32);
        b.put_slice(payload);
        b
    }

    #[test]
    fn round_trips_a_message() {
        let mut codec = CtpCodec::default();
        let msg = Message::ReqOrderInsert(Request {
            request_id: 7,
            field: InputOrder {
                instrument_id: "rb2410".into(),
                ..Default::default()
            },
        });
        let mut buf = BytesMut::new();
        codec.encode(msg.clone(), &mut buf).unwrap();
        assert_eq!(
            u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize,
            buf.len() - 4
        );
        let text = std::str::from_utf8(&buf[4..]).unwrap();
        assert!(text.contains("\"InstrumentID\":\"rb2410\""), "{text}");
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap().unwrap(), msg);
    }

    #[test]
    fn waits_for_a_whole_frame() {
        let mut codec = CtpCodec::default();
        let mut buf = frame(br#"{"msg":"Heartbeat"}"#);
        let mut head = buf.split_to(6);
        assert!(codec.decode(&mut head).unwrap().is_none());
        head.unsplit(buf);
        assert_eq!(
            codec.decode(&mut head).unwrap().unwrap().unwrap(),
            Message::Heartbeat
        );
    }

    #[test]
    fn unknown_message_is_an_item_not_a_stream_error() {
        let mut codec = CtpCodec::default();
        let mut buf = frame(br#"{"msg":"ReqTeleport","body":{}}"#);
        let item = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(item, Err(FrameError::UnknownMessage("ReqTeleport".into())));
    }

    #[test]
    fn an_unknown_value_inside_a_known_message_is_malformed_not_an_unknown_message() {
        let item = decode_payload(
            br#"{"msg":"SubscribePrivateTopic","body":{"ResumeType":"someday","SeqNo":0}}"#,
        );
        assert!(matches!(item, Err(FrameError::Malformed(_))), "{item:?}");
        let hello = decode_payload(
            br#"{"msg":"Hello","body":{"Protocol":"mock-ctp","Version":1,"Front":"xyz"}}"#,
        );
        assert!(matches!(hello, Err(FrameError::BadHello(_))), "{hello:?}");
    }

    #[test]
    fn a_heartbeat_may_have_an_empty_or_null_body_and_a_subscription_no_seq_no() {
        for payload in [
            &br#"{"msg":"Heartbeat"}"#[..],
            br#"{"msg":"Heartbeat","body":{}}"#,
            br#"{"msg":"Heartbeat","body":null}"#,
        ] {
            assert_eq!(decode_payload(payload), Ok(Message::Heartbeat));
        }
        let odd = decode_payload(br#"{"msg":"Heartbeat","body":{"x":1}}"#);
        assert!(matches!(odd, Err(FrameError::Malformed(_))), "{odd:?}");
        let sub = decode_payload(br#"{"msg":"SubscribePrivateTopic","body":{"ResumeType":"2"}}"#);
        assert_eq!(
            sub,
            Ok(Message::SubscribePrivateTopic(
                crate::protocol::messages::SubscribeTopic {
                    resume_type: crate::protocol::ResumeType::Quick,
                    seq_no: 0,
                }
            ))
        );
    }

    #[test]
    fn malformed_json_is_an_item() {
        let mut codec = CtpCodec::default();
        let mut buf = frame(b"{not json");
        assert!(matches!(
            codec.decode(&mut buf).unwrap().unwrap(),
            Err(FrameError::Malformed(_))
        ));
        let mut buf = frame(br#"{"msg":"ReqOrderInsert","body":{"RequestID":1}}"#);
        assert!(matches!(
            codec.decode(&mut buf).unwrap().unwrap(),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn oversized_frame_is_a_stream_error() {
        let mut codec = CtpCodec::new(16);
        let mut buf = frame(&[b' '; 17]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(CodecError::FrameTooLarge)
        ));
        let mut out = BytesMut::new();
        let big =
            Message::FrontDisconnected(crate::protocol::messages::FrontDisconnected { reason: 1 });
        assert!(matches!(
            codec.encode(big, &mut out),
            Err(CodecError::FrameTooLarge)
        ));
    }
}
