//! The fault proxy's links: one proxy per engine→service link, listening inside the fault proxy
//! container and forwarding to the service by its container name on the platform network.

use crate::error::{Error, Result};

/// One engine→service link through the fault proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    /// The proxy's name in the Toxiproxy API (the service it leads to).
    pub name: String,
    /// The port the proxy listens on inside the fault proxy container.
    pub listen_port: u16,
    /// `container-name:port` of the service.
    pub upstream: String,
}

/// Creates every link; a link that already exists is an error (a fresh proxy has none).
pub(crate) async fn create(api: &str, links: &[Link]) -> Result<()> {
    let client = noxious_client::Client::new(api);
    for link in links {
        client
            .create_proxy(
                &link.name,
                &format!("0.0.0.0:{}", link.listen_port),
                &link.upstream,
            )
            .await
            .map_err(|e| Error::Proxy {
                action: format!("creating link {}", link.name),
                source: Box::new(e),
            })?;
    }
    Ok(())
}

/// Delays both directions of `link` by `ms` (the inter-DC line's distance), with toxics
/// named `base-latency-*` that no fault's heal removes.
pub(crate) async fn base_latency(api: &str, link: &str, ms: u32) -> Result<()> {
    use noxious_client::{StreamDirection, Toxic, ToxicKind};
    let client = noxious_client::Client::new(api);
    let proxy = client.proxy(link).await.map_err(|e| Error::Proxy {
        action: format!("reading link {link}"),
        source: Box::new(e),
    })?;
    for (direction, name) in [
        (StreamDirection::Upstream, "base-latency-up"),
        (StreamDirection::Downstream, "base-latency-down"),
    ] {
        let toxic = Toxic {
            kind: ToxicKind::Latency {
                latency: u64::from(ms),
                jitter: 0,
            },
            name: name.into(),
            toxicity: 1.0,
            direction,
        };
        proxy.add_toxic(&toxic).await.map_err(|e| Error::Proxy {
            action: format!("delaying link {link} by {ms} ms"),
            source: Box::new(e),
        })?;
    }
    Ok(())
}
