//! One frame's payload as the mock CTP front parses it (`decode_payload`): JSON of any shape,
//! any message name, any field. A payload is a message or a [`FrameError`] the front answers;
//! a message encodes again and decodes to a message of the same name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_ctp::protocol::codec::decode_payload;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode_payload(data) {
        let json = serde_json::to_vec(&message).expect("a decoded message encodes");
        let again = decode_payload(&json).expect("an encoded message decodes");
        assert_eq!(
            std::mem::discriminant(&message),
            std::mem::discriminant(&again),
            "{}",
            String::from_utf8_lossy(&json)
        );
    }
});
