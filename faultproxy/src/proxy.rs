//! One proxy: its configuration, its toxics, and while enabled its listener.
//!
//! Toxics are published to live connections through a watch channel, so adding, updating or
//! removing a toxic reaches existing links at once. Each enabled period has its own
//! cancellation token: disabling cancels it, which stops the listener and closes every link.
//! Stopping waits for the accept loop to drop its socket, so that a re-enable (or the
//! caller's next connect) sees the port closed.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::link::connection::{self, LinkContext};
use crate::toxic::{Toxic, ToxicView};

/// A proxy's configuration, as Toxiproxy's `/populate` and `-config` take it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyConfig {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// The JSON form of a proxy, exactly as Toxiproxy writes it.
#[derive(Debug, Serialize)]
pub struct ProxyView {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
    pub toxics: Vec<ToxicView>,
}

/// A toxic with the generation of its last change, so that links can tell a changed toxic
/// from an unchanged one.
#[derive(Clone, Debug)]
pub(crate) struct ToxicEntry {
    pub(crate) toxic: Toxic,
    pub(crate) generation: u64,
}

pub(crate) struct Proxy {
    pub(crate) name: String,
    /// The address as asked for (may have port 0): an update naming it again is no change.
    pub(crate) listen_requested: String,
    /// The address actually bound, once bound; reported and reused on re-enable.
    pub(crate) listen_bound: Option<SocketAddr>,
    pub(crate) upstream: String,
    pub(crate) enabled: bool,
    pub(crate) toxics: Vec<ToxicEntry>,
    toxics_tx: watch::Sender<Arc<Vec<ToxicEntry>>>,
    running: Option<Running>,
    connections: Arc<AtomicU64>,
}

struct Running {
    cancel: CancellationToken,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub(crate) fn new(config: &ProxyConfig) -> Proxy {
        Proxy {
            name: config.name.clone(),
            listen_requested: config.listen.clone(),
            listen_bound: None,
            upstream: config.upstream.clone(),
            enabled: false,
            toxics: Vec::new(),
            toxics_tx: watch::Sender::new(Arc::new(Vec::new())),
            running: None,
            connections: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn listen(&self) -> String {
        self.listen_bound
            .map_or_else(|| self.listen_requested.clone(), |a| a.to_string())
    }

    /// True when `listen` names the address this proxy already uses.
    pub(crate) fn listens_on(&self, listen: &str) -> bool {
        listen == self.listen_requested
            || self.listen_bound.is_some_and(|a| a.to_string() == listen)
    }

    pub(crate) fn view(&self) -> ProxyView {
        ProxyView {
            name: self.name.clone(),
            listen: self.listen(),
            upstream: self.upstream.clone(),
            enabled: self.enabled,
            toxics: self.toxics.iter().map(|e| e.toxic.view()).collect(),
        }
    }

    pub(crate) fn publish_toxics(&self) {
        self.toxics_tx.send_replace(Arc::new(self.toxics.clone()));
    }

    /// Binds and starts accepting. Reuses the bound address of an earlier period, so a
    /// proxy asked for port 0 comes back on the same port.
    pub(crate) async fn start(
        &mut self,
        seed: u64,
        parent: &CancellationToken,
    ) -> Result<(), Error> {
        if self.running.is_some() {
            return Ok(());
        }
        let addr = self
            .listen_bound
            .map_or_else(|| self.listen_requested.clone(), |a| a.to_string());
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| Error::Listen {
                addr: addr.clone(),
                source,
            })?;
        let bound = listener
            .local_addr()
            .map_err(|source| Error::Listen { addr, source })?;
        self.listen_bound = Some(bound);
        self.enabled = true;
        let cancel = parent.child_token();
        let ctx = LinkContext {
            seed,
            proxy: Arc::from(self.name.as_str()),
            upstream: Arc::from(self.upstream.as_str()),
            toxics: self.toxics_tx.subscribe(),
            cancel: cancel.clone(),
        };
        let accept = tokio::spawn(accept_loop(listener, ctx, self.connections.clone()));
        tracing::info!(proxy = %self.name, listen = %bound, upstream = %self.upstream, "proxy started");
        self.running = Some(Running { cancel, accept });
        Ok(())
    }

    /// Stops listening and closes every connection.
    pub(crate) async fn stop(&mut self) {
        self.enabled = false;
        if let Some(running) = self.running.take() {
            running.cancel.cancel();
            let _ = running.accept.await;
            tracing::info!(proxy = %self.name, "proxy stopped");
        }
    }
}

async fn accept_loop(listener: TcpListener, ctx: LinkContext, connections: Arc<AtomicU64>) {
    loop {
        let accepted = tokio::select! {
            _ = ctx.cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((client, peer)) => {
                let number = connections.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(proxy = %ctx.proxy, %peer, number, "accepted");
                let ctx = LinkContext {
                    cancel: ctx.cancel.child_token(),
                    ..ctx.clone()
                };
                tokio::spawn(connection::serve(ctx, client, number));
            }
            Err(error) => {
                // Out of descriptors and the like: back off rather than spin.
                tracing::warn!(proxy = %ctx.proxy, %error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}
