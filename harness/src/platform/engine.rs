//! The trading engine in the platform: its environment per ENGINE_CONTRACT.md (every link
//! through the fault proxy), its cpuset, and the check from inside the container that the
//! engine process really runs on the cores it was pinned to.

use std::collections::BTreeSet;

use futures::StreamExt;
use serde::Serialize;
use testcontainers::bollard::exec::StartExecResults;
use testcontainers::bollard::models::ExecConfig;
use testcontainers::bollard::Docker;

use super::datacenter::Dc;
use super::endpoints::Endpoints;
use super::services::RunContext;
use crate::error::{Error, Result};

/// The role an engine starts in (`ENGINE_ROLE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineRole {
    /// Takes orders once logged in at the CTP front; the platform waits for `/ready`.
    #[default]
    Active,
    /// Takes no orders and is never ready until `POST /admin/promote`; the platform waits
    /// for `/startup` only.
    Standby,
}

impl EngineRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Standby => "standby",
        }
    }
}

/// How the engine runs: which CTP investor it trades, which test-only defects are switched on
/// (`ack-before-durable`, `drop-trade-return`, `resend-without-idempotency`, `skip-outbox`, `ignore-fence`),
/// the cpuset it is pinned to (default: the machine's last core) and its role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineSpec {
    pub investor: String,
    pub defects: Vec<String>,
    pub cpus: Option<String>,
    pub role: EngineRole,
}

impl Default for EngineSpec {
    fn default() -> Self {
        Self {
            investor: "000001".into(),
            defects: Vec::new(),
            cpus: None,
            role: EngineRole::Active,
        }
    }
}

impl EngineSpec {
    /// The cpuset to pin to.
    pub(crate) fn cpuset(&self) -> String {
        self.cpus.clone().unwrap_or_else(|| {
            let cores = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
            (cores - 1).to_string()
        })
    }
}

/// The engine's environment: every dependency through its link in its datacenter's fault
/// proxy (`endpoints` are that datacenter's), its own `ENGINE_ID`, its site and the other
/// sites' PostgreSQL (`fence_peers`, `host:port` across the inter-DC line) for the site fence.
pub(crate) fn env(
    ctx: &RunContext,
    endpoints: &Endpoints,
    spec: &EngineSpec,
    engine_id: &str,
    site: Dc,
    fence_peers: &[String],
) -> Vec<(String, String)> {
    let pg = &endpoints.postgres;
    let peer_urls: Vec<String> = fence_peers
        .iter()
        .map(|at| {
            format!(
                "postgres://{}:{}@{at}/{}",
                pg.user, pg.password, pg.database
            )
        })
        .collect();
    [
        (
            "DATABASE_URL",
            format!(
                "postgres://{}:{}@{}/{}",
                pg.user, pg.password, pg.endpoint.in_network, pg.database
            ),
        ),
        (
            "REDIS_URL",
            format!("redis://{}/", endpoints.redis.in_network),
        ),
        // Kafka advertises the proxy's address; bootstrapping on the same one keeps one path.
        ("KAFKA_BROKERS", endpoints.kafka.proxied.to_string()),
        (
            "CTP_FRONT_ADDRESS",
            endpoints.mock_ctp.trade.in_network.clone(),
        ),
        ("CTP_MD_ADDRESS", endpoints.mock_ctp.md.in_network.clone()),
        ("ENGINE_ID", engine_id.into()),
        ("ENGINE_SITE", site.to_string()),
        ("FENCE_PEER_URLS", peer_urls.join(",")),
        ("ENGINE_ROLE", spec.role.as_str().into()),
        ("CTP_BROKER_ID", "9999".into()),
        ("CTP_USER_ID", spec.investor.clone()),
        ("CTP_PASSWORD", "123456".into()),
        ("CTP_APP_ID", "client_mockctp_1.0".into()),
        ("CTP_AUTH_CODE", "0000000000000000".into()),
        ("ADMIN_TOKEN", ctx.admin_token.clone()),
        ("ENGINE_DEFECTS", spec.defects.join(",")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Reads `Cpus_allowed_list` of the engine process inside the container and compares it with
/// the requested cpuset.
pub(crate) async fn verify_pinning(docker: &Docker, container: &str, wanted: &str) -> Result<()> {
    let exec = docker
        .create_exec(
            container,
            ExecConfig {
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "grep Cpus_allowed_list /proc/$(pidof engine)/status".into(),
                ]),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| Error::docker("creating the pinning check", e))?;
    let started = docker
        .start_exec(&exec.id, None)
        .await
        .map_err(|e| Error::docker("running the pinning check", e))?;
    let mut text = String::new();
    if let StartExecResults::Attached { mut output, .. } = started {
        while let Some(Ok(chunk)) = output.next().await {
            text.push_str(&chunk.to_string());
        }
    }
    let actual = text
        .trim()
        .trim_start_matches("Cpus_allowed_list:")
        .trim()
        .to_string();
    match (cpu_set(wanted), cpu_set(&actual)) {
        (Some(w), Some(a)) if w == a => Ok(()),
        _ => Err(Error::Pinning {
            service: "engine".into(),
            wanted: wanted.into(),
            actual: if actual.is_empty() { text } else { actual },
        }),
    }
}

/// Parses a Linux cpu list such as `0-2,5`.
fn cpu_set(list: &str) -> Option<BTreeSet<u32>> {
    let mut cpus = BTreeSet::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => cpus.extend(a.parse::<u32>().ok()?..=b.parse::<u32>().ok()?),
            None => {
                cpus.insert(part.parse().ok()?);
            }
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::cpu_set;

    #[test]
    fn parses_cpu_lists() {
        assert_eq!(cpu_set("1"), Some([1].into()));
        assert_eq!(cpu_set("0-2,5"), Some([0, 1, 2, 5].into()));
        assert_eq!(cpu_set("1-1"), cpu_set("1"));
        assert_eq!(cpu_set(""), None);
        assert_eq!(cpu_set("x"), None);
    }
}
