//! Routes committed orders to the CTP front, in commit order (which is OrderRef order within
//! a session, as CTP requires). An order is marked sent before the request is written: if
//! the write's fate is unknown, the next login reconciles it against the exchange rather than
//! sending it again. Orders of an earlier session are left to that reconciliation too.

use std::sync::Arc;
use std::time::Duration;

use contract::model::{Offset, Side};
use mock_ctp::protocol::{
    ret, Direction, HedgeFlag, InputOrder, OffsetFlag, OrderPriceType, TimeCondition,
    VolumeCondition,
};
use tokio::sync::mpsc;

use crate::book::OrderRec;
use crate::engine::Engine;

/// The CTP request for an order.
pub fn input_order(engine: &Engine, o: &OrderRec) -> InputOrder {
    InputOrder {
        broker_id: engine.cfg.broker_id.clone(),
        investor_id: o.account_id.clone(),
        instrument_id: o.instrument_id.clone(),
        exchange_id: o.exchange_id.clone(),
        order_ref: o.order_ref.trim().to_owned(),
        user_id: engine.cfg.user_id.clone(),
        direction: match o.side {
            Side::Buy => Direction::Buy,
            Side::Sell => Direction::Sell,
        },
        comb_offset_flag: match o.offset {
            Offset::Open => OffsetFlag::Open,
            Offset::Close => OffsetFlag::Close,
            Offset::CloseToday => OffsetFlag::CloseToday,
            Offset::CloseYesterday => OffsetFlag::CloseYesterday,
        },
        comb_hedge_flag: HedgeFlag::Speculation,
        order_price_type: OrderPriceType::LimitPrice,
        limit_price: o.limit_price,
        volume_total_original: o.volume,
        time_condition: TimeCondition::Gfd,
        volume_condition: VolumeCondition::AnyVolume,
        min_volume: 1,
        request_id: o.request_id(),
    }
}

/// Marks an order sent and writes it; false if it was not written (left to reconciliation).
pub async fn send(engine: &Engine, order_id: i64) -> bool {
    if engine.is_fenced() {
        return false;
    }
    let Some(client) = engine.trader() else {
        return false;
    };
    loop {
        let req = {
            let mut book = engine.book();
            let (front, session) = (book.session.front_id, book.session.session_id);
            let ready = book.session.logged_in;
            let Some(o) = book.orders.get_mut(&order_id) else {
                return false;
            };
            if o.sent
                || !ready
                || o.front_id != front
                || o.session_id != session
                || o.status.is_final()
            {
                return false;
            }
            o.sent = true;
            input_order(engine, o)
        };
        match client.req_order_insert(&req, req.request_id).await {
            ret::OK => return true,
            ret::OVER_RATE => {
                if let Some(o) = engine.book().orders.get_mut(&order_id) {
                    o.sent = false;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            code => {
                tracing::warn!(
                    order_id,
                    code,
                    "order not written to the front; the next login reconciles it"
                );
                return false;
            }
        }
    }
}

pub async fn run(engine: Arc<Engine>, mut rx: mpsc::UnboundedReceiver<i64>) {
    let mut ready = engine.session_ready.subscribe();
    while let Some(id) = rx.recv().await {
        while !*ready.borrow_and_update() {
            if ready.changed().await.is_err() {
                return;
            }
        }
        send(&engine, id).await;
    }
}
