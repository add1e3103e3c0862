//! The admin API's faults and record, through the client library: disconnect with a reason
//! and RESUME, dropped returns recovered by RESUME, rejects, halts, hangs, flow control, reset.

mod common;

use std::time::Duration;

use common::*;
use mock_ctp::client::{TraderClient, TraderEvent, TraderEvents};
use mock_ctp::protocol::*;
use serde_json::json;

/// Collects private-flow sequence numbers until `n` have arrived.
async fn collect_seqs(ev: &mut TraderEvents, n: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    while seqs.len() < n {
        let s = ev
            .wait_for(WAIT, |e| match e {
                TraderEvent::OnRtnOrder(p) => Some(p.seq_no),
                TraderEvent::OnRtnTrade(p) => Some(p.seq_no),
                TraderEvent::OnErrRtnOrderInsert(p) => Some(p.seq_no),
                _ => None,
            })
            .await
            .unwrap_or_else(|| panic!("only {} of {n} returns", seqs.len()));
        seqs.push(s);
    }
    seqs
}

#[tokio::test]
async fn admin_needs_the_token_but_health_does_not() {
    let srv = server().await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(admin(&srv, "/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(admin(&srv, "/record"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let wrong = http
        .get(admin(&srv, "/record"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(get(&srv, "/record").await["trading_day"], "20240126");
    srv.shutdown().await;
}

#[tokio::test]
async fn disconnect_with_reason_then_resume_gets_exactly_the_missed_returns() {
    let srv = server().await;
    let builder = TraderClient::builder(srv.trade_addr)
        .resume(ResumeType::Resume)
        .reconnect(Some(Duration::from_millis(50)));
    let (c, mut ev) = builder.connect().await.unwrap();
    let login = login_as(&c, &mut ev, INVESTOR).await;
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    assert_eq!(collect_seqs(&mut ev, 4).await, [1, 2, 3, 4]);
    let told = post(
        &srv,
        "/faults/disconnect",
        json!({"session_id": login.session_id, "reason": reason::HEARTBEAT_TIMEOUT}),
    )
    .await;
    assert_eq!(told["disconnected"], 1);
    let r = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnFrontDisconnected(r) => Some(*r),
            _ => None,
        })
        .await;
    assert_eq!(r, Some(reason::HEARTBEAT_TIMEOUT));
    // While this client is away, another session of the same investor trades.
    let (other, mut other_ev, _) = trader(&srv).await;
    other
        .req_order_insert(&buy("rb2410", 1, 3600.0, 2), 0)
        .await;
    final_order(&mut other_ev, "1").await;
    login_as(&c, &mut ev, INVESTOR).await;
    assert_eq!(
        collect_seqs(&mut ev, 4).await,
        [5, 6, 7, 8],
        "exactly the missed returns"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        std::iter::from_fn(|| ev.try_recv())
            .all(|e| !matches!(e, TraderEvent::OnRtnOrder(_) | TraderEvent::OnRtnTrade(_))),
        "no more"
    );
    assert_eq!(c.last_private_seq(), 8);
    srv.shutdown().await;
}

/// A disconnect answers with the returns it cut off: sequenced in the investor's flow and not
/// yet written to the session (held back by the delay fault); the session's RESUME then
/// starts after the last return it was written, and its start mark counts what is replayed.
#[tokio::test]
async fn a_disconnect_counts_the_returns_in_flight_and_the_resume_replays_them() {
    let srv = server().await;
    let (c, mut ev) = TraderClient::builder(srv.trade_addr)
        .resume(ResumeType::Resume)
        .reconnect(Some(Duration::from_millis(50)))
        .connect()
        .await
        .unwrap();
    let login = login_as(&c, &mut ev, INVESTOR).await;
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    assert_eq!(collect_seqs(&mut ev, 4).await, [1, 2, 3, 4]);
    post(&srv, "/faults/delay-returns", json!({"ms": 60_000})).await;
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 2), 0).await;
    // The exchange sequences the second order's returns; none is written.
    let mut last = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = get(&srv, &format!("/flows/{INVESTOR}/last")).await["last_seq"]
            .as_u64()
            .unwrap();
        if now > 4 && now == last {
            break;
        }
        last = now;
    }
    assert!(last > 4, "the second order's returns are in the flow");
    let told = post(
        &srv,
        "/faults/disconnect",
        json!({"session_id": login.session_id}),
    )
    .await;
    let cut = told["cut"].as_array().expect("the cut sessions");
    assert_eq!(cut.len(), 1, "{told}");
    assert_eq!(cut[0]["session_id"], login.session_id);
    assert_eq!(cut[0]["next_seq"], 5);
    assert_eq!(cut[0]["flow_last"], last);
    assert_eq!(cut[0]["told"], true);
    post(&srv, "/faults/delay-returns", json!({"ms": 0})).await;
    let again = login_as(&c, &mut ev, INVESTOR).await;
    let missed = (last - 4) as usize;
    assert_eq!(
        collect_seqs(&mut ev, missed).await,
        (5..=last).collect::<Vec<_>>()
    );
    let marks = get(&srv, &format!("/flows/{INVESTOR}/sessions")).await;
    let started = marks
        .as_array()
        .unwrap()
        .iter()
        .rfind(|m| m["event"] == "started" && m["session_id"] == again.session_id)
        .expect("the new session's start");
    assert_eq!(started["resume_type"], "resume");
    assert_eq!(started["from_seq"], 5);
    assert_eq!(started["flow_last"], last);
    srv.shutdown().await;
}

