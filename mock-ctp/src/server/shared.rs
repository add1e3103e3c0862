//! State shared by the fronts, the admin API and the background tasks: the exchange under one
//! mutex, the wire faults, and the registry of live sessions.
//!
//! The exchange mutex is a std mutex held only for synchronous work, never across an await.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, Notify};

use crate::exchange::Exchange;

/// Timing and limits of the fronts.
#[derive(Debug, Clone)]
pub struct FrontConfig {
    pub max_frame_len: usize,
    /// How often a front sends a heartbeat to an idle client.
    pub heartbeat_interval: Duration,
    /// How long a front waits for any frame before dropping the session with 0x2001.
    pub heartbeat_timeout: Duration,
    /// How long a new connection has to send its `Hello`.
    pub handshake_timeout: Duration,
    /// How long a write may wait for a peer that takes nothing (its buffers full: it stopped
    /// reading) before the front drops it with 0x1002, resetting the socket whatever is queued.
    pub write_timeout: Duration,
    /// Default per-session limit of orders and cancels per second.
    pub orders_per_second: Option<u32>,
    /// The least time between two queries of a session (CTP's QryFreq, 1 per second): a query
    /// sooner than that is refused with `RspError` ErrorID 90. `None` turns the rule off.
    pub query_interval: Option<Duration>,
}

impl Default for FrontConfig {
    fn default() -> Self {
        Self {
            max_frame_len: crate::protocol::codec::DEFAULT_MAX_FRAME_LEN,
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            orders_per_second: None,
            query_interval: Some(Duration::from_secs(1)),
        }
    }
}

/// A command from the admin API to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Send `FrontDisconnected(reason)` and close.
    Disconnect(i32),
    /// The flow-control limit changed: tell the client.
    FlowControlChanged,
}

/// What the admin API shows of a session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub conn_id: u64,
    pub front: &'static str,
    pub peer: String,
    pub front_id: i32,
    pub session_id: i32,
    pub user_id: String,
    pub logged_in: bool,
}

#[derive(Debug)]
struct SessionEntry {
    info: SessionInfo,
    ctl: mpsc::UnboundedSender<Control>,
}

/// Faults that act on the wire rather than in the exchange.
#[derive(Debug, Default)]
pub struct WireFaults {
    /// Private: [`Self::set_hang`] is its one writer, and wakes the fronts waiting in
    /// [`Self::wait_while_hung`].
    hang_until: Mutex<Option<Instant>>,
    hang_changed: Notify,
    pub delay_returns_ms: AtomicU64,
    pub drop_returns: AtomicU64,
    pub flow_limit_by_session: Mutex<HashMap<i32, u32>>,
    pub flow_limit_default: Mutex<Option<u32>>,
}

impl WireFaults {
    /// Until when every front must stay silent, if a hang is on.
    pub fn hang_until(&self) -> Option<Instant> {
        let g = self.hang_until.lock().unwrap_or_else(|e| e.into_inner());
        g.filter(|t| *t > Instant::now())
    }

    /// Starts (`Some`) or ends (`None`) a hang; a front that is waiting one out wakes at once.
    pub fn set_hang(&self, until: Option<Instant>) {
        *self.hang_until.lock().unwrap_or_else(|e| e.into_inner()) = until;
        self.hang_changed.notify_waiters();
    }

