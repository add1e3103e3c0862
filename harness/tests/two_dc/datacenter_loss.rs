//! `datacenter_loss` played by the nemesis: every container of a site killed at once, then
//! started again with its volumes. Losing dc2 under `sync` holds dc1's commits (no standby can
//! confirm them) until dc2 is back; losing dc1 leaves dc2's standby readable, and the old
//! primary returns with its data and dc2 streams from it again.

use std::time::{Duration, Instant};

use harness::fault::{Fault, Nemesis};
use harness::platform::{replication_status, Dc, Replication};
use harness::Platform;

use super::{connect, probe_rows};

/// Whether every container of `dc` runs, from Docker's view, by the roles the platform names.
async fn running(platform: &Platform, dc: Dc) -> Vec<(String, bool)> {
    let prefix = |role: &str| match dc {
        Dc::Dc1 => !role.starts_with("dc2-") && role != "mock-ctp" && role != "interdc",
        Dc::Dc2 => role.starts_with("dc2-"),
    };
    let mut states = Vec::new();
    for role in platform.services().into_iter().filter(|r| prefix(r)) {
        let name = format!("h-{}-{role}", platform.run_id());
        let out = std::process::Command::new("docker")
            .args(["inspect", "-f", "{{.State.Running}}", &name])
            .output()
            .expect("docker inspect runs");
        states.push((role, String::from_utf8_lossy(&out.stdout).trim() == "true"));
    }
    states
}

/// Under `sync`, with dc2 lost a commit on dc1 waits; dc2 healed, it returns, dc2 streams as
/// the synchronous standby again and its engine is back as a standby.
pub async fn losing_dc2_holds_sync_commits_until_it_is_back(platform: &Platform) {
    let dc1 = platform.datacenter(Dc::Dc1).unwrap().postgres.clone();
    let primary = connect(&dc1.connection_string(false)).await;
    let mut nemesis = Nemesis::new(platform).readiness_timeout(super::READY);
    let injected = nemesis
        .inject(&Fault::DatacenterLoss { dc: Dc::Dc2 })
        .await
        .expect("dc2 is lost");
    let states = running(platform, Dc::Dc2).await;
    assert!(
        states.len() >= 5 && states.iter().all(|(_, up)| !up),
        "every dc2 container is down: {states:?}"
    );
    assert!(
        running(platform, Dc::Dc1).await.iter().all(|(_, up)| *up),
        "dc1 runs on"
    );
    let insert = primary.execute("INSERT INTO dr_probe VALUES (1000)", &[]);
    tokio::pin!(insert);
    let held = tokio::time::timeout(Duration::from_secs(3), &mut insert).await;
    assert!(
        held.is_err(),
        "a sync commit returned with dc2 lost: {held:?}"
    );

    let since = Instant::now();
    nemesis.heal(injected).await.expect("dc2 comes back");
    eprintln!(
        "dc2 back (every service ready) in {:.1} s",
        since.elapsed().as_secs_f64()
    );
    tokio::time::timeout(Duration::from_secs(60), insert)
        .await
        .expect("the held commit returns once dc2 is back")
        .expect("and succeeds");
    let status = replication_status(&dc1.connection_string(false))
        .await
        .unwrap();
    assert!(status.is_streaming_as(Replication::Sync), "{status:?}");
    let dc2 = platform.datacenter(Dc::Dc2).unwrap().postgres.clone();
    let standby = connect(&dc2.connection_string(false)).await;
    assert_eq!(probe_rows(&standby, 1000).await, 1);
}

/// dc1 lost: dc2's standby still answers with what it had; dc1 healed, its primary has its
/// old rows and dc2 streams from it again.
pub async fn losing_dc1_leaves_dc2_readable_and_the_primary_returns_with_its_data(
    platform: &Platform,
) {
    let dc1 = platform.datacenter(Dc::Dc1).unwrap().postgres.clone();
    let dc2 = platform.datacenter(Dc::Dc2).unwrap().postgres.clone();
    let mut nemesis = Nemesis::new(platform).readiness_timeout(super::READY);
    let injected = nemesis
        .inject(&Fault::DatacenterLoss { dc: Dc::Dc1 })
        .await
        .expect("dc1 is lost");
    let states = running(platform, Dc::Dc1).await;
    assert!(
        states.len() >= 4 && states.iter().all(|(_, up)| !up),
        "every dc1 container is down: {states:?}"
    );
    let standby = connect(&dc2.connection_string(false)).await;
    assert_eq!(
        probe_rows(&standby, 7).await,
        1,
        "dc2 keeps what had crossed the line"
    );
    nemesis.heal(injected).await.expect("dc1 comes back");
    let primary = connect(&dc1.connection_string(false)).await;
    assert_eq!(
        probe_rows(&primary, 7).await,
        1,
        "the old primary kept its data"
    );
    let since = Instant::now();
    loop {
        let status = replication_status(&dc1.connection_string(false))
            .await
            .unwrap();
        if status.is_streaming_as(Replication::Async) {
            break;
        }
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "dc2 never streamed again: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
