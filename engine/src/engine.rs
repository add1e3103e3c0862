//! The shared state of a running engine and order admission: validate, look up, check risk
//! and reserve under the book's lock, then hand the order to the group committer and wait
//! for its commit. Only a committed order is acknowledged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Instant;

use contract::trading::v1 as pb;
use mock_ctp::client::TraderClient;
use tokio::sync::{broadcast, mpsc, watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::book::{Book, OrderRec};
use crate::committer::Admission;
use crate::config::Config;
use crate::convert::{now_us, order_pb};
use crate::fence::Token;
use crate::metrics::Metrics;
use crate::refusal::Refusal;
use crate::{risk, validate};

/// The outcome of a commit, as the request and pending duplicates wait for it: the order id
/// and when it was committed, or a refusal.
pub type AckResult = Option<Result<(i64, Instant), Refusal>>;

/// The fencing tokens an engine knows: the one it serves under, and the one that fenced it.
#[derive(Debug, Default, Clone)]
pub struct FenceState {
    pub serving: Option<Token>,
    pub superseded_by: Option<Token>,
}

/// The engine's role (contract/ENGINE_CONTRACT.md, "Roles and fencing").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleState {
    Standby,
    Promoting,
    Active,
    Draining,
    Fenced,
}

impl RoleState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standby => "standby",
            Self::Promoting => "promoting",
            Self::Active => "active",
            Self::Draining => "draining",
            Self::Fenced => "fenced",
        }
    }
}

/// Everything the engine's tasks share.
#[derive(Debug)]
pub struct Engine {
    pub cfg: Config,
    pub metrics: Metrics,
    pub book: Mutex<Book>,
    /// Admissions waiting for their commit, by client_order_id (duplicates wait on them).
    pub pending: Mutex<HashMap<String, watch::Receiver<AckResult>>>,
    pub prices: RwLock<HashMap<String, f64>>,
    /// Order reception (admin stop/resume).
    pub accepting: AtomicBool,
    pub active: AtomicBool,
    /// Between `POST /admin/promote` and serving.
    pub promoting: AtomicBool,
    /// Another site holds a higher fencing epoch: nothing is acknowledged, routed or applied.
    pub fenced: AtomicBool,
    pub fence: Mutex<FenceState>,
    pub started: AtomicBool,
    pub draining: AtomicBool,
    pub inflight: AtomicUsize,
    pub commit_tx: mpsc::Sender<Admission>,
    pub route_tx: mpsc::UnboundedSender<i64>,
    pub updates: broadcast::Sender<pb::Update>,
    pub outbox_notify: Notify,
    pub promote: Notify,
    /// Asks for a graceful shutdown (admin API; signals do the same).
    pub graceful: Notify,
    pub cache_tx: mpsc::Sender<crate::cache::CacheWrite>,
    pub trader: Mutex<Option<TraderClient>>,
    /// True while the trade session is logged in and reconciled.
    pub session_ready: watch::Sender<bool>,
    pub shutdown: CancellationToken,
}