#[tokio::test]
async fn dropped_returns_stay_in_the_flow_for_a_later_resume() {
    let srv = server().await;
    let (c, mut ev) = TraderClient::builder(srv.trade_addr)
        .resume(ResumeType::Resume)
        .reconnect(Some(Duration::from_millis(50)))
        .connect()
        .await
        .unwrap();
    let login = login_as(&c, &mut ev, INVESTOR).await;
    post(&srv, "/faults/drop-returns", json!({"count": 2})).await;
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    assert_eq!(
        collect_seqs(&mut ev, 2).await,
        [3, 4],
        "the first two were dropped on the wire"
    );
    assert_eq!(c.last_private_seq(), 0, "a gap stops the resume point");
    post(
        &srv,
        "/faults/disconnect",
        json!({"session_id": login.session_id}),
    )
    .await;
    login_as(&c, &mut ev, INVESTOR).await;
    assert_eq!(collect_seqs(&mut ev, 4).await, [1, 2, 3, 4]);
    assert_eq!(c.last_private_seq(), 4);
    srv.shutdown().await;
}

#[tokio::test]
async fn reject_halt_and_matching_faults() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    post(
        &srv,
        "/faults/reject-orders",
        json!({"count": 1, "error_id": 31}),
    )
    .await;
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    assert_eq!(insert_error(&mut ev).await, 31);
    post(&srv, "/instruments/rb2410/halt", json!({})).await;
    c.req_order_insert(&buy("rb2410", 2, 3600.0, 1), 0).await;
    assert_eq!(
        insert_error(&mut ev).await,
        error_id::INSTRUMENT_NOT_TRADING
    );
    post(&srv, "/instruments/rb2410/resume", json!({})).await;
    post(
        &srv,
        "/instruments/rb2410/matching",
        json!({"model": "reject"}),
    )
    .await;
    c.req_order_insert(&buy("rb2410", 3, 3600.0, 1), 0).await;
    let o = final_order(&mut ev, "3").await;
    assert_eq!(
        (o.order_status, o.order_submit_status),
        (OrderStatus::Canceled, OrderSubmitStatus::InsertRejected)
    );
    let rec = get(&srv, "/record").await;
    let orders = rec["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 3);
    assert_eq!(orders[0]["error_id"], 31);
    assert_eq!(orders[1]["error_id"], 17);
    assert_eq!(orders[2]["final_status"], "5");
    srv.shutdown().await;
}

