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
