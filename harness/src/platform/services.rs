//! The container request of each service: image, environment, command, volume, labels. Locally
//! built images (`harness/...`) get this project's entrypoints; an override with an official
//! image (`postgres:16`, `redis:7`, `apache/kafka`, `ghcr.io/shopify/toxiproxy`) gets the
//! settings its official entrypoint expects.

use std::collections::HashMap;

use testcontainers::core::{ContainerPort, Mount, WaitFor};
use testcontainers::{ContainerRequest, GenericImage, ImageExt};

use crate::images::Service;

/// Ports inside the containers, and the fault proxy's link ports.
pub(crate) mod ports {
    pub(crate) const POSTGRES: u16 = 5432;
    pub(crate) const REDIS: u16 = 6379;
    pub(crate) const KAFKA: u16 = 9092;
    pub(crate) const FAULTPROXY_API: u16 = 8474;
    pub(crate) const CTP_TRADE: u16 = 41205;
    pub(crate) const CTP_MD: u16 = 41213;
    pub(crate) const MOCK_CTP_ADMIN: u16 = 8080;
    pub(crate) const ENGINE_GRPC: u16 = 50051;
    pub(crate) const ENGINE_HTTP: u16 = 8080;
    pub(crate) const POSTGRES_LINK: u16 = 15432;
    pub(crate) const REDIS_LINK: u16 = 16379;
    pub(crate) const KAFKA_LINK: u16 = 19092;
    pub(crate) const CTP_TRADE_LINK: u16 = 51205;
    pub(crate) const CTP_MD_LINK: u16 = 51213;
    /// The inter-DC line's link to dc1's PostgreSQL (streaming replication of dc2's standby).
    pub(crate) const REPLICATION_LINK: u16 = 25432;
    /// The inter-DC line's link to dc2's PostgreSQL (dc1's engine reads dc2's site fence).
    pub(crate) const DC2_POSTGRES_LINK: u16 = 25433;
}

/// What every container of a run shares.
#[derive(Debug, Clone)]
pub(crate) struct RunContext {
    pub run: String,
    /// dc1's network (the only one of a single-datacenter platform).
    pub network: String,
    /// dc2's network, in a two-datacenter platform.
    pub dc2_network: Option<String>,
    /// The network of the mock CTP front: dc1's in a single datacenter, its own in two.
    pub exchange_network: String,
    pub labels: HashMap<String, String>,
    pub seed: u64,
    pub postgres_password: String,
    pub postgres_user: String,
    pub postgres_db: String,
    /// The bearer token of the mock CTP front's admin API (and later the engine's).
    pub admin_token: String,
    /// The investors' CTP password and AuthCode on the mock front, random per run.
    pub ctp_password: String,
    pub ctp_auth_code: String,
}

impl RunContext {
    pub(crate) fn container_name(&self, role: &str) -> String {
        format!("h-{}-{}", self.run, role)
    }

    pub(crate) fn volume_name(&self, role: &str) -> String {
        format!("h-{}-{}-data", self.run, role)
    }

    /// The network of datacenter `dc`.
    pub(crate) fn network_of(&self, dc: super::Dc) -> &str {
        match dc {
            super::Dc::Dc1 => &self.network,
            super::Dc::Dc2 => self.dc2_network.as_deref().unwrap_or(&self.network),
        }
    }
}

/// One container to start: which service it runs, under what role name, on which network, and
/// in which datacenter (none: the mock CTP front and the inter-DC line, outside both).
#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub service: Service,
    pub name: String,
    pub network: String,
    pub dc: Option<super::Dc>,
}

