//! A datacenter rejoining as the standby of the other after the other was promoted (a planned
//! switchover, the first half of a failback; reference 000 section 3.2.2): its engine and its
//! PostgreSQL stop, its database is replaced by a base backup of the new primary taken across
//! the inter-DC line (a one-shot container of the PostgreSQL image on the site's data volume),
//! its PostgreSQL starts again as a streaming standby of the new primary (its synchronous
//! standby under `sync`), and its engine starts again and waits as a standby, because its
//! database is one. Every container keeps its address, so the router, the probes and the
//! fault proxies reach them where they did.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use testcontainers::bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use testcontainers::bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use testcontainers::bollard::Docker;

use super::containers;
use super::datacenter::{Dc, Replication};
use super::docker_ops::logs_tail;
use super::handle::Platform;
use super::readiness::Probe;
use super::replication;
use super::second_dc::LINE;
use super::services::ports;
use super::targets::wait_service_ready;
use crate::error::{Error, Result};

/// Where the PostgreSQL image keeps its data.
const PGDATA: &str = "/var/lib/postgresql/data";

/// How long a stopping container is given before Docker kills it.
const STOP_GRACE_S: u32 = 20;

/// How long one poll of a rejoining service waits before the next.
const POLL: Duration = Duration::from_millis(100);

/// What a rejoin took, step by step.
#[derive(Debug, Clone, Serialize)]
pub struct Rejoined {
    /// The site that rejoined as a standby, and the primary it follows.
    pub standby: Dc,
    pub primary: Dc,
    /// The base backup across the line.
    pub base_backup: Duration,
    /// From the rebuilt PostgreSQL's start to streaming as the replication mode asks.
    pub streaming: Duration,
    /// From the engine's start to its answering as a standby.
    pub engine_standby: Duration,
}

impl Platform {
    /// Rebuilds datacenter `dc` as the standby of the other, which must be the primary now;
    /// each wait within `timeout`. The returned durations are the rejoin's steps.
    pub async fn rejoin_as_standby(&self, dc: Dc, timeout: Duration) -> Result<Rejoined> {
        let primary = dc.peer();
        let line = self
            .line()
            .ok_or_else(|| Error::config("topology", "the platform has no inter-DC line"))?;
        let mode = line.replication;
        let docker = crate::docker::client().await?;
        let pg_role = dc.role_name("postgres");
        let engine_role = dc.role_name("engine");
        let pg = self.container_named(&pg_role)?;
        let network = self.network_of(&pg_role);

        if let Ok(engine) = self.container_named(&engine_role) {
            containers::stop(&docker, &engine, STOP_GRACE_S).await?;
        }
        let before = containers::state(&docker, &pg, &network).await?;
        let address = before.address.ok_or_else(|| {
            Error::docker(
                format!("rejoining {dc}"),
                format!("{pg} has no address on {network}"),
            )
        })?;
        containers::stop(&docker, &pg, STOP_GRACE_S).await?;

        let since = Instant::now();
        self.base_backup(&docker, dc, &pg, &network).await?;
        let base_backup = since.elapsed();

        let since = Instant::now();
        containers::pin_address(&docker, &pg, &network, address, &before.aliases).await?;
        containers::start(&docker, &pg).await?;
        let standby_conn = self.site(dc)?.postgres.connection_string(false);
        wait_service_ready(
            &docker,
            &pg_role,
            &pg,
            &Probe::Postgres { conn: standby_conn },
            timeout,
        )
        .await?;
        let primary_conn = self.site(primary)?.postgres.connection_string(false);
        // Streaming first, then named synchronous: naming a standby that does not stream yet
        // would hold every commit of the serving site until it does.
        replication::wait_streaming_of(&primary_conn, dc, Replication::Async, timeout).await?;
        if mode == Replication::Sync {
            replication::name_sync_standby(&primary_conn, primary, dc).await?;
            replication::wait_streaming_of(&primary_conn, dc, mode, timeout).await?;
        }
        let streaming = since.elapsed();

        let since = Instant::now();
        if let Ok(engine) = self.container_named(&engine_role) {
            let state = containers::state(&docker, &engine, &network).await?;
            if let Some(address) = state.address {
                containers::pin_address(&docker, &engine, &network, address, &state.aliases)
                    .await?;
            }
            containers::start(&docker, &engine).await?;
            self.wait_engine_standby(&docker, dc, &engine, timeout)
                .await?;
        }
        Ok(Rejoined {
            standby: dc,
            primary,
            base_backup,
            streaming,
            engine_standby: since.elapsed(),
        })
    }

    fn container_named(&self, role: &str) -> Result<String> {
        self.container_of(role).ok_or_else(|| {
            Error::config("service", format!("the platform has no container {role}"))
        })
    }

