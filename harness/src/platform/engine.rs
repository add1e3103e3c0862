//! The trading engine in the platform: its environment per ENGINE_CONTRACT.md (every link
//! through the fault proxy), its cpuset, and the check from inside the container that the
//! engine process really runs on the cores it was pinned to.

use std::collections::BTreeSet;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
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
        ("CTP_PASSWORD", ctx.ctp_password.clone()),
        ("CTP_APP_ID", "client_mockctp_1.0".into()),
        ("CTP_AUTH_CODE", ctx.ctp_auth_code.clone()),
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
    let script = "grep Cpus_allowed_list /proc/$(pidof engine)/status";
    let text = exec_output(docker, container, script, "the pinning check").await?;
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

/// The engine process's security context, read from inside its container: what the
/// platform's manifests ask (reference 000, section 2.1.2: non-root, no capabilities, no new
/// privileges, a read-only root filesystem) as the kernel sees it, not as the image claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityContext {
    /// The process's real user id.
    pub uid: u32,
    /// Its effective capability set (`CapEff`), 0 when every capability is dropped.
    pub capabilities: u64,
    pub no_new_privileges: bool,
    /// The root filesystem is mounted read-only, and a write to `/` was refused.
    pub read_only_root: bool,
}

impl SecurityContext {
    /// Whether the engine runs as the manifests ask.
    pub fn is_least_privilege(&self) -> bool {
        self.uid != 0 && self.capabilities == 0 && self.no_new_privileges && self.read_only_root
    }

    /// One line for a report: `uid 1000, no capabilities, no new privileges, read-only root
    /// filesystem`, or what falls short.
    pub fn describe(&self) -> String {
        if self.is_least_privilege() {
            format!(
                "uid {}, no capabilities, no new privileges, read-only root filesystem",
                self.uid
            )
        } else {
            format!("NOT least privilege: {}", self.shortfalls().join(", "))
        }
    }

    /// What falls short, for an error or a report (empty when nothing does).
    pub fn shortfalls(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.uid == 0 {
            out.push("runs as root (uid 0)".to_string());
        }
        if self.capabilities != 0 {
            out.push(format!(
                "holds capabilities (CapEff {:016x})",
                self.capabilities
            ));
        }
        if !self.no_new_privileges {
            out.push("may gain privileges (NoNewPrivs 0)".to_string());
        }
        if !self.read_only_root {
            out.push("can write its root filesystem".to_string());
        }
        out
    }

    /// Parses the check's output: `/proc/<pid>/status` lines `Uid:`, `CapEff:`,
    /// `NoNewPrivs:`, then `Root: <mount options>` and `Write: refused|allowed`.
    fn parse(text: &str) -> Option<Self> {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.split_whitespace().collect::<Vec<_>>())
        };
        let uid = field("Uid:")?.first()?.parse().ok()?;
        let capabilities = u64::from_str_radix(field("CapEff:")?.first()?, 16).ok()?;
        let no_new_privileges = field("NoNewPrivs:")?.first()? == &"1";
        let ro_mount = field("Root:")?.first()?.split(',').any(|o| o == "ro");
        let refused = field("Write:")?.first()? == &"refused";
        Some(Self {
            uid,
            capabilities,
            no_new_privileges,
            read_only_root: ro_mount && refused,
        })
    }
}

/// The version a started engine reports on `/role` (the contract's `version`); none when it
/// does not answer or does not say.
pub(crate) async fn reported_version(http: std::net::SocketAddr) -> Option<String> {
    let role: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{http}/role"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    role.get("version")?.as_str().map(str::to_owned)
}

/// Reads the engine process's security context from inside its container.
pub(crate) async fn verify_security(docker: &Docker, container: &str) -> Result<SecurityContext> {
    let script = "p=$(pidof engine); grep -E '^(Uid|CapEff|NoNewPrivs):' /proc/$p/status; \
        awk '$5 == \"/\" { print \"Root:\", $6 }' /proc/$p/mountinfo; \
        if (echo probe > /.harness-write-probe) 2>/dev/null; \
        then rm -f /.harness-write-probe; echo 'Write: allowed'; else echo 'Write: refused'; fi";
    let text = exec_output(docker, container, script, "the security check").await?;
    SecurityContext::parse(&text).ok_or_else(|| Error::Security {
        service: "engine".into(),
        detail: format!("could not read its security context: {}", text.trim()),
    })
}

/// Runs `script` with `sh -c` inside `container`; returns what it printed.
async fn exec_output(docker: &Docker, container: &str, script: &str, what: &str) -> Result<String> {
    let exec = docker
        .create_exec(
            container,
            ExecConfig {
                cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| Error::docker(format!("creating {what}"), e))?;
    let started = docker
        .start_exec(&exec.id, None)
        .await
        .map_err(|e| Error::docker(format!("running {what}"), e))?;
    let mut text = String::new();
    if let StartExecResults::Attached { mut output, .. } = started {
        while let Some(Ok(chunk)) = output.next().await {
            text.push_str(&chunk.to_string());
        }
    }
    Ok(text)
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
    use super::{cpu_set, SecurityContext};

    #[test]
    fn parses_a_security_context() {
        let confined = "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n\
                        NoNewPrivs:\t1\nRoot: ro,relatime\nWrite: refused\n";
        let c = SecurityContext::parse(confined).unwrap();
        assert!(c.is_least_privilege(), "{c:?}");
        assert!(c.shortfalls().is_empty());
        let root = "Uid:\t0\t0\t0\t0\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t0\n\
                    Root: rw,relatime\nWrite: allowed\n";
        let r = SecurityContext::parse(root).unwrap();
        assert!(!r.is_least_privilege());
        assert_eq!(r.shortfalls().len(), 4, "{:?}", r.shortfalls());
        // A read-only mount that still took a write (an overlay quirk) is not read-only.
        let odd = confined.replace("Write: refused", "Write: allowed");
        assert!(!SecurityContext::parse(&odd).unwrap().read_only_root);
        assert_eq!(SecurityContext::parse("nothing"), None);
    }

    #[test]
    fn parses_cpu_lists() {
        assert_eq!(cpu_set("1"), Some([1].into()));
        assert_eq!(cpu_set("0-2,5"), Some([0, 1, 2, 5].into()));
        assert_eq!(cpu_set("1-1"), cpu_set("1"));
        assert_eq!(cpu_set(""), None);
        assert_eq!(cpu_set("x"), None);
    }
}
