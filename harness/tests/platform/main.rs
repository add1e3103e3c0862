//! Real-container tests of the platform under test: services through their proxies, the mock CTP front through its links, link
//! faults, the PostgreSQL standby, cleanup after panics and kills, and bad input. They need the
//! images (`cargo run -p harness -- images build`, which `scripts/test` runs first).

mod bad_input;
mod cleanup;
mod engine;
mod exchange;
mod links;
mod services;
mod standby;

use harness::Platform;

/// Starts the default single-datacenter platform for one test.
pub async fn platform() -> Platform {
    Platform::builder()
        .start()
        .await
        .expect("the platform starts")
}