impl Engine {
    pub fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn trader(&self) -> Option<TraderClient> {
        self.trader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn last_price(&self, instrument: &str) -> Option<f64> {
        self.prices
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(instrument)
            .copied()
    }

    pub fn is_fenced(&self) -> bool {
        self.fenced.load(SeqCst)
    }

    /// The role now; fenced wins over every other state.
    pub fn role(&self) -> RoleState {
        if self.fenced.load(SeqCst) {
            RoleState::Fenced
        } else if self.draining.load(SeqCst) {
            RoleState::Draining
        } else if self.active.load(SeqCst) {
            RoleState::Active
        } else if self.promoting.load(SeqCst) {
            RoleState::Promoting
        } else {
            RoleState::Standby
        }
    }

    pub fn fence_state(&self) -> FenceState {
        self.fence.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Fences the engine: from now on it refuses every order, and its session, relay and
    /// market data stop (`shutdown` ends the working tasks; probes and gRPC keep answering).
    pub fn fence_off(&self, by: Token) {
        tracing::error!(superseded_by = %by, site = %self.cfg.site, "fenced: another site holds a higher token (epoch, then site); acknowledging, routing and applying nothing");
        self.fence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .superseded_by = Some(by);
        self.fenced.store(true, SeqCst);
        self.shutdown.cancel();
    }

    fn fenced_reason(&self) -> String {
        let by = self
            .fence_state()
            .superseded_by
            .map(|t| t.to_string())
            .unwrap_or_else(|| "another site".into());
        format!("engine fenced: {by} holds the site fence; this site acknowledges nothing")
    }

    /// Whether the engine takes orders now (the readiness probe).
    pub fn is_ready(&self) -> bool {
        !self.fenced.load(SeqCst)
            && self.active.load(SeqCst)
            && self.accepting.load(SeqCst)
            && !self.draining.load(SeqCst)
            && *self.session_ready.borrow()
    }

    /// Why an order committed while the engine was fenced is refused, if it is now.
    pub fn fenced_now(&self) -> Option<String> {
        self.is_fenced().then(|| self.fenced_reason())
    }

    fn gate(&self) -> Result<(), Refusal> {
        if self.fenced.load(SeqCst) {
            return Err(Refusal::Unavailable(self.fenced_reason()));
        }
        if !self.active.load(SeqCst) {
            return Err(Refusal::Unavailable(
                "engine is a standby; promote it first".into(),
            ));
        }
        if self.draining.load(SeqCst) {
            return Err(Refusal::Unavailable("engine is shutting down".into()));
        }
        if !self.accepting.load(SeqCst) {
            return Err(Refusal::Unavailable("order reception is stopped".into()));
        }
        if !*self.session_ready.borrow() {
            return Err(Refusal::Unavailable(
                "ctp trade session is not ready".into(),
            ));
        }
        Ok(())
    }

    /// Admits an order: returns it once durable, or the original on a duplicate.
    pub async fn submit(&self, req: &pb::SubmitOrderRequest) -> Result<(pb::Order, bool), Refusal> {
        let t0 = Instant::now();
        self.inflight.fetch_add(1, SeqCst);
        let r = self.admit(req, t0).await;
        self.inflight.fetch_sub(1, SeqCst);
        match &r {
            Ok((_, false)) => {
                self.metrics.order_processing.observe(t0.elapsed());
                self.metrics.orders_processed.fetch_add(1, SeqCst);
            }
            Ok((_, true)) => {}
            Err(_) => {
                self.metrics.order_errors.fetch_add(1, SeqCst);
            }
        }
        r
    }

    async fn admit(
        &self,
        req: &pb::SubmitOrderRequest,
        t0: Instant,
    ) -> Result<(pb::Order, bool), Refusal> {
        let v = validate::order(req)?;
        if let Some(o) = self.original(&v.client_order_id).await? {
            return Ok((o, true));
        }
        self.gate()?;
        let (tx, rx) = watch::channel(None);
        let cid = v.client_order_id.clone();
        let Some(admission) = self.reserve(v, tx, &rx)? else {
            return self
                .original(&cid)
                .await?
                .map(|o| (o, true))
                .ok_or_else(|| Refusal::Internal("duplicate vanished".into()));
        };
        self.metrics.order_admission.observe(t0.elapsed());
        if self.commit_tx.send(admission).await.is_err() {
            return Err(Refusal::Unavailable("engine is shutting down".into()));
        }
        match self.wait(rx).await {
            Ok((id, committed)) => {
                self.metrics.order_reply.observe(committed.elapsed());
                Ok((self.order_by_id(id)?, false))
            }
            Err(e) => {
                tracing::warn!(client_order_id = %cid, error = %e, "order not committed");
                Err(e)
            }
        }
    }

    /// Looks up, checks risk and reserves under the book's lock; `None` for a duplicate.
    fn reserve(
        &self,
        v: validate::ValidOrder,
        tx: watch::Sender<AckResult>,
        rx: &watch::Receiver<AckResult>,
    ) -> Result<Option<Admission>, Refusal> {
        {
            let mut book = self.book();
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if book.by_client.contains_key(&v.client_order_id)
                || pending.contains_key(&v.client_order_id)
            {
                return Ok(None);
            }
            let account = book
                .accounts
                .get(&v.account_id)
                .filter(|a| a.account_id == self.cfg.user_id)
                .cloned()
                .ok_or_else(|| Refusal::NotFound {
                    what: "account",
                    id: v.account_id.clone(),
                })?;
            let instrument = book
                .instruments
                .get(&v.instrument_id)
                .cloned()
                .ok_or_else(|| Refusal::NotFound {
                    what: "instrument",
                    id: v.instrument_id.clone(),
                })?;
            if !validate::on_tick(v.limit_price, instrument.price_tick) {
                return Err(Refusal::invalid(
                    "limit_price",
                    format!("not a multiple of the price tick {}", instrument.price_tick),
                ));
            }
            let limit = book.limit(&v.account_id, &v.instrument_id).ok_or_else(|| {
                Refusal::State(format!(
                    "risk limit missing: no risk_limits row for account {}",
                    v.account_id
                ))
            })?;
            let ask = risk::OrderAsk {
                side: v.side,
                offset: v.offset,
                price: v.limit_price,
                volume: v.volume,
            };
            let dir = crate::book::PosiDir::of(v.side, v.offset);
            let position = book
                .positions
                .get(&(v.account_id.clone(), v.instrument_id.clone(), dir))
                .cloned()
                .unwrap_or_default();
            let margin = risk::check(
                &ask,
                &instrument,
                &limit,
                &account,
                &position,
                self.last_price(&v.instrument_id),
            )
            .map_err(Refusal::Risk)?;
            if let Some(a) = book.accounts.get_mut(&v.account_id) {
                a.frozen_margin += margin;
            }
            book.add_pending(&v.account_id, &v.instrument_id, v.side, v.offset, v.volume);
            pending.insert(v.client_order_id.clone(), rx.clone());
            let now = now_us();
            Ok(Some(Admission {
                rec: OrderRec {
                    order_id: 0,
                    client_order_id: v.client_order_id.clone(),
                    account_id: v.account_id,
                    instrument_id: v.instrument_id,
                    exchange_id: instrument.exchange_id,
                    side: v.side,
                    offset: v.offset,
                    limit_price: v.limit_price,
                    volume: v.volume,
                    volume_traded: 0,
                    status: contract::model::OrderStatus::New,
                    front_id: 0,
                    session_id: 0,
                    order_ref: String::new(),
                    order_sys_id: String::new(),
                    error_id: 0,
                    error_msg: String::new(),
                    frozen_margin: margin,
                    order_event_seq: 1,
                    trade_event_seq: 0,
                    trading_day: String::new(),
                    created_at_us: now,
                    updated_at_us: now,
                    sent: false,
                },
                done: tx,
                queued: Instant::now(),
            }))
        }
    }

    async fn wait(&self, mut rx: watch::Receiver<AckResult>) -> Result<(i64, Instant), Refusal> {
        loop {
            if let Some(r) = rx.borrow_and_update().clone() {
                return r;
            }
            if rx.changed().await.is_err() {
                return Err(Refusal::Unavailable(
                    "engine stopped before the commit".into(),
                ));
            }
        }
    }

    /// The original order of a client_order_id, waiting for its commit if it is in flight.
    async fn original(&self, cid: &str) -> Result<Option<pb::Order>, Refusal> {
        let rx = {
            let book = self.book();
            if let Some(id) = book.by_client.get(cid) {
                return Ok(book.orders.get(id).map(order_pb));
            }
            let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            match pending.get(cid) {
                Some(rx) => rx.clone(),
                None => return Ok(None),
            }
        };
        let (id, _) = self.wait(rx).await?;
        self.order_by_id(id).map(Some)
    }

    pub fn order_by_id(&self, id: i64) -> Result<pb::Order, Refusal> {
        self.book()
            .orders
            .get(&id)
            .map(order_pb)
            .ok_or_else(|| Refusal::NotFound {
                what: "order",
                id: id.to_string(),
            })
    }

    /// Looks an order up by id (when non-zero) or client id.
    pub fn find(&self, order_id: i64, client_order_id: &str) -> Result<OrderRec, Refusal> {
        let book = self.book();
        let id = if order_id != 0 {
            order_id
        } else if !client_order_id.is_empty() {
            *book
                .by_client
                .get(client_order_id)
                .ok_or_else(|| Refusal::NotFound {
                    what: "order",
                    id: client_order_id.to_owned(),
                })?
        } else {
            return Err(Refusal::invalid(
                "order_id",
                "set order_id or client_order_id",
            ));
        };
        book.orders
            .get(&id)
            .cloned()
            .ok_or_else(|| Refusal::NotFound {
                what: "order",
                id: id.to_string(),
            })
    }
}
