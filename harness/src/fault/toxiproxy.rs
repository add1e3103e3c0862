//! A small typed client of the Toxiproxy HTTP API (proxies and toxics), over reqwest and
//! serde. The existing client crates cannot serve the nemesis: noxious-client and
//! toxiproxy_rust both lack `reset_peer` and `slicer`, and neither exposes toxics as plain
//! data. Errors carry the API's own `{"error": …}` message and name the proxy or toxic.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{FaultError, Result};

/// A toxic as the API reads and writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToxicData {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub stream: String,
    pub toxicity: f32,
    pub attributes: BTreeMap<String, u64>,
}

/// A proxy (a link) as the API reads and writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyData {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
    #[serde(default, skip_serializing)]
    pub toxics: Vec<ToxicData>,
}

/// The client of one Toxiproxy API, e.g. `http://10.200.3.2:8474`.
#[derive(Debug, Clone)]
pub struct ToxiproxyClient {
    base: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct ApiError {
    error: String,
}

impl ToxiproxyClient {
    pub fn new(base: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            base: base.into().trim_end_matches('/').to_string(),
            http,
        }
    }

    /// Every proxy, by name.
    pub async fn proxies(&self) -> Result<BTreeMap<String, ProxyData>> {
        self.send("list the proxies", self.http.get(self.url("/proxies")))
            .await?
            .json()
            .await
            .map_err(|e| proxy_error("list the proxies", e))
    }

    /// One proxy with its toxics.
    pub async fn proxy(&self, name: &str) -> Result<ProxyData> {
        let action = format!("read link {name}");
        self.send(
            &action,
            self.http.get(self.url(&format!("/proxies/{name}"))),
        )
        .await?
        .json()
        .await
        .map_err(|e| proxy_error(&action, e))
    }

    /// Enables (up) or disables (down) a proxy.
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<()> {
        let action = format!("set link {name} enabled={enabled}");
        let body = serde_json::json!({ "enabled": enabled });
        let request = self
            .http
            .post(self.url(&format!("/proxies/{name}")))
            .json(&body);
        self.send(&action, request).await.map(drop)
    }

    /// Adds a toxic to a proxy.
    pub async fn add_toxic(&self, proxy: &str, toxic: &ToxicData) -> Result<()> {
        let action = format!("add toxic {} ({}) to link {proxy}", toxic.name, toxic.kind);
        let request = self
            .http
            .post(self.url(&format!("/proxies/{proxy}/toxics")))
            .json(toxic);
        self.send(&action, request).await.map(drop)
    }

    /// Removes a toxic; one already gone counts as removed.
    pub async fn remove_toxic(&self, proxy: &str, toxic: &str) -> Result<()> {
        let action = format!("remove toxic {toxic} from link {proxy}");
        let url = self.url(&format!("/proxies/{proxy}/toxics/{toxic}"));
        let answer = self
            .http
            .delete(url)
            .send()
            .await
            .map_err(|e| proxy_error(&action, e))?;
        if answer.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        check(&action, answer).await.map(drop)
    }

    /// Creates the given proxies (after the fault proxy itself restarted and lost them).
    pub async fn populate(&self, proxies: &[ProxyData]) -> Result<()> {
        let request = self.http.post(self.url("/populate")).json(proxies);
        self.send("populate the links", request).await.map(drop)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        action: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response> {
        let answer = request.send().await.map_err(|e| proxy_error(action, e))?;
        check(action, answer).await
    }
}

async fn check(action: &str, answer: reqwest::Response) -> Result<reqwest::Response> {
    let status = answer.status();
    if status.is_success() {
        return Ok(answer);
    }
    let text = answer.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ApiError>(&text)
        .map(|e| e.error)
        .unwrap_or(text);
    Err(FaultError::Proxy {
        action: action.into(),
        message: format!("{status}: {message}"),
        source: None,
    })
}

fn proxy_error(action: &str, e: reqwest::Error) -> FaultError {
    FaultError::Proxy {
        action: action.into(),
        message: "no answer".into(),
        source: Some(Box::new(e)),
    }
}
