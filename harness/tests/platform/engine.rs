//! The trading engine in the platform: pinned to the cpuset asked for (checked from inside the
//! container by the platform), healthy, exposing its metrics; a broken engine image is named.

use std::time::Duration;

use harness::platform::{resources_of_run, EngineSpec};
use harness::{Error, Manifest, Platform, Service, Topology};

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_runs_pinned_healthy_and_measured() {
    let spec = EngineSpec {
        cpus: Some("0".into()),
        ..EngineSpec::default()
    };
    let platform = Platform::builder()
        .topology(Topology::single_dc().with_engine_spec(spec))
        .start()
        .await
        .expect("the platform with the engine starts");
    let engine = platform
        .endpoints()
        .engine
        .clone()
        .expect("an engine endpoint");
    assert_eq!(
        engine.cpus, "0",
        "the platform verified the pinning it reports"
    );

    let health: serde_json::Value = reqwest::get(format!("http://{}/health", engine.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "UP");
    let metrics = reqwest::get(format!("http://{}/metrics", engine.http))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "order_processing_latency_ns",
        "tick_processing_latency_ns",
        "orders_processed_total",
        "order_errors_total",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}");
    }
    let unauthorised = reqwest::Client::new()
        .post(format!("http://{}/admin/stop-order-reception", engine.http))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401, "admin routes need the token");
    platform.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_engine_image_is_named_and_nothing_is_left() {
    let manifest = Manifest::load(&harness::workspace_root()).unwrap();
    // The redis image runs, but it is no trading engine: /ready never answers.
    let broken = manifest.images[&Service::Redis].clone();
    let err = Platform::builder()
        .topology(Topology::single_dc().with_engine())
        .image(Service::Engine, broken)
        .readiness_timeout(Duration::from_secs(5))
        .start()
        .await
        .expect_err("a broken engine image cannot become ready");
    let Error::NotReady {
        service, container, ..
    } = &err
    else {
        panic!("expected NotReady, got {err}")
    };
    assert_eq!(service, "engine");
    let run = container
        .trim_start_matches("h-")
        .split('-')
        .next()
        .unwrap()
        .to_string();
    assert!(
        resources_of_run(&run).await.unwrap().is_empty(),
        "a failed start leaves nothing"
    );
}
