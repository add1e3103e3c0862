//! The mock CTP front's decoder on a byte stream as a peer sends it, cut where the input says:
//! a length prefix of any size, frames split across reads, garbage between them. Every frame is
//! either a message, an error the front answers, or the end of the framing; none panics, and a
//! message the decoder yields encodes again.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mock_ctp::protocol::CtpCodec;
use tokio_util::codec::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    // The first byte sets the read size (1..=64 bytes a read), the rest is the stream.
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut % 64) + 1;
    // A small maximum so that oversized frames are reached too.
    let mut codec = CtpCodec::new(4096);
    let mut buf = BytesMut::new();
    for chunk in stream.chunks(cut) {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(Ok(message))) => {
                    let mut out = BytesMut::new();
                    CtpCodec::new(1 << 20)
                        .encode(message, &mut out)
                        .expect("a decoded message encodes");
                }
                Ok(Some(Err(_frame_error))) => {}
                Ok(None) => break,
                // The framing is lost: the front closes the connection here.
                Err(_) => return,
            }
        }
    }
    let _ = codec.decode_eof(&mut buf);
});