#[tokio::test]
async fn hang_longer_than_the_heartbeat_timeout_disconnects_with_0x2001() {
    let srv = server().await;
    let (c, mut ev) = TraderClient::builder(srv.trade_addr)
        .heartbeat(Duration::from_millis(50), Duration::from_millis(300))
        .reconnect(None)
        .connect()
        .await
        .unwrap();
    login_as(&c, &mut ev, INVESTOR).await;
    post(&srv, "/faults/hang", json!({"ms": 800})).await;
    let r = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnFrontDisconnected(r) => Some(*r),
            _ => None,
        })
        .await;
    assert_eq!(r, Some(reason::HEARTBEAT_TIMEOUT));
    assert_eq!(
        c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await,
        ret::NOT_CONNECTED
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn a_cleared_hang_answers_at_once() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    post(&srv, "/faults/hang", json!({"ms": 60_000})).await;
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    let quiet = ev
        .wait_for(Duration::from_millis(300), |e| match e {
            TraderEvent::OnRtnOrder(p) => Some(p.field.order_status),
            _ => None,
        })
        .await;
    assert_eq!(quiet, None, "a hung front answers nothing");
    post(&srv, "/faults/clear", json!({})).await;
    // Healing ends the hang now, not when its hour would have run out.
    let o = final_order(&mut ev, "1").await;
    assert_eq!(o.order_status, OrderStatus::AllTraded);
    srv.shutdown().await;
}

#[tokio::test]
async fn delayed_returns_arrive_late() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    post(&srv, "/faults/delay-returns", json!({"ms": 150})).await;
    let t0 = std::time::Instant::now();
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    final_order(&mut ev, "1").await;
    assert!(
        t0.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t0.elapsed()
    );
    srv.shutdown().await;
}

/// Late returns hold up only the flow: a query sent after an order is answered at once, with
/// the order in it, before the order's own return (what a reconciling client sees).
#[tokio::test]
async fn a_query_overtakes_delayed_returns() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    post(&srv, "/faults/delay-returns", json!({"ms": 2000})).await;
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    c.req_qry_order(&QryFilter::default(), 7).await;
    let first = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspQryOrder(r) => Some(Some(r.field.clone())),
            TraderEvent::OnRtnOrder(_) => Some(None),
            _ => None,
        })
        .await
        .expect("a query answer or a return");
    let row = first.expect("the query was answered before the delayed return");
    assert_eq!(
        row.expect("the order is in the answer").order_ref.trim(),
        "1"
    );
    final_order(&mut ev, "1").await;
    srv.shutdown().await;
}

#[tokio::test]
async fn flow_control_answers_minus_three_over_the_limit() {
    let srv = server().await;
    let (c, mut ev, login) = trader(&srv).await;
    post(
        &srv,
        "/faults/flow-control",
        json!({"session_id": login.session_id, "orders_per_second": 3}),
    )
    .await;
    ev.wait_for(WAIT, |e| {
        matches!(e, TraderEvent::OnFlowControl(f) if f.max_orders_per_second == Some(3))
            .then_some(())
    })
    .await
    .unwrap();
    let mut codes = Vec::new();
    for r in 1..=5 {
        codes.push(c.req_order_insert(&buy("rb2410", r, 3600.0, 1), 0).await);
    }
    assert_eq!(codes, [0, 0, 0, -3, -3]);
    srv.shutdown().await;
}

#[tokio::test]
async fn reset_starts_a_clean_trading_day() {
    let srv = server().await;
    let (c, mut ev, _) = trader(&srv).await;
    c.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    final_order(&mut ev, "1").await;
    let flow = get(&srv, "/flows/000001").await;
    let last = flow.as_array().unwrap().last().unwrap()["seq_no"].clone();
    assert!(
        last.as_u64().unwrap() >= 2,
        "an order and its trade: {flow}"
    );
    assert_eq!(get(&srv, "/flows/000001/last").await["last_seq"], last);
    let r = post(&srv, "/reset", json!({"trading_day": "20240129"})).await;
    assert_eq!(r["trading_day"], "20240129");
    let reason = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnFrontDisconnected(r) => Some(*r),
            _ => None,
        })
        .await;
    assert_eq!(reason, Some(reason::READ_FAILED));
    let rec = get(&srv, "/record").await;
    assert_eq!(rec["orders"].as_array().unwrap().len(), 0);
    assert_eq!(
        get(&srv, "/flows/000001").await.as_array().unwrap().len(),
        0
    );
    assert_eq!(get(&srv, "/flows/000001/last").await["last_seq"], 0);
    c.release().await;
    srv.shutdown().await;
}
