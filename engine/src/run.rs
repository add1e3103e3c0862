//! Start-up, the standby wait, the site fence (taken before the first write, watched while
//! active), and graceful shutdown.
//!
//! Shutdown (SIGTERM, SIGINT or POST /admin/graceful-shutdown) stops taking orders, lets
//! in-flight admissions commit, waits for routed orders to be confirmed by the exchange and
//! for the outbox to empty, each within a share of a 25 s budget, so the whole stays under
//! the 30 s the operations documents give a pod.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use contract::trading::v1::order_service_server::OrderServiceServer;
use tokio::sync::{broadcast, mpsc, watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::book::Book;
use crate::config::{Config, Role};
use crate::db::{self, Pg};
use crate::engine::{Engine, FenceState};
use crate::error::EngineError;
use crate::fence;
use crate::metrics::Metrics;

const SHUTDOWN_BUDGET: Duration = Duration::from_secs(25);

async fn connect_with_retry(url: &str, seed: Option<&str>) -> Result<Pg, EngineError> {
    let mut pg = Pg::new(url)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match db::prepare(&mut pg, seed).await {
            Ok(()) => return Ok(pg),
            Err(e) if Instant::now() < deadline => {
                tracing::warn!(error = %e, "postgresql not ready; retrying");
                pg.reset();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Runs the engine until it has shut down.
pub async fn run(cfg: Config) -> Result<(), EngineError> {
    if cfg.defects.any() {
        tracing::warn!(defects = ?cfg.defects, "TEST-ONLY DEFECTS ARE SWITCHED ON");
    }
    let seed = match std::env::var("ENGINE_FIXTURES_DIR") {
        Ok(dir) if !dir.is_empty() => Some(
            contract::fixtures::seed_sql(std::path::Path::new(&dir)).map_err(EngineError::Seed)?,
        ),
        _ => None,
    };
    let (commit_tx, commit_rx) = mpsc::channel(8192);
    let (route_tx, route_rx) = mpsc::unbounded_channel();
    let (cache_tx, cache_rx) = mpsc::channel(4096);
    let (updates, _) = broadcast::channel(16384);
    let engine = Arc::new(Engine {
        metrics: Metrics::default(),
        book: Mutex::new(Book::default()),
        pending: Mutex::new(HashMap::new()),
        prices: RwLock::new(HashMap::new()),
        accepting: AtomicBool::new(true),
        active: AtomicBool::new(false),
        promoting: AtomicBool::new(false),
        fenced: AtomicBool::new(false),
        fence: Mutex::new(FenceState::default()),
        started: AtomicBool::new(false),
        draining: AtomicBool::new(false),
        inflight: AtomicUsize::new(0),
        commit_tx,
        route_tx,
        updates,
        outbox_notify: Notify::new(),
        promote: Notify::new(),
        graceful: Notify::new(),
        cache_tx,
        trader: Mutex::new(None),
        session_ready: watch::channel(false).0,
        shutdown: CancellationToken::new(),
        cfg,
    });
    let http = tokio::net::TcpListener::bind(engine.cfg.http_addr)
        .await
        .map_err(|source| EngineError::Bind {
            what: "http",
            addr: engine.cfg.http_addr,
            source,
        })?;
    let http_engine = engine.clone();
    // Its own token: a fenced engine's work stops (`engine.shutdown`), its probes answer on.
    let http_stop = CancellationToken::new();
    let http_task = {
        let stop = http_stop.clone();
        tokio::spawn(async move {
            let app = crate::http::router(http_engine);
            let _ = axum::serve(http, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        })
    };
    // gRPC serves from the start, so that a standby answers UNAVAILABLE (the gate refuses
    // every order until promotion) rather than refusing connections.
    let grpc_listener = tokio::net::TcpListener::bind(engine.cfg.grpc_addr)
        .await
        .map_err(|source| EngineError::Bind {
            what: "grpc",
            addr: engine.cfg.grpc_addr,
            source,
        })?;
    let grpc_stop = CancellationToken::new();
    let grpc = {
        let svc = OrderServiceServer::new(crate::grpc::Service {
            engine: engine.clone(),
        });
        let stop = grpc_stop.clone();
        tokio::spawn(
            tonic::transport::Server::builder()
                .tcp_nodelay(true)
                .add_service(svc)
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
                    stop.cancelled_owned(),
                ),
        )
    };
    let stop_serving = || {
        grpc_stop.cancel();
        http_stop.cancel();
        engine.shutdown.cancel();
    };
    engine.started.store(true, SeqCst);
    // A standby may sit on a read-only PostgreSQL standby (the DR site's): it touches the
    // database only once promoted, after the database has been.
    // A standby restarted after its site was promoted (killed, say) finds its database a
    // primary holding its own site's fence: it starts as the active engine it had become,
    // through the same fence check as any active start, instead of waiting for a promotion
    // that already happened.
    // An engine started active whose database is a standby (its site rebuilt as the standby
    // of the new primary after a switchover, before a failback) can write nothing there: it
    // waits as a standby for its promotion, as one started standby does.
    let mut promoting = false;
    let wait_as_standby = match engine.cfg.role {
        Role::Standby => {
            let promoted = already_promoted(&engine).await;
            if promoted {
                tracing::info!(
                    "standby: its database was promoted and holds this site's fence; starting active"
                );
            }
            !promoted
        }
        Role::Active => {
            let recovering = database_in_recovery(&engine).await;
            if recovering {
                tracing::info!(
                    "active: its database is a standby (the site rejoined as one); waiting as a standby"
                );
            }
            recovering
        }
    };
    if wait_as_standby {
        tracing::info!("standby: waiting for POST /admin/promote");
        tokio::select! {
            _ = engine.promote.notified() => {}
            _ = signal() => { stop_serving(); return Ok(()); }
            _ = engine.graceful.notified() => { stop_serving(); return Ok(()); }
        }
        engine.promoting.store(true, SeqCst);
        promoting = true;
        tracing::info!("promoting");
    }
    let taken = tokio::select! {
        t = take_fence(&engine, seed.as_deref(), promoting) => t?,
        _ = signal() => { stop_serving(); return Ok(()); }
        _ = engine.graceful.notified() => { stop_serving(); return Ok(()); }
    };
    let mut pg = match taken {
        Taken::Serving(pg) => *pg,
        Taken::Fenced => {
            // Answers every order UNAVAILABLE and touches nothing until it is stopped (and
            // rebuilt as a standby of the new primary).
            tokio::select! {
                _ = signal() => {}
                _ = engine.graceful.notified() => {}
            }
            stop_serving();
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                let _ = grpc.await;
                let _ = http_task.await;
            })
            .await;
            tracing::info!("fenced engine stopped");
            return Ok(());
        }
    };
    {
        let mut book = Book::default();
        let n = db::load_book(&mut pg, &mut book).await?;
        tracing::info!(orders = n, accounts = book.accounts.len(), "book loaded");
        if !book.accounts.contains_key(&engine.cfg.user_id) {
            tracing::warn!(user = %engine.cfg.user_id, "no accounts row for CTP_USER_ID: every order will be refused as not found");
        }
        *engine.book() = book;
    }
    engine.active.store(true, SeqCst);
    engine.promoting.store(false, SeqCst);
    tokio::spawn(watch_fence(engine.clone()));
    crate::outbox::ensure_topics(&engine.cfg.kafka_brokers).await;
    let producer = crate::outbox::producer(&engine.cfg.kafka_brokers)?;
    let url = engine.cfg.database_url.clone();
    tokio::spawn(crate::committer::run(
        engine.clone(),
        commit_rx,
        Pg::writer(&url)?,
    ));
    tokio::spawn(crate::router::run(engine.clone(), route_rx));
    let session = tokio::spawn(crate::ctp::run(engine.clone(), Pg::writer(&url)?));
    let relay = tokio::spawn(crate::outbox::run(
        engine.clone(),
        Pg::writer(&url)?,
        producer,
    ));
    tokio::spawn(crate::md::run(engine.clone()));
    tokio::spawn(crate::cache::run(engine.clone(), cache_rx));
    tracing::info!(grpc = %engine.cfg.grpc_addr, http = %engine.cfg.http_addr, "engine active");
    tokio::select! {
        _ = signal() => tracing::info!("signal: graceful shutdown"),
        _ = engine.graceful.notified() => tracing::info!("admin: graceful shutdown"),
    }
    if !engine.is_fenced() {
        drain(&engine, &mut pg).await;
    }
    stop_serving();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = session.await;
        let _ = relay.await;
        let _ = grpc.await;
        let _ = http_task.await;
    })
    .await;
    tracing::info!("engine stopped");
    Ok(())
}

