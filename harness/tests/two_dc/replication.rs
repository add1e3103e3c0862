//! What each replication mode promises across the inter-DC line, shown by cutting the line:
//! under `sync` a commit on dc1 does not return while dc2 cannot have it, and returns once the
//! line is back with the row already on dc2; under `async` it returns at once and dc2 catches
//! up after the line is back.

use std::time::{Duration, Instant};

use harness::fault::{Fault, Nemesis, Stream};
use harness::platform::{replication_status, Dc, Replication};
use harness::{Platform, Topology};
use noxious_client::Client;

use super::{connect, probe_rows};

/// Cuts the line's replication link of `platform` (open connections closed, new ones refused).
async fn cut_line(platform: &Platform) -> noxious_client::Proxy {
    let line = platform
        .line()
        .expect("a two-datacenter platform has a line");
    let mut link = Client::new(&line.api)
        .proxy(&line.replication_link)
        .await
        .expect("the replication link exists");
    link.disable().await.expect("the line is cut");
    link
}

/// Waits until `id` is on dc2, for at most `limit`; returns how long that took.
async fn wait_on_dc2(dc2: &tokio_postgres::Client, id: i64, limit: Duration) -> Duration {
    let since = Instant::now();
    while probe_rows(dc2, id).await == 0 {
        assert!(
            since.elapsed() < limit,
            "row {id} never reached dc2 within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    since.elapsed()
}

/// Under `sync` (remote_apply), with the line cut a commit waits; healed, it returns and the
/// row is on dc2 the moment it does. Called by the standby-site test, which owns a `sync`
/// platform.
pub async fn sync_holds_commits_while_the_line_is_cut(platform: &Platform) {
    let dc1 = platform.datacenter(Dc::Dc1).unwrap().postgres.clone();
    let dc2 = platform.datacenter(Dc::Dc2).unwrap().postgres.clone();
    let status = replication_status(&dc1.connection_string(false))
        .await
        .unwrap();
    assert!(
        status.is_streaming_as(Replication::Sync),
        "dc2 is the synchronous standby: {status:?}"
    );
    let primary = connect(&dc1.connection_string(false)).await;
    let standby = connect(&dc2.connection_string(false)).await;
    primary
        .batch_execute("CREATE TABLE IF NOT EXISTS dr_probe (id bigint PRIMARY KEY)")
        .await
        .unwrap();
    primary
        .execute("INSERT INTO dr_probe VALUES (1)", &[])
        .await
        .unwrap();
    assert_eq!(
        probe_rows(&standby, 1).await,
        1,
        "remote_apply: a returned commit is already visible on dc2"
    );

    let mut link = cut_line(platform).await;
    let insert = primary.execute("INSERT INTO dr_probe VALUES (2)", &[]);
    tokio::pin!(insert);
    let held = tokio::time::timeout(Duration::from_secs(3), &mut insert).await;
    assert!(
        held.is_err(),
        "under sync a commit returned while dc2 was cut off: {held:?}"
    );
    assert_eq!(probe_rows(&standby, 2).await, 0, "dc2 cannot have it yet");

    link.enable().await.expect("the line is back");
    let since = Instant::now();
    tokio::time::timeout(Duration::from_secs(60), insert)
        .await
        .expect("the held commit returns once the line is back")
        .expect("and succeeds");
    eprintln!(
        "sync: the held commit returned {:.1} s after the line came back",
        since.elapsed().as_secs_f64()
    );
    assert_eq!(
        probe_rows(&standby, 2).await,
        1,
        "the released commit is already on dc2"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn async_replication_commits_at_once_and_dc2_catches_up_after_the_line_heals() {
    let platform = super::start(
        Topology::two_dc()
            .without_engines()
            .with_replication(Replication::Async),
    )
    .await;
    assert_eq!(platform.line().unwrap().replication, Replication::Async);
    let dc1 = platform.datacenter(Dc::Dc1).unwrap().postgres.clone();
    let dc2 = platform.datacenter(Dc::Dc2).unwrap().postgres.clone();
    let status = replication_status(&dc1.connection_string(false))
        .await
        .unwrap();
    assert!(
        status.is_streaming_as(Replication::Async) && status.sync_state.as_deref() == Some("async"),
        "dc2 streams asynchronously: {status:?}"
    );
    let primary = connect(&dc1.connection_string(false)).await;
    let standby = connect(&dc2.connection_string(false)).await;
    primary
        .batch_execute("CREATE TABLE dr_probe (id bigint PRIMARY KEY)")
        .await
        .unwrap();
    wait_on_table(&standby).await;

    let mut link = cut_line(&platform).await;
    let since = Instant::now();
    tokio::time::timeout(
        Duration::from_secs(5),
        primary.execute("INSERT INTO dr_probe VALUES (7)", &[]),
    )
    .await
    .expect("under async a commit does not wait for dc2")
    .unwrap();
    let took = since.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        probe_rows(&standby, 7).await,
        0,
        "a cut line carried the row to dc2"
    );
    let status = replication_status(&dc1.connection_string(false))
        .await
        .unwrap();
    assert_eq!(status.state, None, "dc2 is disconnected: {status:?}");

    link.enable().await.expect("the line is back");
    let caught_up = wait_on_dc2(&standby, 7, Duration::from_secs(60)).await;
    eprintln!(
        "async: commit took {:.1} ms with the line cut; dc2 had it {:.1} s after the heal",
        took.as_secs_f64() * 1e3,
        caught_up.as_secs_f64()
    );
    super::datacenter_loss::losing_dc1_leaves_dc2_readable_and_the_primary_returns_with_its_data(
        &platform,
    )
    .await;
    super::shutdown_leaves_nothing(platform).await;
}

/// Waits until the table created on dc1 exists on dc2.
async fn wait_on_table(standby: &tokio_postgres::Client) {
    let since = Instant::now();
    while standby
        .query_opt("SELECT 1 FROM pg_tables WHERE tablename = 'dr_probe'", &[])
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "dr_probe never reached dc2"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The median of five commits on dc1.
async fn median_commit(primary: &tokio_postgres::Client, first_id: i64) -> Duration {
    let mut took = Vec::new();
    for id in first_id..first_id + 5 {
        let since = Instant::now();
        primary
            .execute("INSERT INTO dr_probe VALUES ($1)", &[&id])
            .await
            .unwrap();
        took.push(since.elapsed());
    }
    took.sort();
    took[2]
}

/// A latency fault on the line, played by the nemesis like any link fault, slows every `sync`
/// commit by at least the WAL's delay to dc2; healed, commits are fast again.
pub async fn a_slowed_line_slows_sync_commits(platform: &Platform) {
    let dc1 = platform.datacenter(Dc::Dc1).unwrap().postgres.clone();
    let primary = connect(&dc1.connection_string(false)).await;
    let before = median_commit(&primary, 100).await;
    let mut nemesis = Nemesis::new(platform);
    let fault = Fault::Latency {
        link: platform.line().unwrap().replication_link.clone(),
        stream: Stream::Downstream,
        latency_ms: 60,
        jitter_ms: 0,
    };
    let injected = nemesis.inject(&fault).await.expect("the line slows down");
    let during = median_commit(&primary, 200).await;
    nemesis.heal(injected).await.expect("the line heals");
    let after = median_commit(&primary, 300).await;
    eprintln!("sync commit median: before {before:?}, line +60 ms {during:?}, healed {after:?}");
    let line_rtt = 2 * Duration::from_millis(platform.line().unwrap().latency_ms.into());
    assert!(
        before >= line_rtt && after >= line_rtt,
        "a sync commit ({before:?}, healed {after:?}) waits at least for the line's own round \
         trip ({line_rtt:?})"
    );
    assert!(
        during >= Duration::from_millis(60),
        "a commit waited {during:?} with the WAL 60 ms late to dc2"
    );
    assert!(
        after < Duration::from_millis(50),
        "healed, commits still take {after:?}"
    );
}
