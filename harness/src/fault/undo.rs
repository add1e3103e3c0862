//! What it takes to heal an injected fault, as data: the toxic to remove, the link to enable,
//! the container to start, resume or reconnect with its address, the exchange fault to clear.
//! Kept by the nemesis for every active fault, so that `heal_all` and the drop fallback can heal
//! whatever is left without the fault that caused it.

use std::net::Ipv4Addr;

use super::context::Context;
use super::error::Result;
use super::toxiproxy::ProxyData;
use super::{exchange, network, partition, process};

/// The inverse of one injected fault.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Undo {
    /// Nothing to heal (a restart, a front disconnect, a noop).
    Nothing,
    Toxic {
        link: String,
        name: String,
    },
    Enable {
        link: String,
    },
    /// Start the stopped service again with its address; after the fault proxy itself, create
    /// its links again.
    Start {
        service: String,
        address: Ipv4Addr,
        aliases: Vec<String>,
        links: Vec<ProxyData>,
    },
    Unpause {
        service: String,
    },
    Reconnect {
        service: String,
        address: Ipv4Addr,
        aliases: Vec<String>,
    },
    /// POST `body` to the admin route `/faults/{route}`, then expect `field` of `GET /faults`
    /// to read `expect`.
    Exchange {
        route: &'static str,
        body: serde_json::Value,
        field: &'static str,
        expect: serde_json::Value,
    },
    /// The parts of a composed fault, healed in reverse order.
    Many(Vec<Undo>),
}

/// An applied fault: its undo, and whether it was seen to take effect.
#[derive(Debug)]
pub(crate) struct Applied {
    pub undo: Undo,
    pub verified: Result<()>,
    /// The hazard each part of the fault met, measured as it was applied (returns in flight
    /// at a front disconnect); empty where the fault's kind measures none yet.
    pub hazards: Vec<crate::history::Hazard>,
}

impl Undo {
    /// Heals, then checks that the platform is back: every part is attempted, and the first
    /// error is returned with the undo of what could not be healed.
    pub(crate) fn heal<'a>(
        &'a self,
        ctx: &'a Context,
    ) -> futures::future::BoxFuture<'a, std::result::Result<(), (super::FaultError, Undo)>> {
        Box::pin(async move {
            let outcome = match self {
                Undo::Nothing => Ok(()),
                Undo::Toxic { .. } | Undo::Enable { .. } => network::heal(ctx, self).await,
                Undo::Start { .. } | Undo::Unpause { .. } => process::heal(ctx, self).await,
                Undo::Reconnect { .. } => partition::heal(ctx, self).await,
                Undo::Exchange { .. } => exchange::heal(ctx, self).await,
                Undo::Many(parts) => {
                    let mut left = Vec::new();
                    let mut first = None;
                    for part in parts.iter().rev() {
                        if let Err((e, undo)) = part.heal(ctx).await {
                            first.get_or_insert(e);
                            left.insert(0, undo);
                        }
                    }
                    return match first {
                        None => Ok(()),
                        Some(e) => Err((e, Undo::Many(left))),
                    };
                }
            };
            outcome.map_err(|e| (e, self.clone()))
        })
    }
}
