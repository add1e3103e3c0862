//! Nothing is left behind: not after a panic mid-test (Drop removes the run), not after the
//! harness process is told to stop with SIGTERM or Ctrl-C (its signal handler removes the run
//! before it exits), not after it is killed with SIGKILL (the next sweep removes the run).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use harness::platform::{resources_of_run, sweep_dead_runs};

#[tokio::test(flavor = "multi_thread")]
async fn a_test_that_panics_midway_leaves_nothing_behind() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let platform = super::platform().await;
                tx.send(platform.run_id().to_string()).unwrap();
                panic!("a test fails mid-way with its platform running");
            })
    })
    .join();
    assert!(outcome.is_err(), "the thread panicked");
    let run = rx.recv().expect("the platform had started");
    let left = resources_of_run(&run).await.unwrap();
    assert!(left.is_empty(), "a panicking test left {left:?}");
}

/// Starts `harness up` for five minutes and waits for it to be ready; returns it and its run.
fn harness_up() -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["up", "--no-build", "--for-seconds", "300"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .expect("harness up starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut run = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("run ") {
                run = rest.split_whitespace().next().map(str::to_string);
            }
            if line == "ready" {
                let _ = tx.send(run.clone());
            }
        }
    });
    let run = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("harness up reports ready")
        .expect("a run id");
    (child, run)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_harness_leaves_nothing_after_the_next_sweep() {
    let (mut child, run) = harness_up();
    assert!(
        !resources_of_run(&run).await.unwrap().is_empty(),
        "the run's resources exist while it runs"
    );

    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    assert!(
        !resources_of_run(&run).await.unwrap().is_empty(),
        "SIGKILL leaves the run behind, as a crash does"
    );

    sweep_dead_runs().await.expect("the sweep runs");
    let left = resources_of_run(&run).await.unwrap();
    assert!(
        left.is_empty(),
        "after the sweep, the killed run left {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terminated_harness_removes_its_run_before_it_exits() {
    let (mut child, run) = harness_up();
    assert!(!resources_of_run(&run).await.unwrap().is_empty());
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(128 + 15),
        "exits as SIGTERM's default would"
    );
    let left = resources_of_run(&run).await.unwrap();
    assert!(left.is_empty(), "SIGTERM left {left:?} (no sweep ran)");
}
