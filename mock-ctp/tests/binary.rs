//! The `mock-ctp` binary over TCP: it starts fast, answers /health without a token, and a
//! client logs in, trades, and reads market data through it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use mock_ctp::client::{MdClient, MdEvent, TraderClient, TraderEvent};
use mock_ctp::protocol::*;

/// Kills the child when the test ends, pass or fail.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_serves_trading_market_data_and_admin_over_tcp() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let started = Instant::now();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_mock-ctp"))
            .args([
                "--trade-addr",
                "127.0.0.1:0",
                "--md-addr",
                "127.0.0.1:0",
                "--admin-addr",
                "127.0.0.1:0",
            ])
            .args(["--seed", "42", "--md-rate", "200"])
            .arg("--fixtures")
            .arg(&fixtures)
            .env("MOCK_CTP_ADMIN_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .spawn()
            .expect("binary runs"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let addrs = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut addrs = Vec::new();
        let first = lines.next().unwrap().unwrap();
        assert_eq!(first, "mock-ctp seed=42");
        for _ in 0..3 {
            let l = lines.next().unwrap().unwrap();
            addrs.push(
                l.rsplit(' ')
                    .next()
                    .unwrap()
                    .parse::<std::net::SocketAddr>()
                    .unwrap(),
            );
        }
        addrs
    })
    .await
    .unwrap();
    let (trade, md, admin_addr) = (addrs[0], addrs[1], addrs[2]);
    let health = reqwest::get(format!("http://{admin_addr}/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "ready in {:?}",
        started.elapsed()
    );

    let (c, mut ev) = TraderClient::connect(trade).await.unwrap();
    login_as(&c, &mut ev, INVESTOR).await;
    c.req_order_insert(&buy("IF2409", 1, 3500.0, 1), 0).await;
    assert_eq!(
        final_order(&mut ev, "1").await.order_status,
        OrderStatus::AllTraded
    );
    let t = ev
        .wait_for(WAIT, |e| match e {
            TraderEvent::OnRtnTrade(p) => Some(p.field.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!((t.instrument_id.as_str(), t.volume), ("IF2409", 1));

    let (m, mut mev) = MdClient::connect(md).await.unwrap();
    m.req_user_login(&ReqUserLogin::default(), 1).await;
    m.subscribe_market_data(&["rb2410"]).await;
    let sub = mev
        .wait_for(WAIT, |e| match e {
            MdEvent::OnRspSubMarketData(r) => r.field.clone(),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(sub.instrument_id, "rb2410");
    for _ in 0..3 {
        let tick = mev
            .wait_for(WAIT, |e| match e {
                MdEvent::OnRtnDepthMarketData(d) => Some(d.clone()),
                _ => None,
            })
            .await
            .unwrap();
        assert_eq!(tick.instrument_id, "rb2410");
        assert!(
            tick.last_price >= tick.lower_limit_price && tick.last_price <= tick.upper_limit_price
        );
    }

    let rec: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{admin_addr}/record"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rec["orders"][0]["order_ref"], "1");
    assert_eq!(rec["orders"][0]["volume_traded"], 1);
    assert_eq!(rec["trades"].as_array().unwrap().len(), 1);
}
