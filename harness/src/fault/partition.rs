//! Partition: the service's container is disconnected from the platform network, so nothing
//! reaches it and it reaches nothing (unlike a pause, where the kernel still answers TCP). The
//! inject checks that Docker lists no endpoint and that a connection from the harness to its
//! address fails; heal reconnects it with the same IPv4 address and aliases, and checks the
//! address and the service's readiness probe.
//!
//! Known gaps: the partition isolates a whole container from its only network; a split of
//! the network into two halves (Jepsen's `partition-random-halves`) needs per-pair rules and is
//! not offered yet.

use std::time::Duration;

use super::context::Context;
use super::error::{FaultError, Result};
use super::probe;
use super::spec::Fault;
use super::undo::{Applied, Undo};
use crate::platform::containers;

pub(crate) async fn inject(ctx: &Context, fault: &Fault) -> Result<Applied> {
    let Fault::Partition { service } = fault else {
        return Err(FaultError::invalid(
            fault.kind(),
            "kind",
            "is not a partition",
        ));
    };
    let docker = ctx.docker().await?;
    let container = ctx.container(service)?;
    let addr = ctx.service_address(service)?;
    let before = containers::state(&docker, container, ctx.network_of(service)?).await?;
    let Some(address) = before.address else {
        return Err(FaultError::not_in_effect(
            fault,
            "the container is not on the platform network",
        ));
    };
    containers::disconnect(&docker, container, ctx.network_of(service)?).await?;
    let undo = Undo::Reconnect {
        service: service.clone(),
        address,
        aliases: before.aliases,
    };
    let after = containers::state(&docker, container, ctx.network_of(service)?).await?;
    let verified = if after.address.is_some() {
        Err(FaultError::not_in_effect(
            fault,
            "Docker still lists it on the network",
        ))
    } else if probe::connects(addr, Duration::from_secs(1)).await {
        Err(FaultError::not_in_effect(
            fault,
            format!("a connection to {addr} still opened"),
        ))
    } else {
        Ok(())
    };
    Ok(Applied {
        undo,
        verified,
        hazards: Vec::new(),
    })
}

pub(crate) async fn heal(ctx: &Context, undo: &Undo) -> Result<()> {
    let Undo::Reconnect {
        service,
        address,
        aliases,
    } = undo
    else {
        return Ok(());
    };
    let docker = ctx.docker().await?;
    let container = ctx.container(service)?;
    let now = containers::state(&docker, container, ctx.network_of(service)?).await?;
    if now.address.is_none() {
        containers::connect(
            &docker,
            container,
            ctx.network_of(service)?,
            *address,
            aliases,
        )
        .await?;
    }
    let now = containers::state(&docker, container, ctx.network_of(service)?).await?;
    if now.address != Some(*address) {
        return Err(FaultError::not_healed(
            format!("partition of {service}"),
            format!("its address is {:?}, not {address}", now.address),
        ));
    }
    ctx.wait_ready(&docker, service).await?;
    Ok(())
}
