//! The engine's configuration, read from the environment only (ENGINE_CONTRACT.md lists
//! it). A malformed environment stops the engine at start with the variable named, rather
//! than a half-configured engine accepting orders.

use std::net::SocketAddr;
use std::str::FromStr;

use crate::error::ConfigError;

/// Test-only defects (`ENGINE_DEFECTS`), each a deliberately wrong branch that lets the
/// harness prove its checks catch real defects. Empty in every real deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Defects {
    /// Acknowledge and route an order before its commit (an ack may then be lost).
    pub ack_before_durable: bool,
    /// Ignore every trade return whose TradeID is a multiple of 10 (but advance the flow).
    pub drop_trade_return: bool,
    /// On reconnect, re-send every order without an exchange return instead of reconciling.
    pub resend_without_idempotency: bool,
    /// Write no outbox rows for state changes made by exchange returns.
    pub skip_outbox: bool,
    /// Never read the peers' fencing tokens: an old primary serves on after a failover.
    pub ignore_fence: bool,
}

impl Defects {
    fn parse(s: &str) -> Result<Self, ConfigError> {
        let mut d = Defects::default();
        for name in s.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "ack-before-durable" => d.ack_before_durable = true,
                "drop-trade-return" => d.drop_trade_return = true,
                "resend-without-idempotency" => d.resend_without_idempotency = true,
                "skip-outbox" => d.skip_outbox = true,
                "ignore-fence" => d.ignore_fence = true,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "ENGINE_DEFECTS",
                        reason: format!("unknown defect {other:?}"),
                    })
                }
            }
        }
        Ok(d)
    }

    /// Whether any defect is switched on.
    pub fn any(&self) -> bool {
        *self != Defects::default()
    }
}

/// The engine's role at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Active,
    Standby,
}

/// Everything the engine reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub redis_url: String,
    pub kafka_brokers: String,
    /// `host:port`, resolved at every (re)connection.
    pub ctp_front_address: String,
    pub ctp_md_address: String,
    pub engine_id: String,
    /// The version this engine reports (`ENGINE_VERSION`, which the image sets; else the
    /// crate's version).
    pub version: String,
    pub role: Role,
    /// The datacenter this engine serves in (`ENGINE_SITE`, default `dc1`): its fencing site.
    pub site: String,
    /// The other datacenters' PostgreSQL (`FENCE_PEER_URLS`, comma-separated), read for their
    /// fencing tokens; empty in a single datacenter.
    pub fence_peer_urls: Vec<String>,
    pub broker_id: String,
    pub user_id: String,
    pub password: String,
    pub app_id: String,
    pub auth_code: String,
    pub admin_token: String,
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub defects: Defects,
}

