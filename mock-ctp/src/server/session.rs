//! A trade-front session: login, requests, and the private flow written from the session's
//! cursor, with the wire faults (hang, delay, drop, disconnect) applied on the way out.
//!
//! One task per connection reads requests and writes everything, so a session's own returns
//! are written right after its request is handled, without a task hop; returns caused by other
//! sessions of the same investor arrive through the flow's watch channel.
//!
//! Queries follow CTP's QryFreq: one per second per session, a sooner one is refused with
//! ErrorID 90 (the client library refuses a second query in flight with -2 itself).
//!
//! Known gaps: a request is handled completely before the next is read (CTP's front pipelines).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::watch;

use super::conn::{self, Conn, End, WriteError};
use super::flow_log::FlowMark;
use super::shared::{Control, Shared};
use crate::exchange::flow_control::FlowControl;
use crate::exchange::private_flow::first_seq;
use crate::exchange::SessionCtx;
use crate::protocol::{
    error_id, reason, FlowControl as FlowControlMsg, FrontKind, Message, ProtocolErrorCode,
    Response, RspAuthenticate, RspInfo, RspUserLogin, SubscribeTopic,
};

/// How many flow entries a session copies out of the exchange per lock.
const FLOW_BATCH: usize = 256;

struct Session {
    shared: Arc<Shared>,
    conn_id: u64,
    ctx: SessionCtx,
    subscription: SubscribeTopic,
    /// The next private-flow sequence number to write, once logged in.
    cursor: Option<u64>,
    flow_rx: Option<watch::Receiver<u64>>,
    flow_control: FlowControl,
    /// When returns are delayed: when the first one held back is due. The session goes on
    /// reading and answering requests meanwhile, as a front whose returns lag does.
    next_due: Option<Instant>,
    /// When the session's last query was answered (CTP's QryFreq counts from it).
    last_query: Option<Instant>,
}

/// Serves one trade-front connection until it closes.
pub async fn run(shared: Arc<Shared>, stream: TcpStream) {
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into());
    let Some(mut conn) = conn::accept(&shared, stream, FrontKind::Trade).await else {
        return;
    };
    let (conn_id, mut ctl) = shared.register("trade", peer);
    let subscription = SubscribeTopic {
        resume_type: crate::protocol::ResumeType::Restart,
        seq_no: 0,
    };
    let mut s = Session {
        shared: shared.clone(),
        conn_id,
        ctx: SessionCtx::default(),
        subscription,
        cursor: None,
        flow_rx: None,
        flow_control: FlowControl::default(),
        next_due: None,
        last_query: None,
    };
    let end = s.serve(&mut conn, &mut ctl).await;
    s.mark_end(&end);
    conn::finish(&shared, conn_id, "trade", conn, end).await;
    shared.exchange().logout(&mut s.ctx);
    shared.unregister(conn_id);
}