    /// Returns when no hang is on: at the hang's end, or as soon as it is cleared (healed).
    /// Returns at once when none is on.
    pub async fn wait_while_hung(&self) {
        loop {
            let changed = self.hang_changed.notified();
            tokio::pin!(changed);
            // Registered before the check, so a clear between the two is not missed.
            changed.as_mut().enable();
            let Some(until) = self.hang_until() else {
                return;
            };
            tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => {}
                _ = changed => {}
            }
        }
    }

    /// A future that completes at the next change of the hang (started, ended, cleared). It
    /// counts changes from its creation on, polled or not (`Notify::notify_waiters`): create it
    /// before checking [`Self::hang_until`], so that a hang starting in between is not missed.
    pub fn hang_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.hang_changed.notified()
    }

    /// Consumes one of the returns to drop, if any are left.
    pub fn take_drop(&self) -> bool {
        self.drop_returns
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The orders-per-second limit of a session.
    pub fn flow_limit(&self, session_id: i32) -> Option<u32> {
        let per = self
            .flow_limit_by_session
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(l) = per.get(&session_id) {
            return Some(*l).filter(|l| *l > 0);
        }
        *self
            .flow_limit_default
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// Everything the tasks of a running server share.
#[derive(Debug)]
pub struct Shared {
    pub exchange: Mutex<Exchange>,
    pub faults: WireFaults,
    pub front: FrontConfig,
    /// Wakes the matching driver when an order may have a fill scheduled.
    pub matching_wake: Notify,
    /// Where each trade session's private flow started and ended.
    pub flow_log: super::flow_log::FlowLog,
    sessions: Mutex<HashMap<u64, SessionEntry>>,
    next_conn: AtomicU64,
}

impl Shared {
    /// Wraps an exchange.
    pub fn new(exchange: Exchange, front: FrontConfig) -> Self {
        let faults = WireFaults::default();
        *faults
            .flow_limit_default
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = front.orders_per_second;
        Self {
            exchange: Mutex::new(exchange),
            faults,
            front,
            matching_wake: Notify::new(),
            flow_log: Default::default(),
            sessions: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
        }
    }

    /// Locks the exchange (a panic elsewhere does not poison the mock for other sessions).
    pub fn exchange(&self) -> std::sync::MutexGuard<'_, Exchange> {
        self.exchange.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<u64, SessionEntry>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a connection; returns its id and its control receiver.
    pub fn register(
        &self,
        front: &'static str,
        peer: SocketAddr,
    ) -> (u64, mpsc::UnboundedReceiver<Control>) {
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (ctl, rx) = mpsc::unbounded_channel();
        let info = SessionInfo {
            conn_id,
            front,
            peer: peer.to_string(),
            front_id: 0,
            session_id: 0,
            user_id: String::new(),
            logged_in: false,
        };
        self.sessions().insert(conn_id, SessionEntry { info, ctl });
        (conn_id, rx)
    }

    /// Records a login on a connection.
    pub fn set_logged_in(&self, conn_id: u64, front_id: i32, session_id: i32, user: &str) {
        if let Some(e) = self.sessions().get_mut(&conn_id) {
            e.info.front_id = front_id;
            e.info.session_id = session_id;
            e.info.user_id = user.to_owned();
            e.info.logged_in = true;
        }
    }

    /// Forgets a connection.
    pub fn unregister(&self, conn_id: u64) {
        self.sessions().remove(&conn_id);
    }

    /// Every live connection.
    pub fn session_infos(&self) -> Vec<SessionInfo> {
        let mut v: Vec<SessionInfo> = self.sessions().values().map(|e| e.info.clone()).collect();
        v.sort_by_key(|i| i.conn_id);
        v
    }

    /// How many logged-in trade sessions [`Self::control`] with `session_id` would reach.
    pub fn trade_sessions(&self, session_id: Option<i32>) -> usize {
        self.sessions()
            .values()
            .filter(|e| e.info.front == "trade" && e.info.logged_in)
            .filter(|e| session_id.is_none_or(|id| e.info.session_id == id))
            .count()
    }

    /// Sends a command to every connection whose SessionID matches (all when `None`);
    /// returns how many were told.
    pub fn control(&self, session_id: Option<i32>, ctl: Control) -> usize {
        self.sessions()
            .values()
            .filter(|e| session_id.is_none_or(|id| e.info.session_id == id))
            .filter(|e| e.ctl.send(ctl).is_ok())
            .count()
    }
}
