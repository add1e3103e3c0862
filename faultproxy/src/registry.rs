//! The set of proxies and every operation of the API on it. One async lock serialises the
//! operations, as Toxiproxy's collection lock does; it is held across a stop so that a
//! listener is really gone before the next operation (or the client) runs.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::proxy::{Proxy, ProxyConfig, ProxyView, ToxicEntry};
use crate::toxic::{Toxic, ToxicView};

/// Where a proxy created without `listen` listens: any free port on loopback.
const LISTEN_DEFAULT: &str = "127.0.0.1:0";

pub(crate) struct Registry {
    seed: u64,
    root: CancellationToken,
    proxies: Mutex<BTreeMap<String, Proxy>>,
    generation: AtomicU64,
}

/// The fields of a proxy create or update request; all optional, so updates can be partial.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProxyFields {
    pub(crate) name: Option<String>,
    pub(crate) listen: Option<String>,
    pub(crate) upstream: Option<String>,
    pub(crate) enabled: Option<bool>,
}

impl ProxyFields {
    fn into_config(self) -> Result<ProxyConfig, Error> {
        let present = |v: Option<String>| v.filter(|s| !s.is_empty());
        Ok(ProxyConfig {
            name: present(self.name).ok_or(Error::MissingField("name"))?,
            upstream: present(self.upstream).ok_or(Error::MissingField("upstream"))?,
            listen: present(self.listen).unwrap_or_else(|| LISTEN_DEFAULT.to_owned()),
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

impl Registry {
    pub(crate) fn new(seed: u64, root: CancellationToken) -> Registry {
        Registry {
            seed,
            root,
            proxies: Mutex::new(BTreeMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) async fn list(&self) -> BTreeMap<String, ProxyView> {
        let proxies = self.proxies.lock().await;
        proxies
            .iter()
            .map(|(name, p)| (name.clone(), p.view()))
            .collect()
    }

    pub(crate) async fn get(&self, name: &str) -> Result<ProxyView, Error> {
        let proxies = self.proxies.lock().await;
        proxies
            .get(name)
            .map(Proxy::view)
            .ok_or(Error::ProxyNotFound)
    }

    pub(crate) async fn create(&self, fields: ProxyFields) -> Result<ProxyView, Error> {
        let config = fields.into_config()?;
        let mut proxies = self.proxies.lock().await;
        if proxies.contains_key(&config.name) {
            return Err(Error::ProxyExists);
        }
        let proxy = self.started(&config).await?;
        let view = proxy.view();
        proxies.insert(config.name, proxy);
        Ok(view)
    }

    async fn started(&self, config: &ProxyConfig) -> Result<Proxy, Error> {
        let mut proxy = Proxy::new(config);
        if config.enabled {
            proxy.start(self.seed, &self.root).await?;
        }
        Ok(proxy)
    }

    /// Creates or replaces each proxy; one whose listen and upstream are unchanged keeps its
    /// toxics and connections. On failure, returns the proxies done before it.
    pub(crate) async fn populate(
        &self,
        configs: Vec<ProxyFields>,
    ) -> Result<Vec<ProxyView>, (Error, Vec<ProxyView>)> {
        let mut proxies = self.proxies.lock().await;
        let mut done = Vec::new();
        for fields in configs {
            let config = match fields.into_config() {
                Ok(config) => config,
                Err(e) => return Err((e, done)),
            };
            let unchanged = proxies.get(&config.name).map(|existing| {
                existing.listens_on(&config.listen) && existing.upstream == config.upstream
            });
            match unchanged {
                Some(true) => {
                    if let Some(existing) = proxies.get_mut(&config.name) {
                        if let Err(e) = self.set_enabled(existing, config.enabled).await {
                            return Err((e, done));
                        }
                        done.push(existing.view());
                    }
                    continue;
                }
                Some(false) => {
                    if let Some(mut old) = proxies.remove(&config.name) {
                        old.stop().await;
                    }
                }
                None => {}
            }
            match self.started(&config).await {
                Ok(proxy) => {
                    done.push(proxy.view());
                    proxies.insert(config.name, proxy);
                }
                Err(e) => return Err((e, done)),
            }
        }
        Ok(done)
    }

    async fn set_enabled(&self, proxy: &mut Proxy, enabled: bool) -> Result<(), Error> {
        if enabled {
            proxy.start(self.seed, &self.root).await
        } else {
            proxy.stop().await;
            Ok(())
        }
    }

    /// Applies the fields present; a changed listen or upstream restarts the proxy, closing
    /// its connections, as Toxiproxy does. The name cannot change.
    pub(crate) async fn update(&self, name: &str, fields: ProxyFields) -> Result<ProxyView, Error> {
        let mut proxies = self.proxies.lock().await;
        let proxy = proxies.get_mut(name).ok_or(Error::ProxyNotFound)?;
        let listen = fields
            .listen
            .filter(|l| !l.is_empty() && !proxy.listens_on(l));
        let upstream = fields
            .upstream
            .filter(|u| !u.is_empty() && *u != proxy.upstream);
        let enabled = fields.enabled.unwrap_or(proxy.enabled);
        if listen.is_some() || upstream.is_some() {
            proxy.stop().await;
            if let Some(listen) = listen {
                proxy.listen_requested = listen;
                proxy.listen_bound = None;
            }
            if let Some(upstream) = upstream {
                proxy.upstream = upstream;
            }
        }
        self.set_enabled(proxy, enabled).await?;
        Ok(proxy.view())
    }

    pub(crate) async fn delete(&self, name: &str) -> Result<(), Error> {
        let mut proxies = self.proxies.lock().await;
        let mut proxy = proxies.remove(name).ok_or(Error::ProxyNotFound)?;
        proxy.stop().await;
        Ok(())
    }

    /// Enables every proxy and removes every toxic.
    pub(crate) async fn reset(&self) -> Result<(), Error> {
        let mut proxies = self.proxies.lock().await;
        let mut first_error = None;
        for proxy in proxies.values_mut() {
            proxy.toxics.clear();
            proxy.publish_toxics();
            if let Err(e) = proxy.start(self.seed, &self.root).await {
                tracing::warn!(proxy = %proxy.name, error = %e.chain_message(), "reset could not enable proxy");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Stops every proxy, for server shutdown.
    pub(crate) async fn stop_all(&self) {
        let mut proxies = self.proxies.lock().await;
        for proxy in proxies.values_mut() {
            proxy.stop().await;
        }
    }

    pub(crate) async fn toxics(&self, proxy: &str) -> Result<Vec<ToxicView>, Error> {
        let proxies = self.proxies.lock().await;
        let proxy = proxies.get(proxy).ok_or(Error::ProxyNotFound)?;
        Ok(proxy.toxics.iter().map(|e| e.toxic.view()).collect())
    }

    pub(crate) async fn toxic(&self, proxy: &str, toxic: &str) -> Result<ToxicView, Error> {
        let proxies = self.proxies.lock().await;
        let proxy = proxies.get(proxy).ok_or(Error::ProxyNotFound)?;
        let entry = proxy.toxics.iter().find(|e| e.toxic.name == toxic);
        entry.map(|e| e.toxic.view()).ok_or(Error::ToxicNotFound)
    }

    pub(crate) async fn add_toxic(
        &self,
        proxy: &str,
        body: &Map<String, Value>,
    ) -> Result<ToxicView, Error> {
        let mut proxies = self.proxies.lock().await;
        let proxy = proxies.get_mut(proxy).ok_or(Error::ProxyNotFound)?;
        let toxic = Toxic::from_request(body)?;
        if proxy.toxics.iter().any(|e| e.toxic.name == toxic.name) {
            return Err(Error::ToxicExists);
        }
        let view = toxic.view();
        tracing::info!(proxy = %proxy.name, toxic = %toxic.name, kind = toxic.kind.type_name(), "toxic added");
        proxy.toxics.push(ToxicEntry {
            toxic,
            generation: self.next_generation(),
        });
        proxy.publish_toxics();
        Ok(view)
    }

    pub(crate) async fn update_toxic(
        &self,
        proxy: &str,
        toxic: &str,
        body: &Map<String, Value>,
    ) -> Result<ToxicView, Error> {
        let mut proxies = self.proxies.lock().await;
        let proxy = proxies.get_mut(proxy).ok_or(Error::ProxyNotFound)?;
        let generation = self.next_generation();
        let entry = proxy.toxics.iter_mut().find(|e| e.toxic.name == toxic);
        let entry = entry.ok_or(Error::ToxicNotFound)?;
        entry.toxic.update(body)?;
        entry.generation = generation;
        let view = entry.toxic.view();
        proxy.publish_toxics();
        Ok(view)
    }

    pub(crate) async fn delete_toxic(&self, proxy: &str, toxic: &str) -> Result<(), Error> {
        let mut proxies = self.proxies.lock().await;
        let proxy = proxies.get_mut(proxy).ok_or(Error::ProxyNotFound)?;
        let index = proxy.toxics.iter().position(|e| e.toxic.name == toxic);
        proxy.toxics.remove(index.ok_or(Error::ToxicNotFound)?);
        proxy.publish_toxics();
        tracing::info!(proxy = %proxy.name, %toxic, "toxic removed");
        Ok(())
    }
}
