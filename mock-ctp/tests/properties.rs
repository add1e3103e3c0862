//! Properties of the exchange under random order flows (proptest), driven directly with a
//! simulated clock: private flows are gapless and increasing, traded volume never exceeds
//! ordered volume, trades sum to each order's traded volume, and the record equals what was
//! sent. Plus, over TCP: RESUME after a disconnect at any point yields exactly the missed
//! returns.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use mock_ctp::exchange::{accounts, instruments, Exchange, ExchangeConfig, SessionCtx};
use mock_ctp::protocol::*;
use proptest::prelude::*;

const INSTRUMENTS: [(&str, f64, f64); 4] = [
    ("rb2410", 3600.0, 1.0),
    ("cu2409", 73000.0, 10.0),
    ("au2412", 550.0, 0.02),
    ("IF2409", 3500.0, 0.2),
];

#[derive(Debug, Clone)]
enum Op {
    Insert {
        session: usize,
        inst: usize,
        sell: bool,
        offset: u8,
        ticks: i32,
        volume: i32,
        ioc: bool,
    },
    Cancel {
        session: usize,
        target: usize,
    },
    Advance {
        ms: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..4usize, any::<bool>(), 0..3u8, -2..3i32, -1..8i32, any::<bool>())
            .prop_map(|(session, inst, sell, offset, ticks, volume, ioc)| Op::Insert { session, inst, sell, offset, ticks, volume, ioc }),
        1 => (0..2usize, 0..40usize).prop_map(|(session, target)| Op::Cancel { session, target }),
        2 => (0..60u64).prop_map(|ms| Op::Advance { ms }),
    ]
}

fn exchange(seed: u64) -> Exchange {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let specs = instruments::load(&dir.join("instruments.json")).unwrap();
    let accts = accounts::load(&dir.join("accounts.json")).unwrap();
    let cfg = ExchangeConfig {
        seed,
        trading_day: "20240126".into(),
        ..Default::default()
    };
    Exchange::new(cfg, specs, accts)
}

fn session(ex: &mut Exchange, user: &str) -> SessionCtx {
    let mut s = SessionCtx::default();
    assert_eq!(
        ex.authenticate(&mut s, user, "client_mockctp_1.0", "0000000000000000")
            .error_id,
        0
    );
    assert_eq!(ex.login(&mut s, user, "123456").error_id, 0);
    assert_eq!(ex.confirm_settlement(&mut s, user).error_id, 0);
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn exchange_invariants_hold_under_random_flows(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..80)) {
        let mut ex = exchange(seed);
        let users = ["000001", "000003"];
        let mut sessions = [session(&mut ex, users[0]), session(&mut ex, users[1])];
        let mut now = Instant::now();
        let mut sent: Vec<(i32, InputOrder)> = Vec::new();
        let mut next_ref = [1u32, 1u32];
        for op in ops {
            match op {
                Op::Insert { session, inst, sell, offset, ticks, volume, ioc } => {
                    let (id, pre, tick) = INSTRUMENTS[inst];
                    let o = InputOrder {
                        broker_id: "9999".into(),
                        investor_id: users[session].into(),
                        instrument_id: id.into(),
                        order_ref: next_ref[session].to_string(),
                        direction: if sell { Direction::Sell } else { Direction::Buy },
                        comb_offset_flag: [OffsetFlag::Open, OffsetFlag::Close, OffsetFlag::CloseToday][offset as usize],
                        limit_price: pre + f64::from(ticks) * tick,
                        volume_total_original: volume,
                        time_condition: if ioc { TimeCondition::Ioc } else { TimeCondition::Gfd },
                        ..Default::default()
                    };
                    next_ref[session] += 1;
                    sent.push((sessions[session].session_id, o.clone()));
                    ex.insert_order(&mut sessions[session], o, now);
                }
                Op::Cancel { session, target } => {
                    let Some((sid, o)) = sent.get(target) else { continue };
                    let a = InputOrderAction { front_id: 1, session_id: *sid, order_ref: o.order_ref.clone(), investor_id: users[session].into(), ..Default::default() };
                    ex.cancel_order(&sessions[session], a, now);
                }
                Op::Advance { ms } => {
                    now += Duration::from_millis(ms);
                    ex.advance(now);
                }
            }
            // The fill queue names a next fill exactly when some order has one to come.
            let pending: usize = users.iter().map(|u| ex.pending_fills(u)).sum();
            prop_assert_eq!(ex.next_fill_at().is_some(), pending > 0);
        }
        // Every partial fill comes, by its due time: a bounded drain empties the queue.
        for _ in 0..1_000 {
            match ex.next_fill_at() {
                Some(at) => {
                    now = now.max(at);
                    ex.advance(now);
                }
                None => break,
            }
        }
        prop_assert_eq!(ex.next_fill_at(), None);
        prop_assert_eq!(users.iter().map(|u| ex.pending_fills(u)).sum::<usize>(), 0);
        // Private flows are gapless and increasing.
        for u in users {
            for (i, e) in ex.flows().all(u).iter().enumerate() {
                prop_assert_eq!(e.seq_no, i as u64 + 1);
            }
        }
        // The record equals what was sent, in order.
        let rec = ex.record();
        prop_assert_eq!(rec.orders.len(), sent.len());
        for (r, (sid, o)) in rec.orders.iter().zip(&sent) {
            prop_assert_eq!(r.session_id, *sid);
            prop_assert_eq!(&r.order_ref, &o.order_ref);
            prop_assert_eq!(&r.investor_id, &o.investor_id);
            prop_assert_eq!(&r.instrument_id, &o.instrument_id);
            prop_assert_eq!((r.direction, r.offset), (o.direction, o.comb_offset_flag));
            prop_assert_eq!((r.price, r.volume), (o.limit_price, o.volume_total_original));
            // Traded volume never exceeds ordered volume, and trades add up to it.
            prop_assert!(r.volume_traded >= 0 && r.volume_traded <= r.volume.max(0));
            let traded: i32 = rec.trades.iter().filter(|t| t.order_index == r.index).map(|t| t.volume).sum();
            prop_assert_eq!(traded, r.volume_traded);
            if r.error_id != 0 {
                prop_assert_eq!(r.volume_traded, 0);
            }
        }
        // Positions never go negative.
        for (u, s) in users.iter().zip(&sessions) {
            for p in ex.query_positions(s, &QryFilter::default()) {
                prop_assert!(p.position >= 0 && p.today_position >= 0, "{u}: {p:?}");
            }
        }
    }
}

