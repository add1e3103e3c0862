//! The market-data front in process: the snapshot at subscribe time, and trades moving the
//! last price.

mod common;

use common::*;
use mock_ctp::client::{MdClient, MdEvent};
use mock_ctp::protocol::*;

#[tokio::test]
async fn subscribe_gets_a_snapshot_and_trades_move_the_last_price() {
    let srv = server().await;
    let (m, mut mev) = MdClient::connect(srv.md_addr).await.unwrap();
    m.subscribe_market_data(&["rb2410"]).await;
    let err = mev
        .wait_for(WAIT, |e| match e {
            MdEvent::OnRspError(r) => Some(r.rsp_info.error_id),
            _ => None,
        })
        .await;
    assert_eq!(err, Some(error_id::NOT_LOGGED_IN), "subscribe before login");
    m.req_user_login(&ReqUserLogin::default(), 1).await;
    m.subscribe_market_data(&["rb2410"]).await;
    let first = mev
        .wait_for(WAIT, |e| match e {
            MdEvent::OnRtnDepthMarketData(d) => Some(d.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        (first.last_price, first.upper_limit_price),
        (3600.0, 3708.0)
    );
    let (c, mut ev, _) = trader(&srv).await;
    c.req_order_insert(&buy("rb2410", 1, 3605.0, 3), 0).await;
    final_order(&mut ev, "1").await;
    let moved = mev
        .wait_for(WAIT, |e| match e {
            MdEvent::OnRtnDepthMarketData(d) => Some(d.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!((moved.last_price, moved.volume), (3605.0, 3));
    srv.shutdown().await;
}
