//! A two-datacenter start interrupted by Ctrl-C leaves nothing, and bad input is refused before
//! anything starts, naming the field.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::platform::resources_of_run;
use harness::{Error, Platform, Topology};

/// The run id in a `starting the platform` log line (ANSI colours removed).
fn run_of(line: &str) -> Option<String> {
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    if !plain.contains("starting the platform") {
        return None;
    }
    let rest = plain.split("run=").nth(1)?.trim_start_matches('"');
    Some(rest.chars().take_while(char::is_ascii_hexdigit).collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_in_the_middle_of_a_two_datacenter_start_leaves_nothing() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "up",
            "--no-build",
            "--topology",
            "two-dc",
            "--for-seconds",
            "300",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("harness up starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(run) = run_of(&line) {
                let _ = tx.send(run);
            }
        }
    });
    let run = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("harness up logs its run id");
    // Mid-start: once some of the run exists, well before it is ready.
    let since = Instant::now();
    while resources_of_run(&run).await.unwrap().len() < 4 {
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "the run never created anything"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(128 + 2),
        "exits as SIGINT's default would"
    );
    let left = resources_of_run(&run).await.unwrap();
    assert!(left.is_empty(), "Ctrl-C mid-start left {left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_site_standby_on_two_datacenters_is_refused_naming_the_field() {
    let err = Platform::builder()
        .topology(Topology::two_dc().with_postgres_standby())
        .start()
        .await
        .expect_err("two sites already have their standby in dc2");
    let Error::Config { field, reason } = &err else {
        panic!("expected a config error, got {err}")
    };
    assert_eq!(field, "postgres_standby");
    assert!(reason.contains("dc2"), "{reason}");
}

#[test]
fn an_unknown_replication_mode_is_refused_by_the_cli_naming_the_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "up",
            "--no-build",
            "--topology",
            "two-dc",
            "--replication",
            "semi",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("harness runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--replication") && stderr.contains("sync or async"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_topology_is_refused_by_the_cli_listing_the_known_ones() {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["up", "--no-build", "--topology", "three-dc"])
        .stdin(Stdio::null())
        .output()
        .expect("harness runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--topology") && stderr.contains("two-dc"),
        "{stderr}"
    );
}
