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

use std::time::Duration;

use harness::platform::resources_of_run;
use harness::{Error, Manifest, Platform, PlatformBuilder, Service};

/// Starts `builder` with `service` run from the redis image, which starts but never answers
/// that service's readiness probe; asserts the error names the service and the failed start
/// left nothing behind.
pub async fn assert_never_ready_is_named_and_removed(builder: PlatformBuilder, service: Service) {
    let manifest = Manifest::load(&harness::workspace_root()).unwrap();
    let not_it = manifest.images[&Service::Redis].clone();
    let err = builder
        .image(service, not_it)
        // Only the service under test gets the short limit: with one limit for all, a
        // dependency slow to start under load was named instead (once in a CI run).
        .readiness_timeout_of(service, Duration::from_secs(4))
        .start()
        .await
        .expect_err("a service that never answers cannot start");
    let Error::NotReady {
        service: named,
        container,
        ..
    } = &err
    else {
        panic!("expected NotReady, got {err}")
    };
    assert_eq!(named, service.name());
    let run = container
        .trim_start_matches("h-")
        .split('-')
        .next()
        .unwrap()
        .to_string();
    let left = resources_of_run(&run).await.unwrap();
    assert!(left.is_empty(), "a failed start left {left:?}");
}

/// Starts the default single-datacenter platform for one test.
pub async fn platform() -> Platform {
    Platform::builder()
        .start()
        .await
        .expect("the platform starts")
}
