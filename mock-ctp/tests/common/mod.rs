//! Helpers shared by the integration tests: an in-process mock on loopback and a logged-in
//! trader.
#![allow(dead_code)]

use std::time::Duration;

use mock_ctp::client::{TraderClient, TraderEvent, TraderEvents};
use mock_ctp::protocol::*;
use mock_ctp::server::MockServer;

pub const WAIT: Duration = Duration::from_secs(5);
pub const TOKEN: &str = "test-token";
pub const INVESTOR: &str = "000001";

pub async fn server() -> MockServer {
    MockServer::builder()
        .seed(7)
        .trading_day("20240126")
        .start()
        .await
        .expect("mock starts")
}

/// Waits for the (re)connection, authenticates, logs in and confirms the settlement; returns
/// the login answer.
pub async fn login_as(
    client: &TraderClient,
    events: &mut TraderEvents,
    investor: &str,
) -> RspUserLogin {
    let rsp = log_in(client, events, investor).await;
    let confirm = SettlementInfoConfirm {
        broker_id: "9999".into(),
        investor_id: investor.into(),
        ..Default::default()
    };
    assert_eq!(client.req_settlement_info_confirm(&confirm, 3).await, 0);
    events
        .wait_for(WAIT, |e| {
            matches!(e, TraderEvent::OnRspSettlementInfoConfirm(_)).then_some(())
        })
        .await
        .expect("OnRspSettlementInfoConfirm");
    rsp.field.expect("login field")
}

/// Waits for the (re)connection, authenticates and logs in, without confirming the
/// settlement; returns the login answer, asserted successful.
pub async fn log_in(
    client: &TraderClient,
    events: &mut TraderEvents,
    investor: &str,
) -> Response<RspUserLogin> {
    events
        .wait_for(WAIT, |e| {
            matches!(e, TraderEvent::OnFrontConnected).then_some(())
        })
        .await
        .expect("OnFrontConnected");
    let auth = ReqAuthenticate {
        broker_id: "9999".into(),
        user_id: investor.into(),
        app_id: "client_mockctp_1.0".into(),
        auth_code: "0000000000000000".into(),
    };
    assert_eq!(client.req_authenticate(&auth, 1).await, 0);
    let info = events
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspAuthenticate(r) => Some(r.rsp_info.clone()),
            _ => None,
        })
        .await
        .expect("OnRspAuthenticate");
    assert_eq!(info.error_id, 0, "{info:?}");
    let login = ReqUserLogin {
        broker_id: "9999".into(),
        user_id: investor.into(),
        password: "123456".into(),
    };
    assert_eq!(client.req_user_login(&login, 2).await, 0);
    let rsp = events
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspUserLogin(r) => Some(r.clone()),
            _ => None,
        })
        .await
        .expect("OnRspUserLogin");
    assert_eq!(rsp.rsp_info.error_id, 0, "{:?}", rsp.rsp_info);
    rsp
}

pub async fn trader(server: &MockServer) -> (TraderClient, TraderEvents, RspUserLogin) {
    let (c, mut ev) = TraderClient::connect(server.trade_addr)
        .await
        .expect("connects");
    let login = login_as(&c, &mut ev, INVESTOR).await;
    (c, ev, login)
}

pub fn order(
    instrument: &str,
    order_ref: u32,
    direction: Direction,
    offset: OffsetFlag,
    price: f64,
    volume: i32,
) -> InputOrder {
    InputOrder {
        broker_id: "9999".into(),
        investor_id: INVESTOR.into(),
        instrument_id: instrument.into(),
        order_ref: order_ref.to_string(),
        direction,
        comb_offset_flag: offset,
        comb_hedge_flag: HedgeFlag::Speculation,
        order_price_type: OrderPriceType::LimitPrice,
        limit_price: price,
        volume_total_original: volume,
        time_condition: TimeCondition::Gfd,
        volume_condition: VolumeCondition::AnyVolume,
        ..Default::default()
    }
}

pub fn buy(instrument: &str, order_ref: u32, price: f64, volume: i32) -> InputOrder {
    order(
        instrument,
        order_ref,
        Direction::Buy,
        OffsetFlag::Open,
        price,
        volume,
    )
}

/// Waits for the ErrorID of an insert rejected by CTP (`OnRspOrderInsert`).
pub async fn insert_error(events: &mut TraderEvents) -> i32 {
    events
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRspOrderInsert(r) => Some(r.rsp_info.error_id),
            _ => None,
        })
        .await
        .expect("OnRspOrderInsert")
}

/// Waits for an order return whose status is final, for the given OrderRef.
pub async fn final_order(events: &mut TraderEvents, order_ref: &str) -> Order {
    events
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRtnOrder(p)
                if p.field.order_ref == order_ref && p.field.order_status.is_final() =>
            {
                Some(p.field.clone())
            }
            _ => None,
        })
        .await
        .expect("final OnRtnOrder")
}

/// Says `Hello` for `front` on a raw connection and waits for the `HelloAck`.
pub async fn hello(
    stream: tokio::net::TcpStream,
    front: FrontKind,
) -> tokio_util::codec::Framed<tokio::net::TcpStream, CtpCodec> {
    use futures::{SinkExt, StreamExt};
    let mut conn =
        tokio_util::codec::Framed::new(stream, CtpCodec::new(codec::DEFAULT_MAX_FRAME_LEN));
    let hello = Hello {
        protocol: PROTOCOL_NAME.into(),
        version: PROTOCOL_VERSION,
        front,
    };
    conn.send(Message::Hello(hello)).await.unwrap();
    let ack = conn.next().await.unwrap().unwrap().unwrap();
    assert!(matches!(ack, Message::HelloAck(_)), "{ack:?}");
    conn
}

/// Writes one frame (length prefix, payload) on a raw socket.
pub async fn write_frame(s: &mut tokio::net::TcpStream, payload: &[u8]) {
    use tokio::io::AsyncWriteExt;
    s.write_all(&(payload.len() as u32).to_be_bytes())
        .await
        .unwrap();
    s.write_all(payload).await.unwrap();
}

pub fn admin(server: &MockServer, path: &str) -> String {
    format!("http://{}{}", server.admin_addr, path)
}

pub async fn post(server: &MockServer, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = reqwest::Client::new()
        .post(admin(server, path))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect("admin answers");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("json")
}

pub async fn get(server: &MockServer, path: &str) -> serde_json::Value {
    let r = reqwest::Client::new()
        .get(admin(server, path))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("admin answers");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("json")
}