/// Receives private-flow sequence numbers until `stop` says so or the connection drops.
async fn seqs_until(
    ev: &mut mock_ctp::client::TraderEvents,
    mut stop: impl FnMut(&[u64]) -> bool,
) -> Vec<u64> {
    use mock_ctp::client::TraderEvent;
    let mut out = Vec::new();
    while !stop(&out) {
        match tokio::time::timeout(common::WAIT, ev.recv()).await {
            Ok(Some(TraderEvent::OnRtnOrder(p))) => out.push(p.seq_no),
            Ok(Some(TraderEvent::OnRtnTrade(p))) => out.push(p.seq_no),
            Ok(Some(TraderEvent::OnFrontDisconnected(_))) => break,
            Ok(Some(_)) => {}
            _ => panic!("timed out after {out:?}"),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// RESUME after a disconnect at any point yields exactly the missed returns.
    #[test]
    fn resume_after_disconnect_at_any_point_is_exact(orders in 1usize..5, cut_frac in 0.0f64..1.0) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            use mock_ctp::client::TraderClient;
            use mock_ctp::server::Control;
            let srv = common::server().await;
            let (c, mut ev) = TraderClient::builder(srv.trade_addr)
                .resume(ResumeType::Resume)
                .reconnect(Some(Duration::from_millis(20)))
                .connect()
                .await
                .unwrap();
            let login = common::login_as(&c, &mut ev, common::INVESTOR).await;
            let cut = (orders as f64 * 4.0 * cut_frac) as usize;
            for r in 1..=orders {
                c.req_order_insert(&common::buy("rb2410", r as u32, 3600.0, 1), 0).await;
            }
            let mut before = seqs_until(&mut ev, |s| s.len() >= cut).await;
            srv.shared().control(Some(login.session_id), Control::Disconnect(reason::READ_FAILED));
            before.extend(seqs_until(&mut ev, |_| false).await);
            let seen = c.last_private_seq();
            assert_eq!(before, (1..=seen).collect::<Vec<_>>(), "in order, no gaps before the cut");
            common::login_as(&c, &mut ev, common::INVESTOR).await;
            // Orders still in the socket when the session was cut never reached the exchange,
            // as on CTP; the flow holds the returns of those that did.
            let total = srv.shared().exchange().flows().last_seq(common::INVESTOR);
            assert!(total <= orders as u64 * 4 && total % 4 == 0);
            let after = seqs_until(&mut ev, |s| seen + s.len() as u64 >= total).await;
            assert_eq!(after, (seen + 1..=total).collect::<Vec<_>>(), "exactly the missed returns");
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert!(std::iter::from_fn(|| ev.try_recv()).all(|e| !matches!(e, mock_ctp::client::TraderEvent::OnRtnOrder(_) | mock_ctp::client::TraderEvent::OnRtnTrade(_))), "no more");
            srv.shutdown().await;
        });
    }
}
