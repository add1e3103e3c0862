//! The DR controller: the platform's runbook (reference 000 section 3.2.2, `switch_to_dr`)
//! made executable against a two-datacenter platform. Unplanned: detect the active site's loss
//! by health probes (`/ready` of its engine, every `interval`, lost after `threshold` failures
//! in a row), fence it (the router holds new orders, so none is routed to the old site; the
//! promotion's higher epoch fences the old site's engine should it come back), promote the
//! standby database, snapshot what it holds, promote the standby engine (it reconciles with
//! the exchange before it turns ready), reroute, and check that the new site's positions
//! answer. Planned: stop order reception, drain, stop the old engine, wait for the standby to
//! replay everything, then the same promotion. Rejoin (before a failback): the old site rebuilt
//! as the standby of the new one. Every step is recorded, timed, in the history.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufWriter;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::DrError;
use crate::check::dr::POSITIONS_QUERYABLE;
use crate::platform::{wait_replayed, Dc, Rejoined};
use crate::workload::{Router, SharedRecorder};
use crate::Platform;

/// How the controller decides that a site is lost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProbePolicy {
    /// Time between two probes of the active site's engine.
    pub interval: Duration,
    /// Consecutive failed probes that declare the site lost.
    pub threshold: u32,
    /// How long one probe may take before it counts as failed.
    pub timeout: Duration,
}

impl Default for ProbePolicy {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(500),
            threshold: 3,
            timeout: Duration::from_millis(400),
        }
    }
}

/// What a promotion left for the meters.
#[derive(Debug, Clone, Default)]
pub struct Promotion {
    /// The client order ids the promoted database held when it was promoted, before its
    /// engine ran (what replication had delivered).
    pub orders_at_promotion: BTreeSet<String>,
}

/// Runs the runbook on one platform, recording its steps into a run's history.
pub struct Controller<'p> {
    platform: &'p Platform,
    router: Router,
    recorder: SharedRecorder<BufWriter<File>>,
    pub policy: ProbePolicy,
    /// How long each promotion half (database, engine) may take.
    pub promote_timeout: Duration,
    http: reqwest::Client,
}

impl<'p> Controller<'p> {
    pub fn new(
        platform: &'p Platform,
        router: Router,
        recorder: SharedRecorder<BufWriter<File>>,
        policy: ProbePolicy,
    ) -> Self {
        Self {
            platform,
            router,
            recorder,
            policy,
            promote_timeout: Duration::from_secs(60),
            http: reqwest::Client::builder()
                .timeout(policy.timeout)
                .build()
                .expect("a reqwest client builds"),
        }
    }

    /// Records step `step` on `dc` now.
    pub fn step(&self, step: &str, dc: Dc, detail: &str) -> Result<(), DrError> {
        tracing::info!(%dc, step, detail, "dr controller");
        let mut r = self.recorder.lock().unwrap_or_else(|e| e.into_inner());
        r.step(step, Some(dc), detail)?;
        r.flush()?;
        Ok(())
    }

