//! Bad input gets a clear error naming the service and what to do, within a bounded time, and
//! leaves nothing behind.

use std::time::{Duration, Instant};

use harness::{Error, Platform, Service};

#[tokio::test(flavor = "multi_thread")]
async fn an_image_override_that_does_not_exist_is_named() {
    let started = Instant::now();
    let err = Platform::builder()
        .image(Service::Redis, "harness/no-such-image:0")
        .start()
        .await
        .expect_err("a missing image cannot start");
    assert!(
        matches!(&err, Error::ImageMissing { service, .. } if service == "redis"),
        "got {err}"
    );
    assert!(
        err.to_string().contains("harness/no-such-image:0"),
        "the message names the image: {err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "bounded in time"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_never_becomes_ready_is_named_and_removed() {
    super::assert_never_ready_is_named_and_removed(Platform::builder(), Service::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_clash_is_named() {
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = Platform::builder()
        .publish_base(port)
        .start()
        .await
        .expect_err("the port is taken");
    assert!(
        matches!(&err, Error::PortInUse { service, port: p } if service == "postgres" && *p == port),
        "got {err}"
    );
}

#[test]
fn no_docker_daemon_is_a_clear_error_and_its_own_exit_code() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("sweep")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(3),
        "environment failures exit 3: {stderr}"
    );
    assert!(
        stderr.contains("docker daemon at unix:///nonexistent/docker.sock is not reachable"),
        "{stderr}"
    );
}

/// `harness certify` refuses what it cannot run before anything starts, naming the field or the
/// image, with the CLI's exit codes: 1 for a usage error, 3 for an environment that cannot
/// start (here an engine image that does not exist).
#[rstest::rstest]
#[case::unknown_drill(&["--drills", "dc-loss,failback-now"], 1, "invalid drills: \"failback-now\" is not a drill")]
#[case::target_without_unit(&["--tier1-rto", "5"], 1, "invalid --tier1-rto: \"5\" has no unit")]
#[case::target_with_unknown_unit(&["--tier2-rpo", "1d"], 1, "invalid --tier2-rpo: unknown unit \"d\"")]
#[case::replication_that_does_not_exist(&["--replication", "semi"], 2, "\"semi\" is not a replication mode")]
#[case::engine_image_that_does_not_exist(
    &["--drills", "dc-loss", "--engine-image", "harness/engine:no-such-tag"],
    3,
    "image harness/engine:no-such-tag for service engine does not exist"
)]
fn certify_refuses_bad_input_naming_it(
    #[case] args: &[&str],
    #[case] code: i32,
    #[case] says: &str,
) {
    let runs = std::env::temp_dir().join(format!("certify-bad-{}-{code}", std::process::id()));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("certify")
        .args(args)
        .arg("--no-build")
        .env("HARNESS_RUNS_DIR", &runs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    let _ = std::fs::remove_dir_all(&runs);
}
