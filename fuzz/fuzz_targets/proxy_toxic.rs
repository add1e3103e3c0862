//! The fault proxy's toxic bodies (`POST /proxies/{name}/toxics` and its update): any JSON.
//! A body creates a toxic or is refused with an error; a created toxic takes a second body as
//! an update, and its view (what `GET` answers) serialises.
#![no_main]

use faultproxy::Toxic;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    // Two bodies separated by a NUL byte: the create and the update.
    let (create, update) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Some(body) = object(create) else {
        return;
    };
    let Ok(mut toxic) = Toxic::from_request(&body) else {
        return;
    };
    serde_json::to_vec(&toxic.view()).expect("a toxic's view serialises");
    if let Some(body) = object(update) {
        let _ = toxic.update(&body);
        serde_json::to_vec(&toxic.view()).expect("an updated toxic's view serialises");
    }
});