fn split_image(image: &str) -> (String, String) {
    // A tag follows the last ':' unless that ':' belongs to a registry's port (a '/' follows it).
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

fn is_local(image: &str) -> bool {
    image.starts_with("harness/")
}

/// The request for one role. `extra_env` carries role-specific settings (standby's primary,
/// Kafka's advertised listener).
pub(crate) fn request(
    ctx: &RunContext,
    role: &Role,
    image: &str,
    extra_env: &[(String, String)],
    publish: &[(u16, u16)],
) -> ContainerRequest<GenericImage> {
    let (repo, tag) = split_image(image);
    let (port, data_dir) = match role.service {
        Service::Postgres => (ports::POSTGRES, Some("/var/lib/postgresql/data")),
        Service::Redis => (ports::REDIS, Some("/data")),
        Service::Kafka => (
            ports::KAFKA,
            Some(if is_local(image) {
                "/data"
            } else {
                "/var/lib/kafka/data"
            }),
        ),
        Service::FaultProxy => (ports::FAULTPROXY_API, None),
        Service::MockCtp => (ports::MOCK_CTP_ADMIN, None),
        Service::Engine => (ports::ENGINE_HTTP, None),
    };
    let mut labels = ctx.labels.clone();
    labels.insert(super::labels::SERVICE.into(), role.name.clone());
    if let Some(dc) = role.dc {
        labels.insert(super::labels::DC.into(), dc.to_string());
    }
    let mut request = GenericImage::new(repo, tag)
        .with_exposed_port(ContainerPort::Tcp(port))
        .with_wait_for(WaitFor::Nothing)
        .with_container_name(ctx.container_name(&role.name))
        .with_network(role.network.clone())
        .with_labels(labels);
    if let Some(dir) = data_dir {
        request = request.with_mount(Mount::volume_mount(ctx.volume_name(&role.name), dir));
    }
    for (host, container) in publish {
        request = request.with_mapped_port(*host, ContainerPort::Tcp(*container));
    }
    for (k, v) in extra_env {
        request = request.with_env_var(k.clone(), v.clone());
    }
    match role.service {
        Service::Postgres => request
            .with_env_var("POSTGRES_PASSWORD", ctx.postgres_password.clone())
            .with_env_var("POSTGRES_USER", ctx.postgres_user.clone())
            .with_env_var("POSTGRES_DB", ctx.postgres_db.clone()),
        Service::Redis if !is_local(image) => request.with_cmd([
            "redis-server",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ]),
        Service::Redis => request,
        Service::Kafka => request,
        Service::FaultProxy if is_local(image) => request.with_cmd([
            "--host".to_string(),
            "0.0.0.0".to_string(),
            "--port".to_string(),
            ports::FAULTPROXY_API.to_string(),
            "--seed".to_string(),
            ctx.seed.to_string(),
        ]),
        Service::FaultProxy | Service::MockCtp | Service::Engine => request,
    }
}

/// Ports published on the host (`harness up --publish-base`) are bound to its loopback only: the
/// fault API, the databases and the admin routes serve the developer's machine, never its
/// network.
pub(crate) fn publish_on_loopback(host: &mut testcontainers::bollard::models::HostConfig) {
    let bindings = host.port_bindings.iter_mut().flat_map(|m| m.values_mut());
    for binding in bindings.flatten().flatten() {
        binding.host_ip = Some(std::net::Ipv4Addr::LOCALHOST.to_string());
    }
}

/// Whether `service` runs confined ([`confine`]): the engine always (its contract asks it of
/// every engine image), every other service when it is this project's image (an official image
/// an override names may start as root to drop to its user, or write its root).
pub(crate) fn confined(service: Service, image: &str) -> bool {
    service == Service::Engine || is_local(image)
}

/// The platform's security context for a container (reference 000, section 2.1.2): every
/// capability dropped, no new privileges, the runtime's default seccomp profile (left as it
/// is), a read-only root filesystem with a small tmpfs for `/tmp`. The images set the
/// unprivileged user (1000).
pub(crate) fn confine(host: &mut testcontainers::bollard::models::HostConfig) {
    host.cap_drop = Some(vec!["ALL".into()]);
    host.security_opt = Some(vec!["no-new-privileges:true".into()]);
    host.readonly_rootfs = Some(true);
    host.tmpfs = Some(HashMap::from([(
        "/tmp".to_string(),
        "rw,nosuid,nodev,noexec,size=64m".to_string(),
    )]));
}

/// The mock CTP front's environment: its admin token, the investors' credentials, the run's seed and the topology's
/// request limit per session (`0`: none).
pub(crate) fn mock_ctp_env(
    ctx: &RunContext,
    orders_per_second: Option<u32>,
) -> Vec<(String, String)> {
    vec![
        ("MOCK_CTP_ADMIN_TOKEN".into(), ctx.admin_token.clone()),
        ("MOCK_CTP_PASSWORD".into(), ctx.ctp_password.clone()),
        ("MOCK_CTP_AUTH_CODE".into(), ctx.ctp_auth_code.clone()),
        ("MOCK_CTP_SEED".into(), ctx.seed.to_string()),
        (
            "MOCK_CTP_ORDERS_PER_SECOND".into(),
            orders_per_second.unwrap_or(0).to_string(),
        ),
    ]
}

/// Kafka's environment: tansu's own variables and, for an official apache/kafka override, the
/// KRaft single-node settings its entrypoint expects.
pub(crate) fn kafka_env(advertised: &str) -> Vec<(String, String)> {
    [
        ("ADVERTISED_LISTENER_URL", format!("tcp://{advertised}")),
        ("KAFKA_NODE_ID", "1".into()),
        ("KAFKA_PROCESS_ROLES", "broker,controller".into()),
        (
            "KAFKA_LISTENERS",
            format!("PLAINTEXT://:{},CONTROLLER://:9093", ports::KAFKA),
        ),
        (
            "KAFKA_ADVERTISED_LISTENERS",
            format!("PLAINTEXT://{advertised}"),
        ),
        ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER".into()),
        (
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".into(),
        ),
        ("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093".into()),
        ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1".into()),
        ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1".into()),
        ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn splits_tags_but_not_registry_ports() {
        assert_eq!(split_image("postgres:16"), ("postgres".into(), "16".into()));
        assert_eq!(
            split_image("harness/redis:0123abcd"),
            ("harness/redis".into(), "0123abcd".into())
        );
        assert_eq!(
            split_image("registry:5000/x"),
            ("registry:5000/x".into(), "latest".into())
        );
        assert_eq!(
            split_image("apache/kafka"),
            ("apache/kafka".into(), "latest".into())
        );
    }
}
