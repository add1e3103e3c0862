//! The default two-datacenter platform: dc1's engine active, dc2's a standby on a read-only
//! PostgreSQL standby; an order dc1's engine acknowledges is on dc2 when the client hears of
//! it; dc2's engine takes no order; each site has its own network and its own proxy in front
//! of the same mock CTP front.

use contract::trading::v1::order_service_client::OrderServiceClient;
use contract::trading::v1::{Offset, Side, SubmitOrderRequest};
use harness::platform::{Dc, EngineEndpoint};
use harness::Topology;
use tonic::Code;

use super::connect;

/// A one-lot buy of rb2410 at 3600 for investor 000001.
pub(super) fn order(client_order_id: &str) -> SubmitOrderRequest {
    SubmitOrderRequest {
        client_order_id: client_order_id.into(),
        account_id: "000001".into(),
        instrument_id: "rb2410".into(),
        side: Side::Buy as i32,
        offset: Offset::Open as i32,
        limit_price: 3600.0,
        volume: 1,
    }
}

pub(super) async fn grpc(engine: &EngineEndpoint) -> OrderServiceClient<tonic::transport::Channel> {
    OrderServiceClient::connect(format!("http://{}", engine.grpc))
        .await
        .expect("the engine's gRPC answers")
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sites_start_with_a_standby_engine_and_dc2_has_every_acknowledged_order() {
    let platform = super::start(Topology::two_dc()).await;
    let dc1 = platform.datacenter(Dc::Dc1).unwrap().clone();
    let dc2 = platform.datacenter(Dc::Dc2).unwrap().clone();
    assert_eq!(platform.datacenters(), vec![Dc::Dc1, Dc::Dc2]);
    assert_ne!(dc1.network, dc2.network, "each site has its own network");
    assert_ne!(dc1.faultproxy_api, dc2.faultproxy_api, "and its own proxy");
    assert_eq!(
        dc1.mock_ctp.admin, dc2.mock_ctp.admin,
        "one exchange outside both"
    );
    assert_ne!(dc1.mock_ctp.trade.proxied, dc2.mock_ctp.trade.proxied);
    for role in [
        "engine",
        "dc2-engine",
        "dc2-postgres",
        "interdc",
        "mock-ctp",
    ] {
        assert!(
            platform.services().iter().any(|s| s == role),
            "{role} runs: {:?}",
            platform.services()
        );
    }

    let standby = connect(&dc2.postgres.connection_string(false)).await;
    let recovering: bool = standby
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(recovering, "dc2's PostgreSQL is a standby");

    let dc2_engine = dc2.engine.clone().expect("dc2 has an engine");
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("http://{}/ready", dc2_engine.http))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(ready, 503, "dc2's standby engine is not ready");
    let refused = grpc(&dc2_engine).await.submit_order(order("dc2-1")).await;
    match refused {
        Ok(ack) => panic!("dc2's standby acknowledged {:?}", ack.into_inner()),
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
    }

    let mut dc1_grpc = grpc(dc1.engine.as_ref().expect("dc1 has an engine")).await;
    for n in 0..20 {
        let cid = format!("dc1-{n}");
        dc1_grpc
            .submit_order(order(&cid))
            .await
            .unwrap_or_else(|e| panic!("dc1 acknowledges {cid}: {e:?}"));
        let rows: i64 = standby
            .query_one(
                "SELECT count(*) FROM orders WHERE client_order_id = $1",
                &[&cid],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(
            rows, 1,
            "acknowledged {cid} is on dc2 when the client hears of it"
        );
    }
    let engine_ids: Vec<String> = standby
        .query("SELECT DISTINCT engine_id FROM orders", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(engine_ids, vec!["dc1-engine-1".to_string()]);

    super::router::the_router_sends_to_the_active_site_and_the_history_says_which(&platform).await;
    super::replication::sync_holds_commits_while_the_line_is_cut(&platform).await;
    super::replication::a_slowed_line_slows_sync_commits(&platform).await;
    super::datacenter_loss::losing_dc2_holds_sync_commits_until_it_is_back(&platform).await;
    super::fencing::after_dc2_is_promoted_dc1_acknowledges_nothing_isolated_or_restarted(&platform)
        .await;
    super::fencing::a_promoted_engine_killed_comes_back_serving(&platform).await;
    super::shutdown_leaves_nothing(platform).await;
}
