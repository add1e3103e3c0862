//! A chaos fault mix file (`harness chaos --mix`), TOML or JSON: accepted, or refused naming
//! the kind or rate.
#![no_main]

use harness::chaos::FaultMix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let _ = FaultMix::parse(text, which % 2 == 0, "fuzz.mix");
});
