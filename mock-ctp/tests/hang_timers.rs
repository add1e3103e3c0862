//! What `/faults/hang` does to the fronts' timers, the same for every session: from the moment
//! the hang starts the fronts read, write and time out nothing; their clock goes on, so a
//! silent session is dropped (0x2001) the heartbeat timeout after the last frame the front
//! read, or at the end of the hang if that moment fell inside it. Three silent sessions logged
//! in at different times show it: each one's drop is predicted from its own last frame.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use mock_ctp::protocol::*;
use mock_ctp::server::{FrontConfig, MockServer};
use rstest::rstest;
use serde_json::json;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

const TIMEOUT: Duration = Duration::from_secs(2);
/// How far a drop may be from its predicted moment (a shared 2-core machine, a debug build);
/// the rule this replaced was off by 1.7 s or more in every case.
const SLACK: Duration = Duration::from_millis(800);

/// A connection that says Hello and then nothing; returns it and when the front acked.
async fn silent(
    addr: std::net::SocketAddr,
    front: FrontKind,
) -> (Framed<TcpStream, CtpCodec>, Instant) {
    let conn = hello(TcpStream::connect(addr).await.unwrap(), front).await;
    (conn, Instant::now())
}

/// Reads until the front drops the connection; returns the reason, when it came, and when
/// every other frame came.
async fn until_dropped(
    mut conn: Framed<TcpStream, CtpCodec>,
) -> (Option<i32>, Instant, Vec<Instant>) {
    let mut others = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(20), conn.next()).await {
            Ok(Some(Ok(Ok(Message::FrontDisconnected(d))))) => {
                return (Some(d.reason), Instant::now(), others)
            }
            Ok(Some(Ok(Ok(_)))) => others.push(Instant::now()),
            _ => return (None, Instant::now(), others),
        }
    }
}

#[rstest]
#[case::a_hang_shorter_than_every_timeout(1_200, 500)]
#[case::timeouts_that_run_out_inside_the_hang(1_500, 1_500)]
#[case::a_hang_longer_than_the_timeout(1_100, 2_500)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_treats_every_session_timer_the_same(
    #[case] hang_at_ms: u64,
    #[case] hang_ms: u64,
    #[values(FrontKind::Trade, FrontKind::Md)] front: FrontKind,
) {
    let srv = MockServer::builder()
        .seed(7)
        .trading_day("20240126")
        .front_config(FrontConfig {
            // Heartbeats every 100 ms: each session's loop turns during the hang.
            heartbeat_interval: Duration::from_millis(100),
            heartbeat_timeout: TIMEOUT,
            ..FrontConfig::default()
        })
        .start()
        .await
        .expect("mock starts");
    let addr = match front {
        FrontKind::Trade => srv.trade_addr,
        FrontKind::Md => srv.md_addr,
    };
    let t0 = Instant::now();
    let mut sessions = Vec::new();
    for offset in [0, 500, 1_000] {
        tokio::time::sleep_until((t0 + Duration::from_millis(offset)).into()).await;
        let (conn, acked) = silent(addr, front).await;
        sessions.push((acked, tokio::spawn(until_dropped(conn))));
    }
    tokio::time::sleep_until((t0 + Duration::from_millis(hang_at_ms)).into()).await;
    post(&srv, "/faults/hang", json!({ "ms": hang_ms })).await;
    let hang_start = Instant::now();
    let hang_end = hang_start + Duration::from_millis(hang_ms);
    for (i, (acked, task)) in sessions.into_iter().enumerate() {
        let (reason, dropped_at, others) = task.await.unwrap();
        assert_eq!(reason, Some(reason::HEARTBEAT_TIMEOUT), "session {i}");
        let due = acked + TIMEOUT;
        let expected = if due > hang_start && due < hang_end {
            hang_end
        } else {
            due
        };
        let off = if dropped_at > expected {
            dropped_at - expected
        } else {
            expected - dropped_at
        };
        assert!(
            off < SLACK,
            "session {i} (logged in at {:?}): dropped at {:?}, expected at {:?} (hang {:?}..{:?})",
            acked - t0,
            dropped_at - t0,
            expected - t0,
            hang_start - t0,
            hang_end - t0,
        );
        let inside = |t: &Instant| {
            *t > hang_start + Duration::from_millis(100)
                && *t + Duration::from_millis(100) < hang_end
        };
        assert!(
            !others.iter().any(inside),
            "session {i}: a hung front sent a frame at {:?} (hang {:?}..{:?})",
            others.iter().find(|t| inside(t)).map(|t| *t - t0),
            hang_start - t0,
            hang_end - t0,
        );
    }
    srv.shutdown().await;
}
