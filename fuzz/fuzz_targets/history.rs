//! A run's `history.jsonl` as `harness check` and `harness repro` read it back (a file from
//! another run, cut short, edited by hand): parsed or refused naming the line, and every check
//! of the standard set judges what parsed without panicking.
#![no_main]

use harness::check::{judge, standard, LatencyCheck, Observations};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(history) = harness::history::parse(std::path::Path::new("history.jsonl"), data) else {
        return;
    };
    let _ = judge(
        &standard(LatencyCheck::default()),
        &history,
        &Observations::default(),
    );
});
