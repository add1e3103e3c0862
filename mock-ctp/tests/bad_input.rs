//! Bad input over raw TCP: oversized and malformed frames, unknown messages, wrong versions and
//! requests before the handshake. Each gets a protocol error for that client only; another
//! session trading at the same time is unharmed.

mod common;

use std::time::Duration;

use common::*;
use mock_ctp::client::TraderEvent;
use mock_ctp::protocol::*;
use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads frames until the socket closes or goes quiet; returns the decoded messages.
async fn read_frames(s: &mut TcpStream) -> Vec<Message> {
    let mut out = Vec::new();
    loop {
        let mut len = [0u8; 4];
        match tokio::time::timeout(Duration::from_millis(500), s.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return out,
        }
        let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
        s.read_exact(&mut buf).await.unwrap();
        out.push(mock_ctp::protocol::codec::decode_payload(&buf).unwrap());
    }
}

async fn hello(s: &mut TcpStream, version: u32) {
    let h = format!(
        r#"{{"msg":"Hello","body":{{"Protocol":"mock-ctp","Version":{version},"Front":"trade"}}}}"#
    );
    write_frame(s, h.as_bytes()).await;
}

fn codes(msgs: &[Message]) -> Vec<String> {
    msgs.iter()
        .filter_map(|m| match m {
            Message::ProtocolError(e) => Some(format!("{:?}", e.code)),
            Message::FrontDisconnected(d) => Some(format!("disconnect:{:#x}", d.reason)),
            Message::RspOrderInsert(r) => Some(format!("rsp:{}", r.rsp_info.error_id)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn bad_clients_get_errors_and_do_not_harm_a_trading_session() {
    let srv = server().await;
    let (good, mut good_ev, _) = trader(&srv).await;

    let mut wrong_version = TcpStream::connect(srv.trade_addr).await.unwrap();
    hello(&mut wrong_version, 99).await;
    assert_eq!(
        codes(&read_frames(&mut wrong_version).await),
        ["VersionMismatch"]
    );

    let mut no_hello = TcpStream::connect(srv.trade_addr).await.unwrap();
    write_frame(&mut no_hello, br#"{"msg":"Heartbeat"}"#).await;
    assert_eq!(
        codes(&read_frames(&mut no_hello).await),
        ["HandshakeRequired"]
    );

    let mut s = TcpStream::connect(srv.trade_addr).await.unwrap();
    hello(&mut s, PROTOCOL_VERSION).await;
    write_frame(&mut s, b"{definitely not json").await;
    write_frame(&mut s, br#"{"msg":"ReqTeleport","body":{}}"#).await;
    write_frame(
        &mut s,
        br#"{"msg":"ReqOrderInsert","body":{"RequestID":1,"Field":{"LimitPrice":null}}}"#,
    )
    .await;
    write_frame(
        &mut s,
        br#"{"msg":"RtnOrder","body":{"SeqNo":1,"Field":{}}}"#,
    )
    .await;
    let order = serde_json::to_vec(&Message::ReqOrderInsert(Request {
        request_id: 1,
        field: buy("rb2410", 1, 3600.0, 1),
    }))
    .unwrap();
    write_frame(&mut s, &order).await;
    let got = codes(&read_frames(&mut s).await);
    assert_eq!(
        got,
        [
            "Malformed",
            "UnknownMessage",
            "Malformed",
            "Malformed",
            "rsp:6"
        ],
        "session survives bad frames"
    );

    write_frame(&mut s, &vec![b' '; 70 * 1024]).await;
    assert_eq!(
        codes(&read_frames(&mut s).await),
        ["FrameTooLarge", "disconnect:0x2003"]
    );

    let mut huge_prefix = TcpStream::connect(srv.trade_addr).await.unwrap();
    huge_prefix
        .write_all(&u32::MAX.to_be_bytes())
        .await
        .unwrap();
    assert_eq!(
        codes(&read_frames(&mut huge_prefix).await),
        ["FrameTooLarge", "disconnect:0x2003"]
    );

    // The good session still trades, and the record holds only what reached the exchange.
    good.req_order_insert(&buy("rb2410", 1, 3600.0, 1), 0).await;
    assert_eq!(
        final_order(&mut good_ev, "1").await.order_status,
        OrderStatus::AllTraded
    );
    assert!(good_ev
        .try_recv()
        .is_none_or(|e| !matches!(e, TraderEvent::OnFrontDisconnected(_))));
    let rec = srv.shared().exchange().record();
    assert_eq!(
        rec.orders.len(),
        2,
        "the pre-login order and the good one: {:?}",
        rec.orders
    );
    assert_eq!(rec.orders[0].error_id, error_id::NOT_LOGGED_IN);
    assert_eq!(rec.orders[1].volume_traded, 1);
    srv.shutdown().await;
}

/// Every `Hello` that names what this front does not speak (PROTOCOL.md: any other protocol,
/// version or front) gets `version_mismatch` and the connection closes, whether its body
/// parses (an unknown number, another protocol, the other front) or not (an unknown front,
/// a version of another JSON type).
#[rstest]
#[case::unknown_front(r#"{"Protocol":"mock-ctp","Version":1,"Front":"xyz"}"#)]
#[case::front_in_capitals(r#"{"Protocol":"mock-ctp","Version":1,"Front":"TRADE"}"#)]
#[case::the_other_front(r#"{"Protocol":"mock-ctp","Version":1,"Front":"md"}"#)]
#[case::version_as_text(r#"{"Protocol":"mock-ctp","Version":"1","Front":"trade"}"#)]
#[case::version_as_float(r#"{"Protocol":"mock-ctp","Version":1.0,"Front":"trade"}"#)]
#[case::another_version(r#"{"Protocol":"mock-ctp","Version":2,"Front":"trade"}"#)]
#[case::another_protocol(r#"{"Protocol":"ctp","Version":1,"Front":"trade"}"#)]
#[tokio::test]
async fn a_hello_for_another_front_or_version_is_a_version_mismatch(#[case] body: &str) {
    let srv = server().await;
    let mut s = TcpStream::connect(srv.trade_addr).await.unwrap();
    write_frame(
        &mut s,
        format!(r#"{{"msg":"Hello","body":{body}}}"#).as_bytes(),
    )
    .await;
    let got = read_frames(&mut s).await;
    assert_eq!(codes(&got), ["VersionMismatch"], "{body}: {got:?}");
    let mut rest = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(2), s.read(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "{body}: the connection stays open: {closed:?}"
    );
}
