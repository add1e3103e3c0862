//! The server: the HTTP API on one socket, and the proxies it manages. `Server::bind` starts
//! it on the current tokio runtime and returns a handle; `shutdown` stops the API and every
//! proxy and waits for them. Dropping the handle stops everything too, without waiting.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::proxy::ProxyConfig;
use crate::registry::{ProxyFields, Registry};

/// How long `shutdown` lets HTTP requests in flight finish.
const API_DRAIN: Duration = Duration::from_secs(2);

/// A running fault proxy server.
#[must_use = "dropping the server stops it"]
pub struct Server {
    addr: SocketAddr,
    seed: u64,
    registry: Arc<Registry>,
    root: CancellationToken,
    api: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Binds the API on `addr` (port 0 picks a free port) and serves it in the background.
    /// `seed` drives every random choice of every proxy.
    pub async fn bind(addr: SocketAddr, seed: u64) -> Result<Server, Error> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::ApiBind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::ApiBind { addr, source })?;
        let root = CancellationToken::new();
        let registry = Arc::new(Registry::new(seed, root.clone()));
        let app = crate::api::router(registry.clone());
        let stop = root.clone();
        let api = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
        tracing::info!(%addr, seed, "api listening");
        Ok(Server {
            addr,
            seed,
            registry,
            root,
            api: Some(api),
        })
    }

    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API's base URL, reachable from this host (`0.0.0.0` becomes `127.0.0.1`).
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Creates or replaces proxies, as `POST /populate`; returns them with the addresses
    /// they actually listen on.
    pub async fn populate(&self, proxies: Vec<ProxyConfig>) -> Result<Vec<ProxyConfig>, Error> {
        let fields = proxies
            .into_iter()
            .map(|c| ProxyFields {
                name: Some(c.name),
                listen: Some(c.listen),
                upstream: Some(c.upstream),
                enabled: Some(c.enabled),
            })
            .collect();
        let views = self.registry.populate(fields).await.map_err(|(e, _)| e)?;
        Ok(views
            .into_iter()
            .map(|v| ProxyConfig {
                name: v.name,
                listen: v.listen,
                upstream: v.upstream,
                enabled: v.enabled,
            })
            .collect())
    }

    /// Populates from a JSON file holding an array of proxies, like Toxiproxy's `-config`.
    pub async fn populate_from_file(
        &self,
        path: &std::path::Path,
    ) -> Result<Vec<ProxyConfig>, Error> {
        let shown = path.display().to_string();
        let text = tokio::fs::read(path)
            .await
            .map_err(|source| Error::ConfigRead {
                path: shown.clone(),
                source,
            })?;
        let proxies: Vec<ProxyConfig> =
            serde_json::from_slice(&text).map_err(|source| Error::ConfigParse {
                path: shown,
                source,
            })?;
        self.populate(proxies).await
    }

    /// Stops every proxy (closing their connections) and the API, and waits for them.
    pub async fn shutdown(mut self) {
        self.registry.stop_all().await;
        self.root.cancel();
        if let Some(mut api) = self.api.take() {
            if tokio::time::timeout(API_DRAIN, &mut api).await.is_err() {
                api.abort();
            }
        }
        tracing::info!("server stopped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.root.cancel();
    }
}
