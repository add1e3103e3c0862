//! `MockServer`: a builder that loads fixtures and binds the three listeners, and the handle
//! of the running mock with its bound addresses and an explicit async shutdown.
//!
//! Binding happens before `start` returns, so a caller (or the container's readiness probe on
//! `GET /health`) can connect as soon as it has the addresses.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::shared::{FrontConfig, Shared};
use super::{admin, md_front, md_replay, session};
use crate::error::ServerError;
use crate::exchange::accounts::{self, AccountsFile};
use crate::exchange::instruments::{self, InstrumentSpec};
use crate::exchange::{Exchange, ExchangeConfig};

/// Configures a mock front.
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    trade_addr: SocketAddr,
    md_addr: SocketAddr,
    admin_addr: SocketAddr,
    admin_token: String,
    fixtures: Option<PathBuf>,
    md_rate_per_s: f64,
    exchange: ExchangeConfig,
    front: FrontConfig,
    password: Option<String>,
    auth_code: Option<String>,
}

/// A running mock. Dropping it aborts its tasks; prefer [`MockServer::shutdown`].
#[derive(Debug)]
pub struct MockServer {
    pub trade_addr: SocketAddr,
    pub md_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
}

impl MockServer {
    /// A builder that listens on 127.0.0.1 with OS-chosen ports and the repository's fixtures.
    pub fn builder() -> MockServerBuilder {
        let local: SocketAddr = ([127, 0, 0, 1], 0).into();
        MockServerBuilder {
            trade_addr: local,
            md_addr: local,
            admin_addr: local,
            admin_token: "test-token".into(),
            fixtures: None,
            md_rate_per_s: 0.0,
            exchange: ExchangeConfig::default(),
            front: FrontConfig::default(),
            password: None,
            auth_code: None,
        }
    }

    /// The shared state, for in-process tests.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops accepting, drops every session and waits for the tasks to end.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

impl MockServerBuilder {
    pub fn trade_addr(mut self, a: SocketAddr) -> Self {
        self.trade_addr = a;
        self
    }
    pub fn md_addr(mut self, a: SocketAddr) -> Self {
        self.md_addr = a;
        self
    }
    pub fn admin_addr(mut self, a: SocketAddr) -> Self {
        self.admin_addr = a;
        self
    }
    pub fn admin_token(mut self, t: impl Into<String>) -> Self {
        self.admin_token = t.into();
        self
    }
    /// The directory holding instruments.json, accounts.json and ticks/.
    pub fn fixtures(mut self, dir: impl Into<PathBuf>) -> Self {
        self.fixtures = Some(dir.into());
        self
    }
    /// Replayed snapshots per second in total (0 turns replay off).
    pub fn md_rate(mut self, per_s: f64) -> Self {
        self.md_rate_per_s = per_s;
        self
    }
    /// The seed of matching's randomness (also the base of SessionIDs).
    pub fn seed(mut self, seed: u64) -> Self {
        self.exchange.seed = seed;
        self
    }
    pub fn trading_day(mut self, day: impl Into<String>) -> Self {
        self.exchange.trading_day = day.into();
        self
    }
    pub fn exchange_config(mut self, cfg: ExchangeConfig) -> Self {
        self.exchange = cfg;
        self
    }
    pub fn front_config(mut self, cfg: FrontConfig) -> Self {
        self.front = cfg;
        self
    }

    /// Every investor of accounts.json logs in with `password` and authenticates with
    /// `auth_code` instead of the file's (a harness run gives each run its own).
    pub fn credentials(mut self, password: Option<String>, auth_code: Option<String>) -> Self {
        self.password = password;
        self.auth_code = auth_code;
        self
    }

    /// The repository's own fixtures directory (for tests and benches).
    pub fn repo_fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
    }

    /// Loads fixtures, binds the listeners and spawns the tasks.
    pub async fn start(self) -> Result<MockServer, ServerError> {
        let dir = self.fixtures.clone().unwrap_or_else(Self::repo_fixtures);
        let specs: std::collections::BTreeMap<String, InstrumentSpec> =
            instruments::load(&dir.join("instruments.json"))?;
        let mut accounts: AccountsFile = accounts::load(&dir.join("accounts.json"))?;
        for a in &mut accounts.accounts {
            if let Some(p) = &self.password {
                a.password.clone_from(p);
            }
            if let Some(c) = &self.auth_code {
                a.auth_code.clone_from(c);
            }
        }
        let ticks = md_replay::load_ticks(&dir.join("ticks"))?;
        let exchange = Exchange::new(self.exchange.clone(), specs, accounts);
        let shared = Arc::new(Shared::new(exchange, self.front.clone()));

        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Bind { addr, source })
        };
        let trade = bind(self.trade_addr).await?;
        let md = bind(self.md_addr).await?;
        let admin_l = bind(self.admin_addr).await?;
        let addr = |l: &TcpListener| l.local_addr().map_err(ServerError::LocalAddr);
        let (trade_addr, md_addr, admin_addr) = (addr(&trade)?, addr(&md)?, addr(&admin_l)?);

        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(trade, shared.clone(), |sh, st| {
            tokio::spawn(session::run(sh, st))
        }));
        tasks.spawn(accept_loop(md, shared.clone(), |sh, st| {
            tokio::spawn(md_front::run(sh, st))
        }));
        let app = admin::router(shared.clone(), self.admin_token.clone());
        tasks.spawn(async move {
            if let Err(e) = axum::serve(admin_l, app).await {
                tracing::error!(error = %e, "admin server stopped");
            }
        });
        tasks.spawn(matching_driver(shared.clone()));
        tasks.spawn(md_replay::replay(shared.clone(), ticks, self.md_rate_per_s));
        Ok(MockServer {
            trade_addr,
            md_addr,
            admin_addr,
            shared,
            tasks,
        })
    }
}

/// Accepts connections and spawns one task each; the connection tasks are aborted with the
/// accept loop through their JoinSet.
async fn accept_loop<F>(listener: TcpListener, shared: Arc<Shared>, spawn: F)
where
    F: Fn(Arc<Shared>, tokio::net::TcpStream) -> tokio::task::JoinHandle<()>,
{
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let handle = spawn(shared.clone(), stream);
                    conns.spawn(async move { let _ = handle.await; });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Runs partial fills when they are due, sleeping until the next one or until an order
/// arrives.
async fn matching_driver(shared: Arc<Shared>) {
    loop {
        let next = shared.exchange().next_fill_at();
        match next {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {}
                    _ = shared.matching_wake.notified() => {}
                }
            }
            None => shared.matching_wake.notified().await,
        }
        shared.exchange().advance(Instant::now());
    }
}