fn host_port(name: &'static str, v: String) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name,
        reason: reason.to_owned(),
    };
    let (host, port) = v
        .rsplit_once(':')
        .ok_or_else(|| invalid("expected host:port"))?;
    if host.is_empty() {
        return Err(invalid("empty host"));
    }
    port.parse::<u16>()
        .map_err(|_| invalid("port is not a number in 1..=65535"))?;
    Ok(v)
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let req = |name: &'static str| -> Result<String, ConfigError> {
            match get(name) {
                Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
                _ => Err(ConfigError::Missing { name }),
            }
        };
        let database_url = req("DATABASE_URL")?;
        tokio_postgres::Config::from_str(&database_url).map_err(|e| ConfigError::Invalid {
            name: "DATABASE_URL",
            reason: e.to_string(),
        })?;
        let redis_url = req("REDIS_URL")?;
        redis::Client::open(redis_url.as_str()).map_err(|e| ConfigError::Invalid {
            name: "REDIS_URL",
            reason: e.to_string(),
        })?;
        let kafka_brokers = req("KAFKA_BROKERS")?;
        for b in kafka_brokers.split(',') {
            host_port("KAFKA_BROKERS", b.trim().to_owned())?;
        }
        let role = match req("ENGINE_ROLE")?.as_str() {
            "active" => Role::Active,
            "standby" => Role::Standby,
            other => {
                return Err(ConfigError::Invalid {
                    name: "ENGINE_ROLE",
                    reason: format!("{other:?} is neither active nor standby"),
                })
            }
        };
        let site = get("ENGINE_SITE")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "dc1".into());
        if !site
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::Invalid {
                name: "ENGINE_SITE",
                reason: format!("{site:?} is not a datacenter name (letters, digits, - and _)"),
            });
        }
        let mut fence_peer_urls = Vec::new();
        for url in get("FENCE_PEER_URLS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            tokio_postgres::Config::from_str(url).map_err(|e| ConfigError::Invalid {
                name: "FENCE_PEER_URLS",
                reason: format!("{e} (in one of the comma-separated URLs)"),
            })?;
            fence_peer_urls.push(url.to_owned());
        }
        let addr =
            |name: &'static str, default: &str| -> Result<SocketAddr, ConfigError> {
                let v = get(name).filter(|v| !v.trim().is_empty());
                v.as_deref().unwrap_or(default).trim().parse().map_err(
                    |e: std::net::AddrParseError| ConfigError::Invalid {
                        name,
                        reason: e.to_string(),
                    },
                )
            };
        Ok(Config {
            database_url,
            redis_url,
            kafka_brokers,
            ctp_front_address: host_port("CTP_FRONT_ADDRESS", req("CTP_FRONT_ADDRESS")?)?,
            ctp_md_address: host_port("CTP_MD_ADDRESS", req("CTP_MD_ADDRESS")?)?,
            engine_id: req("ENGINE_ID")?,
            version: get("ENGINE_VERSION")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
            role,
            site,
            fence_peer_urls,
            broker_id: req("CTP_BROKER_ID")?,
            user_id: req("CTP_USER_ID")?,
            password: req("CTP_PASSWORD")?,
            app_id: req("CTP_APP_ID")?,
            auth_code: req("CTP_AUTH_CODE")?,
            admin_token: req("ADMIN_TOKEN")?,
            grpc_addr: addr("ENGINE_GRPC_ADDR", "0.0.0.0:50051")?,
            http_addr: addr("ENGINE_HTTP_ADDR", "0.0.0.0:8080")?,
            defects: Defects::parse(&get("ENGINE_DEFECTS").unwrap_or_default())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env() -> HashMap<&'static str, String> {
        [
            ("DATABASE_URL", "postgres://u:p@db:5432/trading"),
            ("REDIS_URL", "redis://cache:6379/"),
            ("KAFKA_BROKERS", "kafka:9092"),
            ("CTP_FRONT_ADDRESS", "mock-ctp:41205"),
            ("CTP_MD_ADDRESS", "mock-ctp:41213"),
            ("ENGINE_ID", "engine-1"),
            ("ENGINE_ROLE", "active"),
            ("CTP_BROKER_ID", "9999"),
            ("CTP_USER_ID", "000003"),
            ("CTP_PASSWORD", "123456"),
            ("CTP_APP_ID", "client_mockctp_1.0"),
            ("CTP_AUTH_CODE", "0000000000000000"),
            ("ADMIN_TOKEN", "secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
    }

    fn parse(e: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| e.get(k).cloned())
    }

    #[test]
    fn a_complete_environment_parses_with_defaults() {
        let c = parse(&env()).unwrap();
        assert_eq!(c.grpc_addr.port(), 50051);
        assert_eq!(c.http_addr.port(), 8080);
        assert_eq!(c.role, Role::Active);
        assert!(!c.defects.any());
        assert_eq!(
            c.version,
            env!("CARGO_PKG_VERSION"),
            "no ENGINE_VERSION: the build's"
        );
    }

    #[test]
    fn the_image_sets_the_version_reported() {
        let mut e = env();
        e.insert("ENGINE_VERSION", " 0a1b2c3d ".into());
        assert_eq!(parse(&e).unwrap().version, "0a1b2c3d");
        e.insert("ENGINE_VERSION", "  ".into());
        assert_eq!(parse(&e).unwrap().version, env!("CARGO_PKG_VERSION"));
    }

    #[rstest::rstest]
    #[case::database_url_missing("DATABASE_URL", None)]
    #[case::database_url_bad_port("DATABASE_URL", Some("postgres://u:p@db:notaport/x"))]
    #[case::unknown_role("ENGINE_ROLE", Some("leader"))]
    #[case::front_without_port("CTP_FRONT_ADDRESS", Some("mock-ctp"))]
    #[case::md_port_out_of_range("CTP_MD_ADDRESS", Some("mock-ctp:99999"))]
    #[case::broker_without_port("KAFKA_BROKERS", Some("kafka"))]
    #[case::grpc_not_an_address("ENGINE_GRPC_ADDR", Some("nowhere"))]
    #[case::unknown_defect("ENGINE_DEFECTS", Some("ack-before-durable,lose-everything"))]
    #[case::blank_admin_token("ADMIN_TOKEN", Some("  "))]
    #[case::site_not_a_name("ENGINE_SITE", Some("dc 1"))]
    #[case::peer_url_bad_port(
        "FENCE_PEER_URLS",
        Some("postgres://u:p@line:5433/t,postgres://u:p@x:y/t")
    )]
    fn each_bad_variable_is_named(#[case] name: &'static str, #[case] value: Option<&str>) {
        let mut e = env();
        match value {
            Some(v) => e.insert(name, v.to_owned()),
            None => e.remove(name),
        };
        let err = parse(&e).unwrap_err();
        assert_eq!(err.variable(), name, "{err}");
        assert!(err.to_string().contains(name));
    }

    #[test]
    fn site_and_fence_peers_default_to_one_datacenter() {
        let c = parse(&env()).unwrap();
        assert_eq!(c.site, "dc1");
        assert!(c.fence_peer_urls.is_empty());
        let mut e = env();
        e.insert("ENGINE_SITE", "dc2".into());
        e.insert("FENCE_PEER_URLS", " postgres://u:p@line:5433/t , ".into());
        let c = parse(&e).unwrap();
        assert_eq!(c.site, "dc2");
        assert_eq!(c.fence_peer_urls, vec!["postgres://u:p@line:5433/t"]);
    }

    #[test]
    fn defects_parse_as_a_comma_list() {
        let mut e = env();
        e.insert("ENGINE_DEFECTS", "skip-outbox, drop-trade-return".into());
        let d = parse(&e).unwrap().defects;
        assert!(d.skip_outbox && d.drop_trade_return && !d.ack_before_durable);
    }
}
