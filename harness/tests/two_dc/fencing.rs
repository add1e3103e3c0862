//! The site fence: once dc2 is promoted, dc1 acknowledges nothing. First the split brain: dc1
//! isolated (the line cut) but alive while dc2 is promoted, orders sent to both; under `sync`
//! dc1's commits wait for a standby that is gone, and once the line is back its engine reads
//! dc2's higher epoch and fences itself. Then dc1 lost and back with its old data: its engine
//! reads the epoch before its first write and starts fenced. Orders go to both engines
//! directly, not through the router, so nothing but the fence (and the synchronous standby)
//! stops dc1 from acknowledging them; the exchange's record shows none of them.

use std::time::{Duration, Instant};

use harness::fault::{Fault, Nemesis};
use harness::platform::{Dc, EngineEndpoint};
use harness::Platform;
use serde_json::Value;
use tonic::Code;

use super::connect;
use super::standby_site::{grpc, order};

/// A client of datacenter `dc`'s PostgreSQL.
async fn site_db(platform: &Platform, dc: Dc) -> tokio_postgres::Client {
    connect(
        &platform
            .datacenter(dc)
            .unwrap()
            .postgres
            .connection_string(false),
    )
    .await
}

async fn role(engine: &EngineEndpoint) -> Value {
    reqwest::get(format!("http://{}/role", engine.http))
        .await
        .expect("the engine's /role answers")
        .json()
        .await
        .expect("as JSON")
}

