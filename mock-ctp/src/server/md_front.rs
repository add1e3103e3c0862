//! The market-data front: login, `SubscribeMarketData`, and `OnRtnDepthMarketData` for every
//! snapshot the exchange publishes (replayed ticks and the mock's own trades).
//!
//! As on CTP, the latest snapshot is sent at subscribe time and missed ticks are never
//! replayed; a consumer too slow to keep up (10,000 snapshots behind) is disconnected.
//!
//! Known gaps: no login check on the market-data front (CTP's does not check either, for most
//! brokers); unknown instruments are acknowledged but never publish.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpStream;
use tokio::sync::broadcast::error::RecvError;

use super::conn::{self, End};
use super::shared::{Control, Shared};
use crate::protocol::{
    reason, FrontKind, Message, ProtocolError, ProtocolErrorCode, Response, RspInfo, RspUserLogin,
    SpecificInstrument,
};

/// Serves one market-data connection until it closes.
pub async fn run(shared: Arc<Shared>, stream: TcpStream) {
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into());
    let Some(mut conn) = conn::accept(&shared, stream, FrontKind::Md).await else {
        return;
    };
    let (conn_id, mut ctl) = shared.register("md", peer);
    let mut ticks = shared.exchange().subscribe_md();
    let mut subscribed: HashSet<String> = HashSet::new();
    let mut logged_in = false;
    let mut heartbeat = tokio::time::interval(shared.front.heartbeat_interval);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_rx = Instant::now();
    let end = loop {
        let hang_changed = shared.faults.hang_changed();
        // As on the trade front: a hung front does nothing, and its clock goes on.
        if shared.faults.hang_until().is_some() {
            shared.faults.wait_while_hung().await;
            continue;
        }
        let deadline = last_rx + shared.front.heartbeat_timeout;
        let mut out: Vec<Message> = Vec::new();
        tokio::select! {
            biased;
            _ = hang_changed => {}
            c = ctl.recv() => match c {
                Some(Control::Disconnect(r)) => break End::Told(r),
                Some(Control::FlowControlChanged) => {}
                None => break End::Closed,
            },
            frame = tokio::time::timeout_at(deadline.into(), conn.next()) => match frame {
                Err(_) => break End::Dropped(reason::HEARTBEAT_TIMEOUT),
                Ok(None) => break End::Closed,
                Ok(Some(Err(e))) => break End::Unreadable(e),
                Ok(Some(Ok(Err(e)))) => {
                    last_rx = Instant::now();
                    conn::answer_frame_error(&mut conn, e).await;
                }
                Ok(Some(Ok(Ok(msg)))) => {
                    last_rx = Instant::now();
                    handle(&shared, msg, &mut logged_in, &mut subscribed, &mut out);
                }
            },
            tick = ticks.recv() => match tick {
                Ok(t) if subscribed.contains(&t.instrument_id) => out.push(Message::RtnDepthMarketData(t)),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => break End::Dropped(reason::WRITE_FAILED),
                Err(RecvError::Closed) => break End::Closed,
            },
            _ = heartbeat.tick() => out.push(Message::Heartbeat),
        }
        if let Err(e) = write(&mut conn, out).await {
            break e.into();
        }
    };
    conn::finish(&shared, conn_id, "md", conn, end).await;
    shared.unregister(conn_id);
}

async fn write(conn: &mut conn::Conn, out: Vec<Message>) -> Result<(), conn::WriteError> {
    for m in out {
        conn.feed(m).await?;
    }
    conn.flush().await
}

fn handle(
    shared: &Shared,
    msg: Message,
    logged_in: &mut bool,
    subscribed: &mut HashSet<String>,
    out: &mut Vec<Message>,
) {
    match msg {
        Message::Heartbeat => {}
        Message::ReqUserLogin(r) => {
            *logged_in = true;
            let ex = shared.exchange();
            let now = crate::clock::hms(crate::clock::now_us());
            let field = RspUserLogin {
                trading_day: ex.trading_day().to_owned(),
                login_time: now.clone(),
                broker_id: r.field.broker_id,
                user_id: r.field.user_id,
                system_name: "mock-ctp md".into(),
                front_id: ex.front_id(),
                shfe_time: now.clone(),
                cffex_time: now,
                ..Default::default()
            };
            out.push(Message::RspUserLogin(Response {
                field: Some(field),
                rsp_info: RspInfo::ok(),
                request_id: r.request_id,
                is_last: true,
            }));
        }
        Message::SubscribeMarketData(r) | Message::UnSubscribeMarketData(r) if !*logged_in => {
            let info = RspInfo::error(crate::protocol::error_id::NOT_LOGGED_IN, "not logged in");
            out.push(Message::RspError(Response {
                field: None,
                rsp_info: info,
                request_id: r.request_id,
                is_last: true,
            }));
        }
        Message::SubscribeMarketData(r) => {
            let ex = shared.exchange();
            let n = r.field.instrument_ids.len();
            let mut snapshots = Vec::new();
            for (i, id) in r.field.instrument_ids.into_iter().enumerate() {
                snapshots.extend(ex.snapshot(&id));
                subscribed.insert(id.clone());
                let field = SpecificInstrument { instrument_id: id };
                out.push(Message::RspSubMarketData(Response {
                    field: Some(field),
                    rsp_info: RspInfo::ok(),
                    request_id: r.request_id,
                    is_last: i + 1 == n,
                }));
            }
            out.extend(snapshots.into_iter().map(Message::RtnDepthMarketData));
        }
        Message::UnSubscribeMarketData(r) => {
            let n = r.field.instrument_ids.len();
            for (i, id) in r.field.instrument_ids.into_iter().enumerate() {
                subscribed.remove(&id);
                out.push(Message::RspUnSubMarketData(Response {
                    field: Some(SpecificInstrument { instrument_id: id }),
                    rsp_info: RspInfo::ok(),
                    request_id: r.request_id,
                    is_last: i + 1 == n,
                }));
            }
        }
        other => out.push(Message::ProtocolError(ProtocolError {
            code: ProtocolErrorCode::Unexpected,
            message: format!("{} is not a market-data request", other.name()),
        })),
    }
}