/// What taking the site fence came to.
enum Taken {
    /// The engine serves under its site's token, on this (prepared) connection.
    Serving(Box<Pg>),
    Fenced,
}

/// Whether a standby's database has already been promoted for this site: it answers, is no
/// longer in recovery, and its fence names this site. Anything else (unreachable, still a
/// standby, another site's token) keeps the engine a standby.
async fn already_promoted(engine: &Engine) -> bool {
    let check = async {
        let mut pg = Pg::new(&engine.cfg.database_url).ok()?;
        if in_recovery(&mut pg).await? {
            return Some(false);
        }
        let own = fence::read(&mut pg).await.ok()??;
        Some(own.site == engine.cfg.site)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), check).await,
        Ok(Some(true))
    )
}

/// Whether the engine's database answers as a standby (in recovery). Unreachable or slow to
/// answer (5 s) counts as not: an active start then goes on to the fence check, which waits
/// for the database.
async fn database_in_recovery(engine: &Engine) -> bool {
    let check = async {
        let mut pg = Pg::new(&engine.cfg.database_url).ok()?;
        in_recovery(&mut pg).await
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), check).await,
        Ok(Some(true))
    )
}

async fn in_recovery(pg: &mut Pg) -> Option<bool> {
    pg.get()
        .await
        .ok()?
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .ok()
        .map(|row| row.get(0))
}

