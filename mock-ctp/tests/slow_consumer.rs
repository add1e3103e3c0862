//! A peer that stops reading, on either front: once nothing it is sent is taken for the front's
//! write timeout, the front resets the socket whatever is still queued, forgets the session
//! (it leaves `/sessions`, its slot is free) and notes the drop in its record. The peer keeps
//! sending heartbeats, so it is the stalled write that drops it, not the heartbeat timeout.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::{SinkExt, StreamExt};
use mock_ctp::protocol::*;
use mock_ctp::server::{FrontConfig, MockServer};
use rstest::rstest;
use serde_json::Value;
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::codec::Framed;

const WRITE_TIMEOUT: Duration = Duration::from_millis(400);

async fn server_with_short_write_timeout(md_rate: f64) -> MockServer {
    MockServer::builder()
        .seed(7)
        .trading_day("20240126")
        .md_rate(md_rate)
        .front_config(FrontConfig {
            write_timeout: WRITE_TIMEOUT,
            heartbeat_timeout: Duration::from_secs(120),
            ..FrontConfig::default()
        })
        .start()
        .await
        .expect("mock starts")
}

/// A raw connection whose receive buffer is as small as the kernel allows, so that a peer
/// that stops reading fills it at once.
async fn raw(addr: std::net::SocketAddr, front: FrontKind) -> Framed<TcpStream, CtpCodec> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    hello(socket.connect(addr).await.unwrap(), front).await
}

fn request<T>(field: T) -> Request<T> {
    Request {
        request_id: 1,
        field,
    }
}

/// Logs a raw trade connection in as `INVESTOR`, replaying its private flow from the start.
async fn log_in_trade(conn: &mut Framed<TcpStream, CtpCodec>) {
    let topic = SubscribeTopic {
        resume_type: ResumeType::Restart,
        seq_no: 0,
    };
    conn.send(Message::SubscribePrivateTopic(topic))
        .await
        .unwrap();
    let auth = ReqAuthenticate {
        broker_id: "9999".into(),
        user_id: INVESTOR.into(),
        app_id: "client_mockctp_1.0".into(),
        auth_code: "0000000000000000".into(),
    };
    conn.send(Message::ReqAuthenticate(request(auth)))
        .await
        .unwrap();
    let login = ReqUserLogin {
        broker_id: "9999".into(),
        user_id: INVESTOR.into(),
        password: "123456".into(),
    };
    conn.send(Message::ReqUserLogin(request(login)))
        .await
        .unwrap();
}

/// Fills the investor's private flow: `n` orders that trade at once (four returns each), an
/// open and its close in turn so that the account's margin never runs out.
async fn fill_the_private_flow(srv: &MockServer, n: u32) {
    let (c, mut ev, _) = trader(srv).await;
    for i in 1..=n {
        let o = match i % 2 {
            1 => buy("rb2410", i, 3600.0, 1),
            _ => order(
                "rb2410",
                i,
                Direction::Sell,
                OffsetFlag::CloseToday,
                3600.0,
                1,
            ),
        };
        c.req_order_insert(&o, 0).await;
    }
    final_order(&mut ev, &n.to_string()).await;
    c.release().await;
    let t0 = Instant::now();
    while sessions(srv, "trade").await > 0 {
        assert!(t0.elapsed() < WAIT, "the filling session never left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sessions(srv: &MockServer, front: &str) -> usize {
    get(srv, "/sessions")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["front"] == front)
        .count()
}

/// Sends heartbeats and reads nothing until the front has dropped its `front` session, or
/// `limit` passed; returns how long the front took.
async fn stop_reading(
    srv: &MockServer,
    conn: &mut Framed<TcpStream, CtpCodec>,
    front: &str,
    limit: Duration,
) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        // A write the kernel cannot take (the front reset the socket) is fine: it is gone.
        let _ =
            tokio::time::timeout(Duration::from_millis(50), conn.send(Message::Heartbeat)).await;
        if sessions(srv, front).await == 0 {
            return Some(t0.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[rstest]
#[case::trade_front_replaying_a_long_private_flow("trade")]
#[case::md_front_under_fast_market_data("md")]
#[tokio::test]
async fn a_peer_that_stops_reading_is_dropped_whatever_is_queued(#[case] front: &str) {
    let srv = match front {
        "md" => server_with_short_write_timeout(20_000.0).await,
        _ => server_with_short_write_timeout(0.0).await,
    };
    let mut conn = match front {
        "md" => {
            let mut c = raw(srv.md_addr, FrontKind::Md).await;
            c.send(Message::ReqUserLogin(request(ReqUserLogin::default())))
                .await
                .unwrap();
            let all = ["IF2409", "au2412", "cu2409", "rb2410"].map(String::from);
            let sub = SubscribeMarketData {
                instrument_ids: all.to_vec(),
            };
            c.send(Message::SubscribeMarketData(request(sub)))
                .await
                .unwrap();
            c
        }
        _ => {
            // About 5 MB of returns: more than the socket buffers hold on loopback.
            fill_the_private_flow(&srv, 3_000).await;
            let mut c = raw(srv.trade_addr, FrontKind::Trade).await;
            log_in_trade(&mut c).await;
            c
        }
    };
    let took = stop_reading(&srv, &mut conn, front, Duration::from_secs(30)).await;
    assert!(
        took.is_some(),
        "the {front} front still lists a peer that stopped reading 30 s ago"
    );
    let record = get(&srv, "/record").await;
    let drops: Vec<&Value> = record["disconnects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["front"] == front)
        .collect();
    assert_eq!(drops.len(), 1, "{record:#}");
    assert_eq!(drops[0]["reason"], reason::WRITE_FAILED, "{:#}", drops[0]);
    assert_eq!(drops[0]["slow_consumer"], true, "{:#}", drops[0]);
    if front == "trade" {
        assert_eq!(drops[0]["user_id"], INVESTOR, "{:#}", drops[0]);
    }
    // The socket was reset: reading what was queued ends in an error or the end, never hangs.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = conn.next().await {}
    })
    .await;
    assert!(end.is_ok(), "the dropped socket is still open");
    srv.shutdown().await;
}

#[tokio::test]
async fn a_slow_but_reading_peer_is_not_dropped() {
    let srv = server_with_short_write_timeout(0.0).await;
    fill_the_private_flow(&srv, 500).await;
    let mut conn = raw(srv.trade_addr, FrontKind::Trade).await;
    log_in_trade(&mut conn).await;
    // Reads the replay a frame at a time with pauses shorter than the write timeout.
    let mut read = 0;
    while let Ok(Some(Ok(_))) =
        tokio::time::timeout(Duration::from_millis(1_000), conn.next()).await
    {
        read += 1;
        if read % 200 == 0 {
            tokio::time::sleep(WRITE_TIMEOUT / 4).await;
        }
    }
    assert!(read > 1_500, "read {read} frames");
    assert_eq!(
        sessions(&srv, "trade").await,
        1,
        "the session is still listed"
    );
    let record = get(&srv, "/record").await;
    assert_eq!(record["disconnects"], serde_json::json!([]), "{record:#}");
    srv.shutdown().await;
}