    /// Probes `dc`'s engine (`/ready`, from outside both sites) until `threshold` probes in a
    /// row fail (then records `detected` and returns true) or `within` passes (false).
    pub async fn watch(&self, dc: Dc, within: Duration) -> Result<bool, DrError> {
        let engine = self.platform.engine_of(dc)?;
        let url = format!("http://{}/ready", engine.http);
        let what = format!("probes of {dc}'s /ready");
        self.watch_with(dc, within, &what, || async {
            match self.http.get(&url).send().await {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("/ready answered {}", r.status())),
                Err(e) if e.is_timeout() => Some(format!(
                    "/ready gave no answer within {} ms",
                    self.policy.timeout.as_millis()
                )),
                Err(e) => Some(format!("/ready: {e}")),
            }
        })
        .await
    }

    /// Probes `dc`'s PostgreSQL as the other site sees it, across the inter-DC line (a
    /// `SELECT 1` through the line's replication link): the DR site's view of the primary,
    /// which loses it when the site is cut off though it is still running.
    pub async fn watch_across_line(&self, dc: Dc, within: Duration) -> Result<bool, DrError> {
        let line = self
            .platform
            .line()
            .ok_or_else(|| DrError::config("topology", "the platform has no inter-DC line"))?;
        let pg = &self.platform.site(dc)?.postgres;
        let host = reqwest::Url::parse(&line.api)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .ok_or_else(|| {
                DrError::config(
                    "line",
                    format!("the line's API {:?} names no host", line.api),
                )
            })?;
        let addr = (host, crate::platform::REPLICATION_LINK_PORT);
        let conn = format!(
            "host={} port={} user={} password={} dbname={}",
            addr.0, addr.1, pg.user, pg.password, pg.database
        );
        let what = format!("probes of {dc}'s PostgreSQL across the line");
        let timeout = self.policy.timeout;
        self.watch_with(dc, within, &what, || {
            let conn = conn.clone();
            async move {
                let probe = async {
                    let (client, connection) =
                        tokio_postgres::connect(&conn, tokio_postgres::NoTls).await?;
                    let task = tokio::spawn(connection);
                    let answered = client.simple_query("SELECT 1").await.map(|_| ());
                    task.abort();
                    answered
                };
                match tokio::time::timeout(timeout, probe).await {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(format!("SELECT 1: {e}")),
                    Err(_) => Some(format!("no answer within {} ms", timeout.as_millis())),
                }
            }
        })
        .await
    }

    /// Runs `probe` (None when healthy, else why not) every interval until `threshold`
    /// failures in a row (records `detected`, true) or `within` passes (false).
    async fn watch_with<F, Fut>(
        &self,
        dc: Dc,
        within: Duration,
        what: &str,
        probe: F,
    ) -> Result<bool, DrError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<String>>,
    {
        let since = Instant::now();
        let mut failed = 0;
        while since.elapsed() < within {
            let probed = Instant::now();
            match probe().await {
                None => failed = 0,
                Some(why) => {
                    failed += 1;
                    if failed >= self.policy.threshold {
                        self.step(
                            "detected",
                            dc,
                            &format!(
                                "{failed} {what} in a row failed, {} ms apart (last: {why})",
                                self.policy.interval.as_millis()
                            ),
                        )?;
                        return Ok(true);
                    }
                }
            }
            tokio::time::sleep(self.policy.interval.saturating_sub(probed.elapsed())).await;
        }
        Ok(false)
    }

    /// Unplanned failover from `from` (lost) to `to`.
    pub async fn failover(&self, from: Dc, to: Dc) -> Result<Promotion, DrError> {
        self.router.hold();
        self.step(
            "fenced",
            from,
            "the router holds new orders: none goes to the lost site; the promotion's higher \
             epoch fences its engine if it comes back",
        )?;
        let promoted = self.promote(to).await;
        // Whatever happened, orders flow again: to the new site when it was promoted.
        self.router.release();
        promoted
    }

    /// Planned switchover from `from` to `to`, losing nothing: stop order reception, drain,
    /// stop the old engine, wait for the standby to replay everything, promote, reroute.
    pub async fn switchover(&self, from: Dc, to: Dc) -> Result<Promotion, DrError> {
        self.step("switchover_started", from, "planned switchover")?;
        self.router.hold();
        let engine = self.platform.engine_of(from)?.clone();
        let admin = |path: &str| {
            self.http
                .post(format!("http://{}{path}", engine.http))
                .bearer_auth(&engine.admin_token)
                .timeout(Duration::from_secs(5))
                .send()
        };
        let stop = admin("/admin/stop-order-reception").await;
        let result = async {
            stop.and_then(|r| r.error_for_status())
                .map_err(|e| DrError::Step {
                    step: "stop_order_reception",
                    reason: e.to_string(),
                })?;
            self.step(
                "order_reception_stopped",
                from,
                "router held, engine refuses new orders",
            )?;
            let drain_for = crate::run::OP_TIMEOUT + Duration::from_secs(1);
            if !self.router.drained(drain_for).await {
                return Err(DrError::Step {
                    step: "drain",
                    reason: format!(
                        "{} orders still unanswered after {} s",
                        self.router.in_flight(),
                        drain_for.as_secs()
                    ),
                });
            }
            self.step("drained", from, "no order in flight")?;
            admin("/admin/graceful-shutdown")
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| DrError::Step {
                    step: "stop_old_engine",
                    reason: e.to_string(),
                })?;
            self.wait_gone(from, Duration::from_secs(40)).await?;
            self.step(
                "old_engine_stopped",
                from,
                "drained: admissions committed, confirmations awaited, outbox flushed",
            )?;
            let lag = self
                .wait_caught_up(from, to, Duration::from_secs(30))
                .await?;
            self.step("caught_up", to, &format!("replay lag {lag} bytes"))?;
            self.promote(to).await
        }
        .await;
        self.router.release();
        result
    }

    /// Rebuilds `dc` as the standby of the other site, which must serve now (after a
    /// switchover, before a failback): its database replaced by a base backup of the primary
    /// taken across the line, streaming (the synchronous standby under `sync`), its engine
    /// waiting as a standby. Recorded as two steps, the second with each part's time.
    pub async fn rejoin(&self, dc: Dc) -> Result<Rejoined, DrError> {
        self.step(
            "rejoin_started",
            dc,
            &format!("{dc} rebuilt as the standby of {}", dc.peer()),
        )?;
        let r = self
            .platform
            .rejoin_as_standby(dc, self.promote_timeout)
            .await?;
        self.step(
            "rejoined",
            dc,
            &format!(
                "base backup from {} in {} ms, streaming {} ms after its start, engine a \
                 standby {} ms after its start",
                r.primary,
                r.base_backup.as_millis(),
                r.streaming.as_millis(),
                r.engine_standby.as_millis()
            ),
        )?;
        Ok(r)
    }

    /// Promotes `to`'s database, snapshots it, promotes its engine, reroutes, and checks its
    /// positions answer.
    async fn promote(&self, to: Dc) -> Result<Promotion, DrError> {
        self.platform
            .promote_database(to, self.promote_timeout)
            .await?;
        self.step(
            "promote_database",
            to,
            "pg_promote: the standby accepts writes",
        )?;
        let orders_at_promotion = self.client_order_ids(to).await?;
        self.step(
            "snapshot",
            to,
            &format!(
                "{} orders in the promoted database",
                orders_at_promotion.len()
            ),
        )?;
        self.platform
            .promote_engine(to, self.promote_timeout)
            .await?;
        self.step(
            "promote_engine",
            to,
            "new epoch taken, CTP session resumed, reconciled, ready",
        )?;
        self.router.switch_to(to)?;
        self.step("rerouted", to, "the router sends every order here")?;
        let positions = self.positions(to).await?;
        self.step(
            POSITIONS_QUERYABLE,
            to,
            &format!("{positions} position rows answer"),
        )?;
        Ok(Promotion {
            orders_at_promotion,
        })
    }

    async fn client(&self, dc: Dc) -> Result<tokio_postgres::Client, DrError> {
        let conn = self.platform.site(dc)?.postgres.connection_string(false);
        let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
            .await
            .map_err(|e| DrError::Step {
                step: "read_database",
                reason: format!("connecting to {dc}/postgres: {e}"),
            })?;
        tokio::spawn(connection);
        Ok(client)
    }

    async fn client_order_ids(&self, dc: Dc) -> Result<BTreeSet<String>, DrError> {
        let rows = self
            .client(dc)
            .await?
            .query("SELECT client_order_id FROM orders", &[])
            .await
            .map_err(|e| DrError::Step {
                step: "snapshot",
                reason: format!("reading {dc}'s orders: {e}"),
            })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn positions(&self, dc: Dc) -> Result<i64, DrError> {
        let row = self
            .client(dc)
            .await?
            .query_one("SELECT count(*) FROM positions", &[])
            .await
            .map_err(|e| DrError::Step {
                step: POSITIONS_QUERYABLE,
                reason: format!("reading {dc}'s positions: {e}"),
            })?;
        Ok(row.get(0))
    }

    /// Waits until `dc`'s engine no longer answers `/health` (it has exited).
    async fn wait_gone(&self, dc: Dc, within: Duration) -> Result<(), DrError> {
        let engine = self.platform.engine_of(dc)?;
        let since = Instant::now();
        while since.elapsed() < within {
            if self
                .http
                .get(format!("http://{}/health", engine.http))
                .send()
                .await
                .is_err()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(DrError::Step {
            step: "stop_old_engine",
            reason: format!("{dc}'s engine still answers after {} s", within.as_secs()),
        })
    }

    /// Waits until `to`'s standby has replayed everything `from`'s primary wrote; the lag seen.
    async fn wait_caught_up(&self, from: Dc, to: Dc, within: Duration) -> Result<i64, DrError> {
        let conn = self.platform.site(from)?.postgres.connection_string(false);
        match wait_replayed(&conn, to, within).await? {
            None => Ok(0),
            Some(status) => Err(DrError::Step {
                step: "catch_up",
                reason: format!(
                    "the standby is still {:?} bytes behind after {} s ({:?})",
                    status.replay_lag_bytes,
                    within.as_secs(),
                    status.state
                ),
            }),
        }
    }
}
