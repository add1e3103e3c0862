//! Process faults on any service of the platform, the engine included: SIGKILL, a graceful
//! stop, a pause, a restart. A stopped container gives its address back to Docker, so heal (and
//! restart) reconnects it with its old address fixed before starting it, then checks that it
//! runs with that address and answers its readiness probe. After the fault proxy itself
//! restarts, its links (which it keeps in memory) are created again from a snapshot.
//!
//! Known gaps: toxics active on the fault proxy when it is killed are lost with it (their
//! heal then finds nothing to remove); a new container started on the network while a service
//! is down could take its address, and heal then fails naming the address.

use std::time::{Duration, Instant};

use super::context::Context;
use super::error::{FaultError, Result};
use super::spec::Fault;
use super::undo::{Applied, Undo};
use crate::platform::containers::{self, ContainerState};

async fn state(ctx: &Context, service: &str) -> Result<ContainerState> {
    let docker = ctx.docker().await?;
    Ok(containers::state(&docker, ctx.container(service)?, ctx.network_of(service)?).await?)
}

/// Polls the container's state until `wanted` holds, for at most `limit`.
async fn wait_state(
    ctx: &Context,
    service: &str,
    limit: Duration,
    wanted: impl Fn(&ContainerState) -> bool,
) -> Result<ContainerState> {
    let started = Instant::now();
    loop {
        let now = state(ctx, service).await?;
        if wanted(&now) || started.elapsed() >= limit {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The links of the fault proxy, kept before it goes down.
async fn links_snapshot(ctx: &Context, service: &str) -> Result<Vec<super::toxiproxy::ProxyData>> {
    match ctx.proxy_client_of(service)? {
        Some(client) => Ok(client.proxies().await?.into_values().collect()),
        None => Ok(Vec::new()),
    }
}

pub(crate) async fn inject(ctx: &Context, fault: &Fault) -> Result<Applied> {
    inject_with(ctx, fault, true).await
}

/// [`inject`]; `measure_dead` says whether a dead engine's hazard is read from its database
/// afterwards (not in a datacenter loss, where that database dies with it: the read would wait
/// on a vanished address, seconds that the RTO would count).
async fn inject_with(ctx: &Context, fault: &Fault, measure_dead: bool) -> Result<Applied> {
    let docker = ctx.docker().await?;
    let (service, stopping) = match fault {
        Fault::Kill { service } | Fault::Stop { service, .. } | Fault::Restart { service, .. } => {
            (service, true)
        }
        Fault::Pause { service } => (service, false),
        _ => {
            return Err(FaultError::invalid(
                fault.kind(),
                "kind",
                "is not a process fault",
            ))
        }
    };
    let container = ctx.container(service)?.to_string();
    let before = state(ctx, service).await?;
    let Some(address) = before.address else {
        return Err(FaultError::not_in_effect(
            fault,
            "the container has no address on the platform network (partitioned?)",
        ));
    };
    if !stopping {
        containers::pause(&docker, &container).await?;
        let now = state(ctx, service).await?;
        let verified = match now.paused {
            true => Ok(()),
            false => Err(FaultError::not_in_effect(
                fault,
                "Docker does not report it paused",
            )),
        };
        let undo = Undo::Unpause {
            service: service.clone(),
        };
        return Ok(Applied {
            undo,
            verified,
            hazards: Vec::new(),
        });
    }
    let links = links_snapshot(ctx, service).await?;
    let undo = Undo::Start {
        service: service.clone(),
        address,
        aliases: before.aliases.clone(),
        links,
    };
    // The commits a database crash catches in flight, read the moment before it.
    let before_kill = match (fault, service.as_str()) {
        (Fault::Kill { .. }, "postgres") => {
            super::hazard::postgres_open_transactions(ctx, fault).await
        }
        _ => None,
    };
    match fault {
        Fault::Kill { .. } => containers::kill(&docker, &container, "SIGKILL").await?,
        Fault::Stop { timeout_s, .. } | Fault::Restart { timeout_s, .. } => {
            containers::stop(&docker, &container, *timeout_s).await?
        }
        _ => {}
    }
    let down = wait_state(ctx, service, Duration::from_secs(10), |s| !s.running).await?;
    let mut verified = match (down.running, fault, down.exit_code) {
        (true, _, _) => Err(FaultError::not_in_effect(fault, "the container still runs")),
        (false, Fault::Kill { .. }, Some(code)) if code != 137 => Err(FaultError::not_in_effect(
            fault,
            format!("the container exited with {code}, not 137 (SIGKILL)"),
        )),
        _ => Ok(()),
    };
    if let (Fault::Restart { .. }, Ok(())) = (fault, &verified) {
        if let Err((e, _)) = undo.heal(ctx).await {
            return Err(e);
        }
        let after = state(ctx, service).await?;
        if after.started_at == before.started_at {
            verified = Err(FaultError::not_in_effect(
                fault,
                "the container's start time did not change",
            ));
        }
        return Ok(Applied {
            undo: Undo::Nothing,
            verified,
            hazards: Vec::new(),
        });
    }
    // A dead engine's state is frozen: what it had not made durable is the restart's to recover.
    let hazards = match (&verified, service.as_str()) {
        (Ok(()), "engine") if measure_dead => super::hazard::engine_down(ctx, fault)
            .await
            .into_iter()
            .collect(),
        (Ok(()), _) => before_kill.into_iter().collect(),
        _ => Vec::new(),
    };
    Ok(Applied {
        undo,
        verified,
        hazards,
    })
}

pub(crate) async fn heal(ctx: &Context, undo: &Undo) -> Result<()> {
    let docker = ctx.docker().await?;
    match undo {
        Undo::Unpause { service } => {
            let container = ctx.container(service)?;
            if state(ctx, service).await?.paused {
                containers::unpause(&docker, container).await?;
            }
            let now = state(ctx, service).await?;
            if now.paused || !now.running {
                return Err(FaultError::not_healed(
                    format!("pause of {service}"),
                    "it is not running",
                ));
            }
            ctx.wait_ready(&docker, service).await?;
            Ok(())
        }
        Undo::Start {
            service,
            address,
            aliases,
            links,
        } => {
            let container = ctx.container(service)?;
            let now = state(ctx, service).await?;
            if !now.running {
                let network = ctx.network_of(service)?;
                containers::pin_address(&docker, container, network, *address, aliases).await?;
                containers::start(&docker, container).await?;
            }
            let now = state(ctx, service).await?;
            let name = format!("start of {service}");
            if !now.running {
                return Err(FaultError::not_healed(name, "the container does not run"));
            }
            if now.address != Some(*address) {
                return Err(FaultError::not_healed(
                    name,
                    format!("its address is {:?}, not {address}", now.address),
                ));
            }
            ctx.wait_ready(&docker, service).await?;
            if let Some(client) = ctx.proxy_client_of(service)? {
                if !links.is_empty() && client.proxies().await?.is_empty() {
                    client.populate(links).await?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Kills every container of `dc` at once and cuts the inter-DC line (when there is one); the undo
/// restores the line, then starts the containers again in dependency order.
pub(crate) async fn lose_datacenter(
    ctx: &Context,
    fault: &Fault,
    dc: crate::platform::Dc,
) -> Result<Applied> {
    let roles = ctx.roles_in(dc);
    if roles.is_empty() {
        return Err(FaultError::invalid(
            fault.kind(),
            "dc",
            format!("the platform has no container in {dc}"),
        ));
    }
    // What the loss puts at risk, read on the site's primary the moment before it goes.
    let wal_at_risk = super::hazard::wal_not_on_standby(ctx, fault, dc).await;
    let kills = roles.iter().map(|role| {
        let kill = Fault::Kill {
            service: role.clone(),
        };
        async move { inject_with(ctx, &kill, false).await }
    });
    // The line's end in the lost site goes with it: every link of the line has one end in each
    // datacenter, and what the line held and had not delivered (data its latency delays or its
    // bandwidth queues) is lost, not delivered after the site died. Whether a killed socket
    // closes with FIN (the proxy delivers what it holds) or RST (it drops it) is otherwise a
    // race. The line comes back before the site's containers start again (undos heal in
    // reverse), since a returning engine reads the other site's fence across it.
    let line = ctx
        .line_cut()
        .into_iter()
        .map(|down| async move { super::network::inject(ctx, &down, "").await });
    let (killed, cut) = futures::future::join(
        futures::future::join_all(kills),
        futures::future::join_all(line),
    )
    .await;
    let mut undos = Vec::new();
    let mut hazards: Vec<_> = wal_at_risk.into_iter().collect();
    let mut verified = Ok(());
    let mut first_error = None;
    for outcome in killed.into_iter().chain(cut) {
        match outcome {
            Ok(mut applied) => {
                undos.push(applied.undo);
                hazards.append(&mut applied.hazards);
                if let (Ok(()), Err(e)) = (&verified, applied.verified) {
                    verified = Err(e);
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let undo = Undo::Many(undos);
    if let Some(e) = first_error {
        // What was killed is started again before the error is reported.
        if let Err((heal_error, _)) = undo.heal(ctx).await {
            tracing::error!(error = %heal_error, "restarting a partly lost datacenter failed");
        }
        return Err(e);
    }
    Ok(Applied {
        undo,
        verified,
        hazards,
    })
}
