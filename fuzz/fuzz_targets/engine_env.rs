//! The reference engine's environment (`KEY=value` lines, as an operator or the harness sets
//! them): a configuration, or an error naming the variable.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let _ = engine::config::Config::from_lookup(|k| env.get(k).map(|v| v.to_string()));
});
