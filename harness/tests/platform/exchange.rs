//! The mock CTP front runs in the platform: a CTP client trades through the `ctp-trade` link,
//! and the front's admin API (read directly) records the order and its trade.

use std::time::Duration;

use mock_ctp::client::{TraderClient, TraderEvent};
use mock_ctp::protocol::*;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn a_ctp_client_trades_through_the_link_and_the_record_shows_it() {
    let platform = super::platform().await;
    let mock = platform.endpoints().mock_ctp.clone();
    let (api, mut spi) = TraderClient::connect(mock.trade.proxied)
        .await
        .expect("the trade front through its link");
    spi.wait_for(WAIT, |e| {
        matches!(e, TraderEvent::OnFrontConnected).then_some(())
    })
    .await
    .expect("OnFrontConnected");
    // The run's own AuthCode and password, not the fixture's: the fixture's AuthCode is refused.
    let fixture_auth = ReqAuthenticate {
        broker_id: "9999".into(),
        user_id: "000001".into(),
        app_id: "client_mockctp_1.0".into(),
        auth_code: "0000000000000000".into(),
    };
    assert_eq!(api.req_authenticate(&fixture_auth, 1).await, 0);
    let refused = spi
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspAuthenticate(r) => Some(r.rsp_info.clone()),
            _ => None,
        })
        .await
        .expect("OnRspAuthenticate");
    assert_ne!(refused.error_id, 0, "the fixture's AuthCode was accepted");
    assert_ne!(mock.auth_code, "0000000000000000");
    let auth = ReqAuthenticate {
        auth_code: mock.auth_code.clone(),
        ..fixture_auth
    };
    assert_eq!(api.req_authenticate(&auth, 1).await, 0);
    let auth = spi
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspAuthenticate(r) => Some(r.rsp_info.clone()),
            _ => None,
        })
        .await
        .expect("OnRspAuthenticate");
    assert_eq!(auth.error_id, 0, "{auth:?}");
    let login = ReqUserLogin {
        broker_id: "9999".into(),
        user_id: "000001".into(),
        password: mock.password.clone(),
    };
    assert_eq!(api.req_user_login(&login, 2).await, 0);
    let rsp = spi
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspUserLogin(r) => Some(r.clone()),
            _ => None,
        })
        .await
        .expect("OnRspUserLogin");
    assert_eq!(rsp.rsp_info.error_id, 0, "{:?}", rsp.rsp_info);
    let confirm = SettlementInfoConfirm {
        broker_id: "9999".into(),
        investor_id: "000001".into(),
        ..Default::default()
    };
    assert_eq!(api.req_settlement_info_confirm(&confirm, 3).await, 0);
    spi.wait_for(WAIT, |e| {
        matches!(e, TraderEvent::OnRspSettlementInfoConfirm(_)).then_some(())
    })
    .await
    .expect("confirmed");

    let order = InputOrder {
        broker_id: "9999".into(),
        investor_id: "000001".into(),
        instrument_id: "IF2409".into(),
        order_ref: "1".into(),
        direction: Direction::Buy,
        comb_offset_flag: OffsetFlag::Open,
        comb_hedge_flag: HedgeFlag::Speculation,
        order_price_type: OrderPriceType::LimitPrice,
        limit_price: 3500.0,
        volume_total_original: 1,
        time_condition: TimeCondition::Gfd,
        volume_condition: VolumeCondition::AnyVolume,
        ..Default::default()
    };
    assert_eq!(api.req_order_insert(&order, 4).await, 0);
    let trade = spi
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRtnTrade(p) => Some(p.field.clone()),
            _ => None,
        })
        .await
        .expect("OnRtnTrade");
    assert_eq!((trade.instrument_id.as_str(), trade.volume), ("IF2409", 1));

    let record: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/record", mock.admin))
        .bearer_auth(&mock.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        record["orders"].as_array().map(Vec::len),
        Some(1),
        "{record}"
    );
    assert_eq!(record["orders"][0]["order_ref"], "1");
    assert_eq!(
        record["trades"].as_array().map(Vec::len),
        Some(1),
        "{record}"
    );
    api.release().await;
    platform.shutdown().await.unwrap();
}
