//! The files a user gives the mock CTP front: `instruments.json` and a market-data capture
//! (CSV). The first byte chooses which; each is parsed or refused with a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_ctp::exchange::instruments;
use mock_ctp::server::md_replay;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if which % 2 == 0 {
        let _ = instruments::parse(text);
    } else {
        let _ = md_replay::parse_csv("rb2410", text);
    }
});
