//! The trading engine in the platform: pinned to the cpuset asked for and confined as the
//! platform's manifests ask (both checked from inside the container by the platform), healthy,
//! reporting its image's version, exposing its metrics; a broken engine image is named.

use harness::platform::EngineSpec;
use harness::{Platform, Service, Topology};

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_runs_pinned_healthy_and_measured() {
    let began = std::time::Instant::now();
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
    // Read from inside the container: uid, CapEff, NoNewPrivs, the root mount and a refused
    // write, as the platform's manifests ask.
    let security = &engine.security;
    assert!(
        security.is_least_privilege(),
        "the engine runs with {:?}: {:?}",
        security,
        security.shortfalls()
    );
    assert_eq!(security.uid, 1000);
    // The version it reports is its image's content tag, baked in at build.
    let image = &platform.images()[&Service::Engine];
    let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap();
    assert_eq!(
        engine.version.as_deref(),
        Some(tag),
        "the engine of {image}"
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
    assert!(
        metrics.contains(&format!(
            "engine_build_info{{version=\"{tag}\",engine_id=\"dc1-engine-1\"}} 1"
        )),
        "/metrics lacks engine_build_info of {tag}"
    );
    let unauthorised = reqwest::Client::new()
        .post(format!("http://{}/admin/stop-order-reception", engine.http))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401, "admin routes need the token");
    // Every container's CPU time so far: each started, so each spent some, and none more
    // than the wall time since the test began on every core of the machine.
    let cpu = platform.cpu_used().await.expect("containers' cpu time");
    let services = platform.services();
    assert_eq!(cpu.len(), services.len(), "{cpu:?} for {services:?}");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    for (role, used) in &cpu {
        assert!(!used.is_zero(), "{role} used no cpu: {cpu:?}");
        assert!(
            *used < began.elapsed() * cores,
            "{role} used {used:?} in {:?}",
            began.elapsed()
        );
    }
    platform.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_engine_image_is_named_and_nothing_is_left() {
    let builder = Platform::builder().topology(Topology::single_dc().with_engine());
    super::assert_never_ready_is_named_and_removed(builder, Service::Engine).await;
}
