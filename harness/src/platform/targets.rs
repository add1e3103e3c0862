//! What the nemesis (and the launch) need to reach one service of a running platform by its
//! role name: its container's name, the address and port that answer on the network, and the
//! readiness probe that says it serves again after a restart. Crate-private: the public API
//! names services by role (`postgres`, `engine`, …), never by a Docker type.

use std::net::SocketAddr;
use std::time::Duration;

use testcontainers::bollard::Docker;

use super::docker_ops::{is_running, logs_tail};
use super::endpoints::Endpoints;
use super::readiness::{wait_ready, Probe};
use super::services::ports;
use crate::error::{Error, Result};

/// The probe that says the service of `role` is ready, from the platform's endpoints.
pub(crate) fn probe_for(endpoints: &Endpoints, role: &str) -> Option<Probe> {
    Some(match role {
        "faultproxy" => Probe::FaultProxy {
            api: endpoints.faultproxy_api.clone(),
        },
        "postgres" => Probe::Postgres {
            conn: endpoints.postgres.connection_string(false),
        },
        "postgres-standby" => Probe::Postgres {
            conn: endpoints
                .postgres_standby
                .as_ref()?
                .connection_string(false),
        },
        "redis" => Probe::Redis {
            addr: endpoints.redis.direct,
        },
        "kafka" => Probe::Kafka {
            bootstrap: endpoints.kafka_bootstrap(false),
        },
        "mock-ctp" => Probe::Http {
            url: format!("{}/health", endpoints.mock_ctp.admin),
        },
        "engine" => {
            let engine = endpoints.engine.as_ref()?;
            match engine.role {
                super::EngineRole::Active => Probe::EngineSettled { http: engine.http },
                super::EngineRole::Standby => Probe::Http {
                    url: format!("http://{}/startup", engine.http),
                },
            }
        }
        _ => return None,
    })
}

/// The address on the platform network where the service of `role` accepts connections
/// (its main port), as the harness reaches it directly.
pub(crate) fn address_of(endpoints: &Endpoints, role: &str) -> Option<SocketAddr> {
    let api = |url: &str| url.trim_start_matches("http://").parse::<SocketAddr>().ok();
    Some(match role {
        "faultproxy" => api(&endpoints.faultproxy_api)?,
        "postgres" => endpoints.postgres.endpoint.direct,
        "postgres-standby" => endpoints.postgres_standby.as_ref()?.endpoint.direct,
        "redis" => endpoints.redis.direct,
        "kafka" => endpoints.kafka.direct,
        "mock-ctp" => SocketAddr::new(endpoints.mock_ctp.trade.direct.ip(), ports::MOCK_CTP_ADMIN),
        "engine" => endpoints.engine.as_ref()?.http,
        _ => return None,
    })
}

/// Waits until the service answers its probe; the error names the service and carries the
/// last log lines of its container.
pub(crate) async fn wait_service_ready(
    docker: &Docker,
    role: &str,
    container: &str,
    probe: &Probe,
    timeout: Duration,
) -> Result<Duration> {
    match wait_ready(probe, timeout, || is_running(docker, container)).await {
        Ok(took) => {
            tracing::debug!(role, ?took, "ready");
            Ok(took)
        }
        Err(last_error) => Err(Error::NotReady {
            service: role.to_string(),
            container: container.to_string(),
            timeout_s: timeout.as_secs(),
            last_error,
            logs: logs_tail(docker, container, 20).await,
        }),
    }
}

/// Waits until the service of `role` answers its readiness probe again (after a restart, a
/// resume or a reconnect).
pub(crate) async fn wait_role_ready(
    docker: &Docker,
    endpoints: &Endpoints,
    role: &str,
    container: &str,
    timeout: Duration,
) -> Result<Duration> {
    let probe = probe_for(endpoints, role)
        .ok_or_else(|| Error::config("service", format!("{role} has no readiness probe")))?;
    wait_service_ready(docker, role, container, &probe, timeout).await
}