async fn sleep_until_due(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

async fn flow_changed(rx: &mut Option<watch::Receiver<u64>>) {
    if let Some(r) = rx {
        if r.changed().await.is_ok() {
            return;
        }
        // The flow was cleared by a reset: the admin API disconnects the session anyway.
        *rx = None;
    }
    std::future::pending().await
}

impl Session {
    /// The conversation, until it ends.
    async fn serve(
        &mut self,
        conn: &mut Conn,
        ctl: &mut tokio::sync::mpsc::UnboundedReceiver<Control>,
    ) -> End {
        match self.converse(conn, ctl).await {
            Ok(end) | Err(end) => end,
        }
    }

    /// The conversation; `Err` when a write failed or stalled.
    async fn converse(
        &mut self,
        conn: &mut Conn,
        ctl: &mut tokio::sync::mpsc::UnboundedReceiver<Control>,
    ) -> Result<End, End> {
        let mut heartbeat = tokio::time::interval(self.shared.front.heartbeat_interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_rx = Instant::now();
        let shared = self.shared.clone();
        loop {
            let hang_changed = shared.faults.hang_changed();
            // A hung front reads, writes and times out nothing, from the moment the hang starts;
            // its clock goes on: the heartbeat timeout counts from the last frame read, and a
            // session whose timeout ran out during the hang is dropped when it ends, unless the
            // peer's frames queued meanwhile are read first.
            if shared.faults.hang_until().is_some() {
                shared.faults.wait_while_hung().await;
                continue;
            }
            let deadline = last_rx + shared.front.heartbeat_timeout;
            tokio::select! {
                biased;
                _ = hang_changed => {}
                c = ctl.recv() => match c {
                    Some(Control::Disconnect(r)) => return Ok(End::Told(r)),
                    Some(Control::FlowControlChanged) => {
                        if self.ctx.logged_in {
                            conn.feed(self.flow_control_msg()).await?;
                        }
                    }
                    None => return Ok(End::Closed),
                },
                frame = tokio::time::timeout_at(deadline.into(), conn.next()) => match frame {
                    Err(_) => return Ok(End::Dropped(reason::HEARTBEAT_TIMEOUT)),
                    Ok(None) => return Ok(End::Closed),
                    Ok(Some(Err(e))) => return Ok(End::Unreadable(e)),
                    Ok(Some(Ok(Err(e)))) => {
                        last_rx = Instant::now();
                        conn::answer_frame_error(conn, e).await;
                    }
                    Ok(Some(Ok(Ok(msg)))) => {
                        last_rx = Instant::now();
                        for out in self.handle(msg).await {
                            conn.feed(out).await?;
                        }
                    }
                },
                _ = flow_changed(&mut self.flow_rx) => {}
                _ = sleep_until_due(self.next_due) => {}
                _ = heartbeat.tick() => conn.feed(Message::Heartbeat).await?,
            }
            self.write_flow(conn).await?;
            conn.flush().await?;
        }
    }

    /// Writes the private flow from the cursor on, applying the delay and drop faults. A
    /// delayed entry that is not due yet stops the writing until it is ([`Self::next_due`]),
    /// without holding up requests: queries and their answers overtake the late returns.
    async fn write_flow(&mut self, conn: &mut Conn) -> Result<(), WriteError> {
        self.next_due = None;
        let Some(mut cursor) = self.cursor else {
            return Ok(());
        };
        loop {
            let batch =
                self.shared
                    .exchange()
                    .flows()
                    .read_from(&self.ctx.user_id, cursor, FLOW_BATCH);
            if batch.is_empty() {
                break;
            }
            for entry in batch {
                let delay_ms = self.shared.faults.delay_returns_ms.load(Ordering::Relaxed);
                if delay_ms > 0 {
                    let due = entry.appended_at + Duration::from_millis(delay_ms);
                    if due > Instant::now() {
                        self.next_due = Some(due);
                        return Ok(());
                    }
                }
                if self.shared.faults.hang_until().is_some() {
                    conn.flush().await?;
                    self.shared.faults.wait_while_hung().await;
                }
                cursor = entry.seq_no + 1;
                self.cursor = Some(cursor);
                if !self.shared.faults.take_drop() {
                    conn.feed(entry.message).await?;
                }
            }
        }
        Ok(())
    }

    fn flow_control_msg(&self) -> Message {
        let limit = self.shared.faults.flow_limit(self.ctx.session_id);
        Message::FlowControl(FlowControlMsg {
            max_orders_per_second: limit,
        })
    }

    /// Starts (or restarts) the private flow per the subscription.
    fn start_flow(&mut self) {
        let mut ex = self.shared.exchange();
        let last = ex.flows().last_seq(&self.ctx.user_id);
        let sub = &self.subscription;
        let from_seq = first_seq(sub.resume_type, sub.seq_no, last);
        self.cursor = Some(from_seq);
        self.flow_rx = Some(ex.flows_mut().subscribe(&self.ctx.user_id));
        self.shared.flow_log.push(FlowMark::Started {
            at_us: crate::clock::now_us(),
            session_id: self.ctx.session_id,
            user_id: self.ctx.user_id.clone(),
            resume_type: format!("{:?}", sub.resume_type).to_lowercase(),
            from_seq,
            flow_last: last,
        });
    }

    /// Notes where the session's flow stopped, if it had one.
    fn mark_end(&self, end: &End) {
        let Some(next_seq) = self.cursor else {
            return;
        };
        let flow_last = self.shared.exchange().flows().last_seq(&self.ctx.user_id);
        let (end, told) = match end {
            End::Closed => ("closed".to_owned(), false),
            End::Told(r) => (format!("told {r:#06x}"), true),
            End::Dropped(r) => (format!("dropped {r:#06x}"), false),
            End::Unreadable(_) => ("unreadable".to_owned(), false),
            End::Stalled => ("stalled".to_owned(), false),
        };
        self.shared.flow_log.push(FlowMark::Ended {
            at_us: crate::clock::now_us(),
            session_id: self.ctx.session_id,
            user_id: self.ctx.user_id.clone(),
            end,
            told,
            next_seq,
            flow_last,
        });
    }

    async fn throttle(&mut self) {
        let limit = self.shared.faults.flow_limit(self.ctx.session_id);
        let at = self.flow_control.admit(Instant::now(), limit);
        if at > Instant::now() {
            tokio::time::sleep_until(at.into()).await;
        }
    }

    async fn handle(&mut self, msg: Message) -> Vec<Message> {
        let now = Instant::now();
        match msg {
            Message::Heartbeat => vec![],
            Message::ReqAuthenticate(r) => {
                let f = r.field;
                let info = self.shared.exchange().authenticate(
                    &mut self.ctx,
                    &f.user_id,
                    &f.app_id,
                    &f.auth_code,
                );
                let field = RspAuthenticate {
                    broker_id: f.broker_id,
                    user_id: f.user_id,
                    app_id: f.app_id,
                };
                vec![Message::RspAuthenticate(rsp(
                    Some(field),
                    info,
                    r.request_id,
                ))]
            }
            Message::ReqUserLogin(r) => self.login(r.field, r.request_id),
            Message::ReqSettlementInfoConfirm(r) => {
                let mut f = r.field;
                let info = self
                    .shared
                    .exchange()
                    .confirm_settlement(&mut self.ctx, &f.investor_id);
                let us = crate::clock::now_us();
                f.confirm_date = crate::clock::ymd(us);
                f.confirm_time = crate::clock::hms(us);
                vec![Message::RspSettlementInfoConfirm(rsp(
                    Some(f),
                    info,
                    r.request_id,
                ))]
            }
            Message::SubscribePrivateTopic(sub) => {
                self.subscription = sub;
                if self.ctx.logged_in {
                    self.start_flow();
                }
                vec![]
            }
            Message::ReqOrderInsert(r) => {
                self.throttle().await;
                let field = r.field.clone();
                let rejected = self
                    .shared
                    .exchange()
                    .insert_order(&mut self.ctx, r.field, now);
                self.shared.matching_wake.notify_one();
                match rejected {
                    Some(info) => vec![Message::RspOrderInsert(rsp(
                        Some(field),
                        info,
                        r.request_id,
                    ))],
                    None => vec![],
                }
            }
            Message::ReqOrderAction(r) => {
                self.throttle().await;
                let field = r.field.clone();
                match self.shared.exchange().cancel_order(&self.ctx, r.field, now) {
                    Some(info) => vec![Message::RspOrderAction(rsp(
                        Some(field),
                        info,
                        r.request_id,
                    ))],
                    None => vec![],
                }
            }
            Message::ReqQryOrder(r)
            | Message::ReqQryTrade(r)
            | Message::ReqQryInvestorPosition(r)
            | Message::ReqQryTradingAccount(r)
                if self.too_frequent(now) =>
            {
                let info = RspInfo::error(
                    error_id::QUERY_RATE_EXCEEDED,
                    "query too frequent (one per second)",
                );
                vec![Message::RspError(rsp(None, info, r.request_id))]
            }
            Message::ReqQryOrder(r) => self.query(r.request_id, Message::RspQryOrder, |ex, s| {
                ex.query_orders(s, &r.field)
            }),
            Message::ReqQryTrade(r) => self.query(r.request_id, Message::RspQryTrade, |ex, s| {
                ex.query_trades(s, &r.field)
            }),
            Message::ReqQryInvestorPosition(r) => {
                self.query(r.request_id, Message::RspQryInvestorPosition, |ex, s| {
                    ex.query_positions(s, &r.field)
                })
            }
            Message::ReqQryTradingAccount(r) => {
                self.query(r.request_id, Message::RspQryTradingAccount, |ex, s| {
                    ex.query_account(s).into_iter().collect()
                })
            }
            other => vec![Message::ProtocolError(crate::protocol::ProtocolError {
                code: ProtocolErrorCode::Unexpected,
                message: format!("{} is not a trade-front request", other.name()),
            })],
        }
    }

    fn login(&mut self, f: crate::protocol::ReqUserLogin, request_id: i32) -> Vec<Message> {
        let (info, field) = {
            let mut ex = self.shared.exchange();
            let info = ex.login(&mut self.ctx, &f.user_id, &f.password);
            let us = crate::clock::now_us();
            let field = RspUserLogin {
                trading_day: ex.trading_day().to_owned(),
                login_time: crate::clock::hms(us),
                broker_id: f.broker_id.clone(),
                user_id: f.user_id.clone(),
                system_name: "mock-ctp".into(),
                front_id: self.ctx.front_id,
                session_id: self.ctx.session_id,
                max_order_ref: "0".into(),
                shfe_time: crate::clock::hms(us),
                cffex_time: crate::clock::hms(us),
            };
            (info, field)
        };
        if info.is_error() {
            return vec![Message::RspUserLogin(rsp(None, info, request_id))];
        }
        self.shared.set_logged_in(
            self.conn_id,
            self.ctx.front_id,
            self.ctx.session_id,
            &f.user_id,
        );
        self.start_flow();
        vec![
            Message::RspUserLogin(rsp(Some(field), info, request_id)),
            self.flow_control_msg(),
        ]
    }

    /// Whether a query now comes sooner after the last answered one than the front allows;
    /// if not, it counts as the last one.
    fn too_frequent(&mut self, now: Instant) -> bool {
        let Some(interval) = self.shared.front.query_interval else {
            return false;
        };
        if !self.ctx.logged_in {
            return false;
        }
        if self.last_query.is_some_and(|t| now < t + interval) {
            return true;
        }
        self.last_query = Some(now);
        false
    }

    fn query<T>(
        &self,
        request_id: i32,
        wrap: fn(Response<T>) -> Message,
        rows: impl FnOnce(&crate::exchange::Exchange, &SessionCtx) -> Vec<T>,
    ) -> Vec<Message> {
        if !self.ctx.logged_in {
            let info = RspInfo::error(error_id::NOT_LOGGED_IN, "not logged in");
            return vec![wrap(rsp(None, info, request_id))];
        }
        let rows = rows(&self.shared.exchange(), &self.ctx);
        if rows.is_empty() {
            return vec![wrap(rsp(None, RspInfo::ok(), request_id))];
        }
        let n = rows.len();
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| {
                wrap(Response {
                    field: Some(row),
                    rsp_info: RspInfo::ok(),
                    request_id,
                    is_last: i + 1 == n,
                })
            })
            .collect()
    }
}

fn rsp<T>(field: Option<T>, rsp_info: RspInfo, request_id: i32) -> Response<T> {
    Response {
        field,
        rsp_info,
        request_id,
        is_last: true,
    }
}
