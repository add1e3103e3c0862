//! Fault schedules and single faults as a user writes them (`harness faults --schedule`, the
//! features' fault tables): JSON or TOML, checked against a two-datacenter platform's links and
//! services. Each is accepted or refused with an error naming where.
#![no_main]

use harness::fault::{Catalogue, Fault, Schedule};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let catalogue = Catalogue {
        links: ["ctp", "postgres", "redis", "kafka", "postgres-replication"]
            .map(String::from)
            .to_vec(),
        services: [
            "engine",
            "postgres",
            "redis",
            "kafka",
            "dc2-engine",
            "dc2-postgres",
        ]
        .map(String::from)
        .to_vec(),
    };
    let path = std::path::Path::new("fuzz.schedule");
    match which % 3 {
        0 => {
            if let Ok(s) = Schedule::from_json(text, Some(path)) {
                let _ = s.validate(&catalogue, Some(path));
            }
        }
        1 => {
            if let Ok(s) = Schedule::from_toml(text, Some(path)) {
                let _ = s.validate(&catalogue, Some(path));
            }
        }
        _ => {
            if let Ok(f) = Fault::from_json(text) {
                let _ = f.validate(&catalogue);
                let _ = (f.kind(), f.target());
            }
        }
    }
});
