//! The trade front through the client library: login, order life cycles, CTP's ErrorIDs,
//! cancels racing fills, queries and flow control.

mod common;

use std::time::Duration;

use common::*;
use mock_ctp::client::{TraderClient, TraderEvent};
use mock_ctp::protocol::*;

#[tokio::test]
async fn immediate_fill_follows_ctp_callback_order() {
    let srv = server().await;
    let (c, mut ev, login) = trader(&srv).await;
    assert_eq!(login.trading_day, "20240126");
    assert!(login.session_id != 0 && login.front_id == 1);
    assert_eq!(
        c.req_order_insert(&buy("rb2410", 1, 3600.0, 2), 10).await,
        0
    );
    let mut seen = Vec::new();
    while seen.len() < 4 {
        match ev.recv().await.expect("event") {
            TraderEvent::OnRtnOrder(p) => seen.push(format!("order:{:?}", p.field.order_status)),
            TraderEvent::OnRtnTrade(p) => {
                assert_eq!(p.field.volume, 2);
                assert_eq!(p.field.price, 3600.0);
                assert_eq!(p.field.order_sys_id.len(), 12, "space padded");
                seen.push("trade".into());
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        [
            "order:Unknown",
            "order:NoTradeQueueing",
            "order:AllTraded",
            "trade"
        ]
    );
    assert_eq!(c.last_private_seq(), 4);
    srv.shutdown().await;
}

#[tokio::test]
async fn ctp_error_ids_for_common_rejections() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    let cases: Vec<(InputOrder, i32)> = vec![
        (buy("xx9999", 1, 1.0, 1), error_id::INSTRUMENT_NOT_FOUND),
        (buy("rb2410", 2, 3600.5, 1), error_id::PRICE_NOT_ON_TICK),
        (buy("rb2410", 3, 3800.0, 1), error_id::PRICE_OUT_OF_LIMITS),
        (buy("rb2410", 4, 3600.0, 0), error_id::BAD_FIELD),
        (buy("rb2410", 5, 3600.0, 501), error_id::BAD_FIELD),
        (buy("rb2410", 6, -3600.0, 1), error_id::BAD_FIELD),
        (buy("rb2410", 6, 3600.0, 1), error_id::DUPLICATE_ORDER),
        (
            order("rb2410", 7, Direction::Sell, OffsetFlag::Close, 3600.0, 21),
            error_id::OVER_CLOSE_POSITION,
        ),
        (
            order(
                "rb2410",
                8,
                Direction::Sell,
                OffsetFlag::CloseToday,
                3600.0,
                1,
            ),
            error_id::OVER_CLOSETODAY_POSITION,
        ),
        (
            order("IF2409", 9, Direction::Sell, OffsetFlag::Close, 3500.0, 3),
            error_id::OVER_CLOSE_POSITION,
        ),
    ];
    for (o, want) in cases {
        assert_eq!(c.req_order_insert(&o, 0).await, 0);
        assert_eq!(insert_error(&mut ev).await, want, "order {}", o.order_ref);
    }
    // A valid close of yesterday's position still works after all those rejects.
    let close = order("rb2410", 10, Direction::Sell, OffsetFlag::Close, 3600.0, 20);
    c.req_order_insert(&close, 0).await;
    assert_eq!(
        final_order(&mut ev, "10").await.order_status,
        OrderStatus::AllTraded
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn insufficient_money_and_settlement_gate() {
    let srv = server().await;
    let (c, mut ev) = TraderClient::connect(srv.trade_addr).await.unwrap();
    assert_eq!(c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await, 0);
    assert_eq!(insert_error(&mut ev).await, error_id::NOT_LOGGED_IN);
    // Log in as the poor investor without confirming the settlement.
    let auth = ReqAuthenticate {
        broker_id: "9999".into(),
        user_id: "000002".into(),
        app_id: "client_mockctp_1.0".into(),
        auth_code: "0000000000000000".into(),
    };
    c.req_authenticate(&auth, 1).await;
    let login = ReqUserLogin {
        broker_id: "9999".into(),
        user_id: "000002".into(),
        password: "123456".into(),
    };
    c.req_user_login(&login, 2).await;
    ev.wait_for(WAIT, |e| {
        matches!(e, TraderEvent::OnRspUserLogin(_)).then_some(())
    })
    .await
    .unwrap();
    let mut o = buy("rb2410", 1, 3600.0, 1);
    o.investor_id = "000002".into();
    c.req_order_insert(&o, 0).await;
    assert_eq!(
        insert_error(&mut ev).await,
        error_id::SETTLEMENT_NOT_CONFIRMED
    );
    let confirm = SettlementInfoConfirm {
        broker_id: "9999".into(),
        investor_id: "000002".into(),
        ..Default::default()
    };
    c.req_settlement_info_confirm(&confirm, 3).await;
    // 50,000 of balance: 9 lots of rb at 3600 need 51,840 of margin.
    o.order_ref = "2".into();
    o.volume_total_original = 9;
    c.req_order_insert(&o, 0).await;
    assert_eq!(insert_error(&mut ev).await, error_id::INSUFFICIENT_MONEY);
    srv.shutdown().await;
}

#[tokio::test]
async fn login_failures_give_ctp_error_ids() {
    let srv = server().await;
    let (c, mut ev) = TraderClient::connect(srv.trade_addr).await.unwrap();
    let login = ReqUserLogin {
        broker_id: "9999".into(),
        user_id: INVESTOR.into(),
        password: "123456".into(),
    };
    c.req_user_login(&login, 1).await;
    let id = |ev: &TraderEvent| match ev {
        TraderEvent::OnRspUserLogin(r) => Some(r.rsp_info.error_id),
        _ => None,
    };
    assert_eq!(
        ev.wait_for(WAIT, id).await,
        Some(error_id::NOT_AUTHENTICATED)
    );
    let bad = ReqAuthenticate {
        user_id: INVESTOR.into(),
        auth_code: "wrong".into(),
        ..Default::default()
    };
    c.req_authenticate(&bad, 2).await;
    let auth_id = |ev: &TraderEvent| match ev {
        TraderEvent::OnRspAuthenticate(r) => Some(r.rsp_info.error_id),
        _ => None,
    };
    assert_eq!(
        ev.wait_for(WAIT, auth_id).await,
        Some(error_id::AUTH_FAILED)
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn each_login_gets_a_new_session_and_order_refs_are_per_session() {
    let srv = server().await;
    let (c1, mut e1, l1) = trader(&srv).await;
    let (c2, mut e2, l2) = trader(&srv).await;
    assert_ne!(l1.session_id, l2.session_id);
    c1.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    c2.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    // Both sessions belong to one investor, so each sees both orders in the private flow.
    for ev in [&mut e1, &mut e2] {
        let mut sessions = Vec::new();
        while sessions.len() < 2 {
            let o = final_order(ev, "1").await;
            assert_eq!(o.order_status, OrderStatus::AllTraded);
            sessions.push(o.session_id);
        }
        sessions.sort();
        let mut want = vec![l1.session_id, l2.session_id];
        want.sort();
        assert_eq!(sessions, want);
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn cancel_resting_order_then_cancel_again_is_unsuitable() {
    let srv = server().await;
    let (c, mut ev, login) = trader(&srv).await;
    c.req_order_insert(&buy("au2412", 1, 550.0, 1), 0).await;
    let sys_id = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRtnOrder(p) if p.field.order_status == OrderStatus::NoTradeQueueing => {
                Some(p.field.order_sys_id.clone())
            }
            _ => None,
        })
        .await
        .unwrap();
    let by_ref = InputOrderAction {
        front_id: login.front_id,
        session_id: login.session_id,
        order_ref: "1".into(),
        investor_id: INVESTOR.into(),
        ..Default::default()
    };
    assert_eq!(c.req_order_action(&by_ref, 0).await, 0);
    assert_eq!(
        final_order(&mut ev, "1").await.order_status,
        OrderStatus::Canceled
    );
    let by_sys = InputOrderAction {
        exchange_id: "SHFE".into(),
        order_sys_id: sys_id.trim().into(),
        investor_id: INVESTOR.into(),
        ..Default::default()
    };
    c.req_order_action(&by_sys, 0).await;
    let err = |e: &TraderEvent| match e {
        TraderEvent::OnRspOrderAction(r) => Some(r.rsp_info.error_id),
        _ => None,
    };
    assert_eq!(
        ev.wait_for(WAIT, err).await,
        Some(error_id::UNSUITABLE_ORDER_STATUS)
    );
    let missing = InputOrderAction {
        front_id: 1,
        session_id: login.session_id,
        order_ref: "99".into(),
        ..Default::default()
    };
    c.req_order_action(&missing, 0).await;
    assert_eq!(
        ev.wait_for(WAIT, err).await,
        Some(error_id::ORDER_NOT_FOUND)
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn partial_fills_over_time_never_exceed_the_order() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    c.req_order_insert(&buy("cu2409", 1, 73000.0, 8), 0).await;
    let mut traded = 0;
    let mut fills = 0;
    while traded < 8 {
        let v = ev
            .wait_for(WAIT, |e| match e {
                TraderEvent::OnRtnTrade(p) => Some(p.field.volume),
                _ => None,
            })
            .await
            .expect("a fill");
        traded += v;
        fills += 1;
        assert!(traded <= 8);
    }
    assert!(fills >= 2, "partial model fills in steps");
    c.req_qry_order(&QryFilter::default(), 5).await;
    let o = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspQryOrder(r) => r.field.clone(),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        (o.volume_traded, o.order_status),
        (8, OrderStatus::AllTraded)
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn queries_return_rows_one_at_a_time_and_one_a_second() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    assert_eq!(
        c.req_qry_investor_position(&QryFilter::default(), 1).await,
        0
    );
    assert_eq!(
        c.req_qry_trading_account(&QryFilter::default(), 2).await,
        ret::TOO_MANY_PENDING
    );
    let mut rows = Vec::new();
    loop {
        let r = ev
            .wait_for(WAIT, |e| match e {
                TraderEvent::OnRspQryInvestorPosition(r) => Some(r.clone()),
                _ => None,
            })
            .await
            .unwrap();
        rows.extend(r.field);
        if r.is_last {
            break;
        }
    }
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().any(|p| p.instrument_id == "rb2410"
        && p.position == 20
        && p.posi_direction == PosiDirection::Long));
    // Answered, the first query no longer blocks a second, but CTP's QryFreq (one a second)
    // does: the front refuses it with ErrorID 90, and answers it a second after the first.
    assert_eq!(c.req_qry_trading_account(&QryFilter::default(), 2).await, 0);
    let refused = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspError(r) => Some((r.request_id, r.rsp_info.error_id)),
            _ => None,
        })
        .await;
    assert_eq!(refused, Some((2, error_id::QUERY_RATE_EXCEEDED)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(c.req_qry_trading_account(&QryFilter::default(), 3).await, 0);
    let acct = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspQryTradingAccount(r) => r.field.clone(),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(acct.balance, 10_000_000.0);
    srv.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_tells_whether_fills_are_still_to_come() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    post(
        &srv,
        "/instruments/cu2409/matching",
        serde_json::json!({"model": "partial", "interval_ms": 400}),
    )
    .await;
    let last = format!("/flows/{INVESTOR}/last");
    assert_eq!(get(&srv, &last).await["pending_fills"], 0);
    // Two lots fill one at a time (a chunk is at most half), 400 ms apart.
    c.req_order_insert(&buy("cu2409", 1, 73000.0, 2), 0).await;
    let fill = |e: &TraderEvent| match e {
        TraderEvent::OnRtnTrade(p) => Some(p.field.volume),
        _ => None,
    };
    assert_eq!(ev.wait_for(WAIT, fill).await, Some(1));
    let between = get(&srv, &last).await;
    assert_eq!(between["pending_fills"], 1, "{between}");
    assert_eq!(ev.wait_for(WAIT, fill).await, Some(1));
    let after = get(&srv, &last).await;
    assert_eq!(after["pending_fills"], 0, "{after}");
    assert_eq!(after["last_seq"], c.last_private_seq());
    srv.shutdown().await;
}

/// CTP keeps the settlement confirmation per investor and trading day: a later session of an
/// investor who confirmed today trades without confirming again (it was refused with
/// ErrorID 42 when the mock kept it per session).
#[tokio::test]
async fn a_settlement_confirmed_today_holds_for_the_investors_next_session() {
    let srv = server().await;
    let (_first, _first_ev, _) = trader(&srv).await;
    let (c, mut ev) = TraderClient::connect(srv.trade_addr).await.unwrap();
    log_in(&c, &mut ev, INVESTOR).await;
    c.req_order_insert(&buy("rb2410", 7, 3600.0, 1), 0).await;
    let answer = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRtnOrder(p) if p.field.order_ref.trim() == "7" => Some(0),
            TraderEvent::OnRspOrderInsert(r) => Some(r.rsp_info.error_id),
            _ => None,
        })
        .await;
    assert_eq!(answer, Some(0), "the second session's order was refused");
    srv.shutdown().await;
}