    /// Empties `dc`'s data volume and takes a base backup of the other site's primary into it,
    /// across the inter-DC line, in a one-shot container of the PostgreSQL image (the site's
    /// own container stopped). Its labels are the site's PostgreSQL's, so a sweep removes it
    /// with the run.
    async fn base_backup(&self, docker: &Docker, dc: Dc, pg: &str, network: &str) -> Result<()> {
        let fail = |action: &str, e: String| Error::docker(format!("{action} ({dc})"), e);
        let info = docker
            .inspect_container(pg, None)
            .await
            .map_err(|e| fail("inspecting PostgreSQL to rebuild it", e.to_string()))?;
        let volume = info
            .mounts
            .unwrap_or_default()
            .into_iter()
            .find(|m| m.destination.as_deref() == Some(PGDATA))
            .and_then(|m| m.name)
            .ok_or_else(|| fail("rebuilding", format!("{pg} has no data volume at {PGDATA}")))?;
        let config = info.config.unwrap_or_default();
        let image = config
            .image
            .ok_or_else(|| fail("rebuilding", format!("{pg} names no image")))?;
        let mut labels: HashMap<String, String> = config.labels.unwrap_or_default();
        labels.insert(
            super::labels::SERVICE.into(),
            format!("{}-rebuild", dc.role_name("postgres")),
        );
        let site = &self.site(dc)?.postgres;
        let link_port = match dc {
            // dc1 follows dc2 through the line's link to dc2's PostgreSQL, and dc2 follows dc1
            // through the replication link, as at the start.
            Dc::Dc1 => ports::DC2_POSTGRES_LINK,
            Dc::Dc2 => ports::REPLICATION_LINK,
        };
        let line = self.container_named(LINE)?;
        let env = vec![
            "PG_ROLE=rebuild-standby".to_string(),
            format!("POSTGRES_USER={}", site.user),
            format!("POSTGRES_PASSWORD={}", site.password),
            format!("PG_PRIMARY_HOST={line}"),
            format!("PG_PRIMARY_PORT={link_port}"),
            format!("PG_APPLICATION_NAME={dc}"),
        ];
        let name = format!("{pg}-rebuild");
        let body = ContainerCreateBody {
            image: Some(image),
            env: Some(env),
            labels: Some(labels),
            host_config: Some(HostConfig {
                mounts: Some(vec![Mount {
                    target: Some(PGDATA.into()),
                    source: Some(volume),
                    typ: Some(MountType::VOLUME),
                    ..Default::default()
                }]),
                network_mode: Some(network.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                body,
            )
            .await
            .map_err(|e| fail("creating the base backup's container", e.to_string()))?;
        let ran = async {
            docker
                .start_container(&name, None)
                .await
                .map_err(|e| fail("starting the base backup", e.to_string()))?;
            let exit = docker
                .wait_container(&name, None)
                .next()
                .await
                .map(|r| match r {
                    Ok(done) => done.status_code,
                    Err(testcontainers::bollard::errors::Error::DockerContainerWaitError {
                        code,
                        ..
                    }) => code,
                    Err(e) => {
                        tracing::warn!(error = %e, "waiting for the base backup");
                        -1
                    }
                })
                .unwrap_or(-1);
            if exit != 0 {
                return Err(Error::NotReady {
                    service: format!("{dc}/postgres"),
                    container: name.clone(),
                    timeout_s: 0,
                    last_error: format!("the base backup from {} exited {exit}", dc.peer()),
                    logs: logs_tail(docker, &name, 20).await,
                });
            }
            Ok(())
        }
        .await;
        let removed = docker
            .remove_container(
                &name,
                Some(RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                }),
            )
            .await
            .map_err(|e| fail("removing the base backup's container", e.to_string()));
        ran?;
        removed
    }

    /// Waits until `dc`'s engine, started again on a standby database, says it is a standby.
    async fn wait_engine_standby(
        &self,
        docker: &Docker,
        dc: Dc,
        container: &str,
        timeout: Duration,
    ) -> Result<()> {
        let engine = self.engine_of(dc)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| Error::config("http", e.to_string()))?;
        let since = Instant::now();
        let url = format!("http://{}/role", engine.http);
        loop {
            let last = match http.get(&url).send().await {
                Ok(r) => match r.json::<serde_json::Value>().await {
                    Ok(role) if role["role"] == "standby" => return Ok(()),
                    // A rebuilt site's engine must wait for its promotion: any other role is a
                    // verdict on the engine, not a wait.
                    Ok(role) if role["role"] == "active" || role["role"] == "fenced" => {
                        return Err(Error::config(
                            "engine",
                            format!(
                                "{dc}'s engine started {} on a standby database, not standby: \
                                 {role}",
                                role["role"]
                            ),
                        ));
                    }
                    Ok(role) => format!("/role answered {role}"),
                    Err(e) => format!("/role: {e}"),
                },
                Err(e) => format!("/role: {e}"),
            };
            if since.elapsed() >= timeout {
                return Err(Error::NotReady {
                    service: format!("{dc}/engine"),
                    container: container.to_string(),
                    timeout_s: timeout.as_secs(),
                    last_error: last,
                    logs: logs_tail(docker, container, 20).await,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
