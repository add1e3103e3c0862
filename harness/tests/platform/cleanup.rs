//! Nothing is left behind: not after a panic mid-test (Drop removes the run), not after the
//! harness process is told to stop with SIGTERM or Ctrl-C (its signal handler removes the run
//! before it exits), not after it is killed with SIGKILL (the next sweep removes the run).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use harness::platform::{resources_of_run, sweep_dead_runs};
use harness::{Manifest, Service};

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

/// Runs the docker CLI; returns its trimmed stdout.
fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Removes a container that carries no run label (so no sweep would) when the test ends, with
/// its anonymous volumes (the image declares one).
struct Holder(String);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.0])
            .output();
    }
}

/// A network of a dead run that a container still holds (one whose create Docker served after
/// the sweep listed the run, or one a second sweep is removing) is removed once it is free:
/// the sweep lists the run again until nothing of it is left, instead of failing on
/// "active endpoints" (a CI run failed so when two sweeps met on one run).
#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_removes_a_held_network_once_it_is_free() {
    let image = Manifest::load(&harness::workspace_root()).unwrap().images[&Service::Redis].clone();
    let run = format!("held{}", std::process::id());
    let network = format!("h-{run}-net");
    // An owner that cannot be alive: another boot.
    docker(&[
        "network",
        "create",
        "--label",
        &format!("harness.run={run}"),
        "--label",
        "harness.owner.pid=1",
        "--label",
        "harness.owner.start=0",
        "--label",
        "harness.owner.boot=another-boot",
        &network,
    ]);
    let holder = Holder(docker(&["run", "-d", "--network", &network, &image]));
    let sweep = tokio::spawn(sweep_dead_runs());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !resources_of_run(&run).await.unwrap().is_empty(),
        "the held network cannot go while the container is on it"
    );
    drop(holder);
    let swept = sweep
        .await
        .unwrap()
        .expect("the sweep removes the network once it is free");
    assert!(swept.contains(&run), "{run} was swept: {swept:?}");
    let left = resources_of_run(&run).await.unwrap();
    assert!(left.is_empty(), "the sweep left {left:?}");
}