/// Reads this site's token and the peers' before anything is written, so that an old primary
/// returning after a failover fences itself before its first write (under synchronous
/// replication that write would wait forever for a standby promoted away); then prepares the
/// database and serves under the site's token, or, when promoting, takes the next epoch.
async fn take_fence(
    engine: &Engine,
    seed: Option<&str>,
    promoting: bool,
) -> Result<Taken, EngineError> {
    let mut own_pg = Pg::new(&engine.cfg.database_url)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let own = loop {
        match fence::read(&mut own_pg).await {
            Ok(own) => break own,
            Err(e) if Instant::now() < deadline => {
                tracing::warn!(error = %e, "postgresql not ready for the fence read; retrying");
                own_pg.reset();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e),
        }
    };
    let peers = fence::peers(&engine.cfg.fence_peer_urls).await;
    // DEFECT (test only): an old primary that never looks at the peers serves on.
    if !promoting && !engine.cfg.defects.ignore_fence {
        if let Some(by) = fence::superseded_by(&engine.cfg.site, own.as_ref(), &peers) {
            engine.fence_off(by);
            return Ok(Taken::Fenced);
        }
    }
    let mut pg = connect_with_retry(&engine.cfg.database_url, seed).await?;
    let token = match (&own, promoting) {
        (Some(own), false) => own.clone(),
        _ => {
            let token = fence::next(&engine.cfg.site, own.as_ref(), &peers);
            fence::write(&mut pg, &token).await?;
            token
        }
    };
    tracing::info!(%token, peers = ?peers, "serving under the site fence");
    engine
        .fence
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .serving = Some(token);
    Ok(Taken::Serving(Box::new(pg)))
}

/// Reads the peers' tokens (and this site's own, which a rebuild as a standby replaces) every
/// [`fence::WATCH_INTERVAL`]; fences the engine at the first that supersedes it.
async fn watch_fence(engine: Arc<Engine>) {
    if engine.cfg.defects.ignore_fence {
        tracing::warn!("DEFECT ignore-fence: the peers' fencing tokens are never read");
        return;
    }
    let Ok(mut own_pg) = Pg::new(&engine.cfg.database_url) else {
        return;
    };
    let mut tick = tokio::time::interval(fence::WATCH_INTERVAL);
    loop {
        tokio::select! {
            _ = engine.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        // This site's database names another site only once it has been rebuilt as a standby
        // of the new primary; otherwise the engine judges by the token it serves under.
        let serving = engine.fence_state().serving;
        let read = tokio::time::timeout(Duration::from_secs(2), fence::read(&mut own_pg)).await;
        let own = match read {
            Ok(Ok(Some(own))) if own.site != engine.cfg.site => Some(own),
            Ok(Ok(_)) => serving,
            _ => {
                own_pg.reset();
                serving
            }
        };
        let peers = fence::peers(&engine.cfg.fence_peer_urls).await;
        if let Some(by) = fence::superseded_by(&engine.cfg.site, own.as_ref(), &peers) {
            engine.fence_off(by);
            return;
        }
    }
}

/// Stops taking orders and drains within [`SHUTDOWN_BUDGET`].
async fn drain(engine: &Engine, pg: &mut Pg) {
    let t0 = Instant::now();
    let deadline = t0 + SHUTDOWN_BUDGET;
    engine.draining.store(true, SeqCst);
    let step = |until: Instant| tokio::time::sleep_until(until.min(deadline).into());
    let phase1 = t0 + Duration::from_secs(5);
    while (engine.inflight.load(SeqCst) > 0
        || !engine
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty())
        && Instant::now() < phase1
    {
        step(Instant::now() + Duration::from_millis(10)).await;
    }
    let phase2 = t0 + Duration::from_secs(15);
    loop {
        let unconfirmed = engine
            .book()
            .orders
            .values()
            .filter(|o| o.sent && !o.status.is_final() && o.order_sys_id.trim().is_empty())
            .count();
        if unconfirmed == 0 || Instant::now() >= phase2 {
            if unconfirmed > 0 {
                tracing::warn!(
                    unconfirmed,
                    "orders still unconfirmed by the exchange; the next start reconciles them"
                );
            }
            break;
        }
        step(Instant::now() + Duration::from_millis(20)).await;
    }
    engine.outbox_notify.notify_one();
    loop {
        let unsent = match pg.get().await {
            Ok(c) => c
                .query_one("SELECT count(*) FROM outbox WHERE sent_at IS NULL", &[])
                .await
                .map(|r| r.get::<_, i64>(0))
                .unwrap_or(-1),
            Err(_) => -1,
        };
        if unsent == 0 || Instant::now() >= deadline {
            if unsent != 0 {
                tracing::warn!(
                    unsent,
                    "outbox not empty at shutdown; the next start relays it"
                );
            }
            break;
        }
        step(Instant::now() + Duration::from_millis(50)).await;
    }
    tracing::info!(elapsed_ms = t0.elapsed().as_millis() as u64, "drained");
}
