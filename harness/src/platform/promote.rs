//! Promotion of a datacenter: its PostgreSQL standby becomes a primary (`pg_promote`), then its
//! standby engine is told to promote (`POST /admin/promote`: it takes the next site epoch,
//! logs in to the CTP front as a new session, resumes the private flow from the replicated
//! sequence number, reconciles, relays the outbox rows it finds unsent) and is waited for
//! until `/ready`. The DR controller times each half as a step of its runbook; the two-DC
//! tests promote with [`Platform::promote`].

use std::time::{Duration, Instant};

use super::datacenter::Dc;
use super::endpoints::{Endpoints, EngineEndpoint};
use super::handle::Platform;
use crate::error::{Error, Result};

/// How often a promotion looks at what it waits for.
const POLL: Duration = Duration::from_millis(50);

fn service_error(
    dc: Dc,
    service: &str,
    action: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::Service {
        service: format!("{dc}/{service}"),
        action: action.into(),
        source: Box::new(e),
    }
}

impl Platform {
    /// The endpoints of datacenter `dc`, or a configuration error naming it.
    pub fn site(&self, dc: Dc) -> Result<&Endpoints> {
        self.datacenter(dc).ok_or_else(|| {
            Error::config("datacenter", format!("the platform has no datacenter {dc}"))
        })
    }

    /// The engine of datacenter `dc`, or a configuration error naming it.
    pub fn engine_of(&self, dc: Dc) -> Result<&EngineEndpoint> {
        self.site(dc)?
            .engine
            .as_ref()
            .ok_or_else(|| Error::config("engine", format!("{dc} runs no engine")))
    }

    /// Promotes `dc`'s PostgreSQL standby to a primary and waits (at most `timeout`) until it
    /// accepts writes. A database that is already a primary is left as it is.
    pub async fn promote_database(&self, dc: Dc, timeout: Duration) -> Result<()> {
        let pg = &self.site(dc)?.postgres;
        let fail =
            |action: &str, e: tokio_postgres::Error| service_error(dc, "postgres", action, e);
        let (client, connection) =
            tokio_postgres::connect(&pg.connection_string(false), tokio_postgres::NoTls)
                .await
                .map_err(|e| fail("connecting to promote it", e))?;
        let task = tokio::spawn(connection);
        let result = async {
            let recovering: bool = client
                .query_one("SELECT pg_is_in_recovery()", &[])
                .await
                .map_err(|e| fail("reading pg_is_in_recovery()", e))?
                .get(0);
            if !recovering {
                return Ok(());
            }
            let wait_s = i32::try_from(timeout.as_secs().max(1)).unwrap_or(i32::MAX);
            let promoted: bool = client
                .query_one("SELECT pg_promote(true, $1)", &[&wait_s])
                .await
                .map_err(|e| fail("pg_promote", e))?
                .get(0);
            if promoted {
                Ok(())
            } else {
                Err(Error::NotReady {
                    service: format!("{dc}/postgres"),
                    container: format!("h-{}-{}", self.run_id(), dc.role_name("postgres")),
                    timeout_s: timeout.as_secs(),
                    last_error: "pg_promote did not finish".into(),
                    logs: String::new(),
                })
            }
        }
        .await;
        drop(client);
        let _ = task.await;
        result
    }

    /// Tells `dc`'s standby engine to promote and waits (at most `timeout`) until it is ready
    /// to take orders. Promote the database first: the engine takes its epoch there.
    pub async fn promote_engine(&self, dc: Dc, timeout: Duration) -> Result<()> {
        let engine = self.engine_of(dc)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| service_error(dc, "engine", "building an HTTP client", e))?;
        let answer = http
            .post(format!("http://{}/admin/promote", engine.http))
            .bearer_auth(&engine.admin_token)
            .send()
            .await
            .map_err(|e| service_error(dc, "engine", "POST /admin/promote", e))?;
        if !answer.status().is_success() {
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            return Err(Error::config(
                "engine",
                format!("{dc}'s engine refused its promotion ({status}): {body}"),
            ));
        }
        self.wait_engine_ready(dc, timeout).await
    }

    /// Waits until `dc`'s engine answers `/ready` with 200, at most `timeout`.
    pub async fn wait_engine_ready(&self, dc: Dc, timeout: Duration) -> Result<()> {
        let engine = self.engine_of(dc)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| service_error(dc, "engine", "building an HTTP client", e))?;
        let since = Instant::now();
        loop {
            let last = match http
                .get(format!("http://{}/ready", engine.http))
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => format!("/ready answered {}", r.status()),
                Err(e) => format!("/ready: {e}"),
            };
            if since.elapsed() >= timeout {
                return Err(Error::NotReady {
                    service: format!("{dc}/engine"),
                    container: format!("h-{}-{}", self.run_id(), dc.role_name("engine")),
                    timeout_s: timeout.as_secs(),
                    last_error: last,
                    logs: String::new(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Promotes datacenter `dc`: its database, then its engine, ready within `timeout` each.
    pub async fn promote(&self, dc: Dc, timeout: Duration) -> Result<()> {
        self.promote_database(dc, timeout).await?;
        self.promote_engine(dc, timeout).await
    }
}