/// Polls `/role` until it names `want`; the last answer on timeout.
async fn wait_role(engine: &EngineEndpoint, want: &str, within: Duration) -> Value {
    let since = Instant::now();
    loop {
        let now = role(engine).await;
        if now["role"] == want || since.elapsed() > within {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `n` orders to `engine` directly, each given 3 s; the client ids acknowledged.
async fn send_direct(engine: &EngineEndpoint, prefix: &str, n: usize) -> Vec<String> {
    let mut client = grpc(engine).await;
    let mut acked = Vec::new();
    for i in 0..n {
        let cid = format!("{prefix}-{i}");
        let sent = tokio::time::timeout(Duration::from_secs(3), client.submit_order(order(&cid)));
        match sent.await {
            Ok(Ok(_)) => acked.push(cid),
            Ok(Err(status)) => assert_eq!(status.code(), Code::Unavailable, "{cid}: {status:?}"),
            Err(_) => {}
        }
    }
    acked
}

async fn exchange_record(platform: &Platform) -> Vec<Value> {
    let ctp = &platform.datacenter(Dc::Dc1).unwrap().mock_ctp;
    reqwest::Client::new()
        .get(format!("{}/record/orders", ctp.admin))
        .bearer_auth(&ctp.admin_token)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("the front's record answers")
        .json()
        .await
        .expect("as JSON")
}

async fn exchange_orders(platform: &Platform) -> usize {
    exchange_record(platform).await.len()
}

/// Asserts that every order the exchange received from index `from` on came from a CTP session
/// of dc2's engine (as dc2's database records its orders' sessions).
async fn only_dc2_reached_the_exchange(platform: &Platform, from: usize) {
    let dc2 = site_db(platform, Dc::Dc2).await;
    let sessions: Vec<i32> = dc2
        .query(
            "SELECT DISTINCT session_id FROM orders WHERE engine_id = 'dc2-engine-1'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let record = exchange_record(platform).await;
    for order in record.iter().skip(from) {
        let session = order["session_id"].as_i64().unwrap_or(-1) as i32;
        assert!(
            sessions.contains(&session),
            "the exchange received {order} from session {session}, not one of dc2's {sessions:?}"
        );
    }
}

/// Both sites acknowledged orders after dc2's promotion: the split brain the fence prevents.
fn split_brain(from_dc1: &[String], from_dc2: &[String]) -> Option<String> {
    (!from_dc1.is_empty() && !from_dc2.is_empty()).then(|| {
        format!(
            "both sites acknowledged orders after dc2's promotion: dc1 {from_dc1:?}, dc2 {from_dc2:?}"
        )
    })
}

/// Promotes dc2 (`Platform::promote`: its PostgreSQL, then its engine, which takes the next
/// epoch and turns ready).
async fn promote_dc2(platform: &Platform) -> EngineEndpoint {
    platform
        .promote(Dc::Dc2, Duration::from_secs(60))
        .await
        .expect("dc2 is promoted");
    let engine = platform.engine_of(Dc::Dc2).unwrap().clone();
    let now = role(&engine).await;
    assert_eq!(now["role"], "active", "dc2's engine is promoted: {now}");
    assert_eq!(now["serving"]["site"], "dc2", "{now}");
    engine
}

/// dc2 promoted while dc1 is isolated, then dc1 lost and back: dc1 acknowledges nothing
/// either time, and dc2 serves throughout.
pub async fn after_dc2_is_promoted_dc1_acknowledges_nothing_isolated_or_restarted(
    platform: &Platform,
) {
    let dc1 = platform
        .datacenter(Dc::Dc1)
        .unwrap()
        .engine
        .clone()
        .expect("dc1 has an engine");
    let before = role(&dc1).await;
    assert_eq!(before["role"], "active", "{before}");
    assert_eq!(before["serving"]["site"], "dc1", "{before}");
    let dc1_epoch = before["serving"]["epoch"].as_i64().expect("an epoch");

    let mut nemesis = Nemesis::new(platform).readiness_timeout(super::READY);
    let isolated = nemesis
        .inject(&Fault::DatacenterIsolation { dc: Dc::Dc1 })
        .await
        .expect("dc1 is isolated");
    let dc2 = promote_dc2(platform).await;
    let dc2_epoch = role(&dc2).await["serving"]["epoch"].as_i64().unwrap();
    assert!(dc2_epoch > dc1_epoch, "promotion takes a higher epoch");
    let on_exchange = exchange_orders(platform).await;
    let (from_dc1, from_dc2) = tokio::join!(
        send_direct(&dc1, "isolated", 4),
        send_direct(&dc2, "dc2-while-dc1-isolated", 4)
    );
    assert_eq!(split_brain(&from_dc1, &from_dc2), None);
    assert!(
        from_dc1.is_empty(),
        "isolated dc1 acknowledged {from_dc1:?}"
    );
    assert_eq!(from_dc2.len(), 4, "the promoted site serves: {from_dc2:?}");
    let still = role(&dc1).await;
    assert_eq!(
        still["role"], "active",
        "cut off, dc1 cannot read dc2's epoch: {still}"
    );
    nemesis.heal(isolated).await.expect("the line is back");
    let fenced = wait_role(&dc1, "fenced", Duration::from_secs(10)).await;
    assert_eq!(
        fenced["role"], "fenced",
        "the line back, dc1 reads dc2's epoch and fences itself: {fenced}"
    );
    assert_eq!(fenced["superseded_by"]["site"], "dc2", "{fenced}");
    assert_eq!(fenced["superseded_by"]["epoch"], dc2_epoch, "{fenced}");
    let acked = send_direct(&dc1, "fenced-alive", 5).await;
    assert!(acked.is_empty(), "fenced dc1 acknowledged {acked:?}");
    only_dc2_reached_the_exchange(platform, on_exchange).await;

    let lost = nemesis
        .inject(&Fault::DatacenterLoss { dc: Dc::Dc1 })
        .await
        .expect("dc1 is lost");
    nemesis
        .heal(lost)
        .await
        .expect("dc1 comes back (its engine settles fenced)");
    let back = role(&dc1).await;
    assert_eq!(
        back["role"], "fenced",
        "the old primary's engine starts fenced: {back}"
    );
    assert!(back["serving"].is_null(), "it never served: {back}");
    let ready = reqwest::get(format!("http://{}/ready", dc1.http))
        .await
        .unwrap()
        .status();
    assert_eq!(ready, 503, "a fenced engine is never ready");

    let on_exchange = exchange_orders(platform).await;
    let acked = send_direct(&dc1, "fenced-restarted", 10).await;
    assert!(
        acked.is_empty(),
        "the restarted old primary acknowledged {acked:?}"
    );
    let old = site_db(platform, Dc::Dc1).await;
    let written: i64 = old
        .query_one(
            "SELECT count(*) FROM orders WHERE client_order_id LIKE 'fenced-%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(written, 0, "the old primary's database took none of them");
    assert_eq!(
        exchange_orders(platform).await,
        on_exchange,
        "the restarted old primary routed an order"
    );
    let served = send_direct(&dc2, "dc2-after-heal", 5).await;
    assert_eq!(served.len(), 5, "dc2 serves on: {served:?}");
}

/// Under `async` no synchronous standby holds dc1's commits: the fence alone stops it. A
/// healthy dc1 reads dc2's epoch within a second of the promotion and refuses what it is sent;
/// dc1's engine with the `ignore-fence` defect acknowledges beside dc2, and the same judgement
/// calls it a split brain.
#[rstest::rstest]
#[case::healthy(&[], false)]
#[case::ignoring_the_fence(&["ignore-fence"], true)]
#[tokio::test(flavor = "multi_thread")]
async fn under_async_only_the_fence_keeps_the_old_primary_from_acknowledging(
    #[case] defects: &[&str],
    #[case] split: bool,
) {
    let spec = harness::platform::EngineSpec {
        defects: defects.iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    };
    let platform = super::start(
        harness::Topology::two_dc()
            .with_engine_spec(spec)
            .with_replication(harness::platform::Replication::Async),
    )
    .await;
    let dc1 = platform
        .datacenter(Dc::Dc1)
        .unwrap()
        .engine
        .clone()
        .unwrap();
    let dc2 = promote_dc2(&platform).await;
    // Three of a healthy engine's fence reads.
    tokio::time::sleep(3 * Duration::from_secs(1)).await;
    let (from_dc1, from_dc2) = tokio::join!(
        send_direct(&dc1, "old-primary", 4),
        send_direct(&dc2, "new-primary", 4)
    );
    let verdict = split_brain(&from_dc1, &from_dc2);
    eprintln!("defects {defects:?}: {verdict:?}");
    assert_eq!(from_dc2.len(), 4, "the promoted site serves: {from_dc2:?}");
    assert_eq!(
        verdict.is_some(),
        split,
        "dc1 acknowledged {from_dc1:?}, dc2 {from_dc2:?}"
    );
    let dc1_role = role(&dc1).await;
    let want = if split { "active" } else { "fenced" };
    assert_eq!(dc1_role["role"], want, "{dc1_role}");
    super::shutdown_leaves_nothing(platform).await;
}

/// After the promotion, dc2 is the primary site: its engine killed (a pod kill on the new
/// primary) comes back serving, though it was started as a standby: its database is a primary
/// holding dc2's fence.
pub async fn a_promoted_engine_killed_comes_back_serving(platform: &Platform) {
    let dc2 = platform.engine_of(Dc::Dc2).unwrap().clone();
    let mut nemesis = Nemesis::new(platform).readiness_timeout(super::READY);
    let killed = nemesis
        .inject(&Fault::Kill {
            service: "dc2/engine".into(),
        })
        .await
        .expect("dc2's engine is killed");
    nemesis
        .heal(killed)
        .await
        .expect("dc2's engine starts again");
    platform
        .wait_engine_ready(Dc::Dc2, Duration::from_secs(60))
        .await
        .expect("the restarted engine of the promoted site turns ready");
    let now = role(&dc2).await;
    assert_eq!(now["role"], "active", "{now}");
    assert_eq!(now["serving"]["site"], "dc2", "{now}");
    let served = send_direct(&dc2, "dc2-after-kill", 5).await;
    assert_eq!(
        served.len(),
        5,
        "the promoted site serves again: {served:?}"
    );
}

/// Two sites promoted by mistake while cut off from each other: dc2 promoted with dc1
/// isolated, and dc1's database given the same epoch for dc1, under which dc1's engine,
/// restarted while still cut off, serves (what a second promotion leaves behind). Tokens rank
/// by epoch, then site, so once the line is back exactly one site serves: dc1 reads dc2's
/// token, level in epoch and ranking higher, and fences itself; dc2 reads dc1's and serves on.
/// With a tie that ranked neither (the engine before 107e2c6), both served on.
#[tokio::test(flavor = "multi_thread")]
async fn of_two_sites_promoted_to_the_same_epoch_exactly_one_serves_once_they_meet() {
    let platform = super::start(
        harness::Topology::two_dc().with_replication(harness::platform::Replication::Async),
    )
    .await;
    let dc1 = platform.engine_of(Dc::Dc1).unwrap().clone();
    let mut nemesis = Nemesis::new(&platform).readiness_timeout(super::READY);
    let isolated = nemesis
        .inject(&Fault::DatacenterIsolation { dc: Dc::Dc1 })
        .await
        .expect("dc1 is isolated");
    let dc2 = promote_dc2(&platform).await;
    let epoch = role(&dc2).await["serving"]["epoch"].as_i64().unwrap();
    let promoted_by_mistake = site_db(&platform, Dc::Dc1)
        .await
        .execute(
            "UPDATE site_fence SET epoch = $1, taken_at = now() WHERE id = 1 AND site = 'dc1'",
            &[&epoch],
        )
        .await
        .expect("dc1's fence is written");
    assert_eq!(promoted_by_mistake, 1, "dc1's database held dc1's fence");
    let killed = nemesis
        .inject(&Fault::Kill {
            service: "dc1/engine".into(),
        })
        .await
        .expect("dc1's engine is killed");
    nemesis
        .heal(killed)
        .await
        .expect("dc1's engine comes back, still cut off");
    let cut_off = role(&dc1).await;
    assert_eq!(
        cut_off["role"], "active",
        "cut off, dc1 serves under its own token: {cut_off}"
    );
    assert_eq!(cut_off["serving"]["site"], "dc1", "{cut_off}");
    assert_eq!(
        cut_off["serving"]["epoch"], epoch,
        "level with dc2: {cut_off}"
    );

    nemesis.heal(isolated).await.expect("the line is back");
    let fenced = wait_role(&dc1, "fenced", Duration::from_secs(10)).await;
    assert_eq!(
        fenced["role"], "fenced",
        "dc1 reads dc2's token, level in epoch, ranking higher: {fenced}"
    );
    assert_eq!(fenced["superseded_by"]["site"], "dc2", "{fenced}");
    assert_eq!(fenced["superseded_by"]["epoch"], epoch, "{fenced}");
    // Three of dc2's own fence reads, each of which now sees dc1's level token.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let on = role(&dc2).await;
    assert_eq!(on["role"], "active", "dc2 serves on: {on}");
    let (from_dc1, from_dc2) = tokio::join!(
        send_direct(&dc1, "level-dc1", 4),
        send_direct(&dc2, "level-dc2", 4)
    );
    assert_eq!(split_brain(&from_dc1, &from_dc2), None);
    assert_eq!(from_dc2.len(), 4, "dc2 serves: {from_dc2:?}");
    drop(nemesis);
    super::shutdown_leaves_nothing(platform).await;
}
