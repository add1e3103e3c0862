//! The mock CTP front's overhead: order insert → first `OnRtnOrder` round trip over loopback
//! TCP through the client library (median, P99), next to a bare length-prefixed echo over the
//! same loopback and runtime (what the network and tokio cost without the mock), and matching
//! throughput of the exchange core alone. Measures and prints; never asserts.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mock_ctp::client::{TraderClient, TraderEvent, TraderEvents};
use mock_ctp::protocol::*;
use mock_ctp::server::MockServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WARMUP: usize = 500;
const ROUND_TRIPS: usize = 5_000;
const MATCHING_ORDERS: u32 = 200_000;
const INVESTOR: &str = "000003";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.50), percentile(&samples, 0.99));
    println!(
        "{name}: n={} median={:.1} µs p99={:.1} µs max={:.1} µs",
        samples.len(),
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        samples[samples.len() - 1].as_secs_f64() * 1e6
    );
    p50
}

async fn wait(ev: &mut TraderEvents, mut pick: impl FnMut(&TraderEvent) -> bool) -> Result<()> {
    ev.wait_for(Duration::from_secs(5), |e| pick(e).then_some(()))
        .await
        .context("no callback")
}

async fn login(c: &TraderClient, ev: &mut TraderEvents) -> Result<()> {
    wait(ev, |e| matches!(e, TraderEvent::OnFrontConnected)).await?;
    let auth = ReqAuthenticate {
        broker_id: "9999".into(),
        user_id: INVESTOR.into(),
        app_id: "client_mockctp_1.0".into(),
        auth_code: "0000000000000000".into(),
    };
    c.req_authenticate(&auth, 1).await;
    wait(ev, |e| matches!(e, TraderEvent::OnRspAuthenticate(_))).await?;
    let req = ReqUserLogin {
        broker_id: "9999".into(),
        user_id: INVESTOR.into(),
        password: "123456".into(),
    };
    c.req_user_login(&req, 2).await;
    wait(
        ev,
        |e| matches!(e, TraderEvent::OnRspUserLogin(r) if r.rsp_info.error_id == 0),
    )
    .await?;
    let confirm = SettlementInfoConfirm {
        broker_id: "9999".into(),
        investor_id: INVESTOR.into(),
        ..Default::default()
    };
    c.req_settlement_info_confirm(&confirm, 3).await;
    wait(ev, |e| {
        matches!(e, TraderEvent::OnRspSettlementInfoConfirm(_))
    })
    .await
}

fn order(order_ref: usize) -> InputOrder {
    InputOrder {
        broker_id: "9999".into(),
        investor_id: INVESTOR.into(),
        instrument_id: "rb2410".into(),
        order_ref: order_ref.to_string(),
        direction: Direction::Buy,
        comb_offset_flag: OffsetFlag::Open,
        limit_price: 3600.0,
        volume_total_original: 1,
        ..Default::default()
    }
}

/// Insert → first OnRtnOrder; each iteration also drains the order's remaining returns.
async fn round_trips(srv: &MockServer) -> Result<Vec<Duration>> {
    let (c, mut ev) = TraderClient::connect(srv.trade_addr).await?;
    login(&c, &mut ev).await?;
    let mut samples = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..WARMUP + ROUND_TRIPS {
        let t0 = Instant::now();
        if c.req_order_insert(&order(i + 1), 0).await != 0 {
            bail!("insert refused");
        }
        wait(&mut ev, |e| matches!(e, TraderEvent::OnRtnOrder(_))).await?;
        let rt = t0.elapsed();
        wait(&mut ev, |e| matches!(e, TraderEvent::OnRtnTrade(_))).await?;
        if i >= WARMUP {
            samples.push(rt);
        }
    }
    c.release().await;
    Ok(samples)
}

/// A bare 4-byte-length-prefixed echo over loopback with a ~600-byte payload, as a baseline.
async fn echo_round_trips() -> Result<Vec<Duration>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let _ = s.set_nodelay(true);
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok(n) = s.read_u32().await else { return };
            if s.read_exact(&mut buf[..n as usize]).await.is_err() {
                return;
            }
            let mut out = n.to_be_bytes().to_vec();
            out.extend_from_slice(&buf[..n as usize]);
            if s.write_all(&out).await.is_err() {
                return;
            }
        }
    });
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let payload = vec![b'x'; 600];
    let mut back = vec![0u8; 600];
    let mut samples = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..WARMUP + ROUND_TRIPS {
        let t0 = Instant::now();
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&payload);
        s.write_all(&frame).await?;
        let n = s.read_u32().await?;
        s.read_exact(&mut back[..n as usize]).await?;
        if i >= WARMUP {
            samples.push(t0.elapsed());
        }
    }
    Ok(samples)
}

/// Orders per second through the exchange core alone (immediate fills, no network).
fn matching_throughput() -> Result<f64> {
    let (mut ex, mut s) = perf::hot::logged_in_exchange();
    let now = Instant::now();
    let t0 = Instant::now();
    for i in 0..MATCHING_ORDERS {
        if let Some(info) = ex.insert_order(&mut s, order(i as usize + 1), now) {
            bail!("order {i} rejected: {info:?}");
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let trades = ex.record().trades.len();
    println!(
        "matching: {MATCHING_ORDERS} orders, {trades} trades in {secs:.3} s = {:.0} orders/s",
        f64::from(MATCHING_ORDERS) / secs
    );
    Ok(f64::from(MATCHING_ORDERS) / secs)
}

fn main() -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let srv = MockServer::builder().seed(1).start().await?;
        let echo = report(
            "loopback echo baseline (600 B frames)",
            echo_round_trips().await?,
        );
        let mock = report(
            "order insert -> OnRtnOrder via mock-ctp",
            round_trips(&srv).await?,
        );
        // The whole round trip (client library + loopback + mock) bounds what the mock adds.
        println!(
            "mock-ctp round trip median {:.1} µs (whole path; the echo baseline is {:.1} µs but \
             reads each frame with two unbuffered reads, so it is a reference, not a floor)",
            mock.as_secs_f64() * 1e6,
            echo.as_secs_f64() * 1e6
        );
        srv.shutdown().await;
        anyhow::Ok(())
    })?;
    matching_throughput()?;
    Ok(())
}
