//! The nemesis: injects faults into one running platform and heals them. Every inject checks
//! that the fault took effect before it returns (a fault that cannot be seen acting is healed
//! and reported, so nothing is judged under a fault that did not happen); every heal checks
//! that the platform is back. The nemesis keeps every active fault with what heals it:
//! `heal_all` attempts all of them and collects the failures, and dropping the nemesis with
//! faults still active (after a panic, say) heals them from a thread of its own.
//!
//! With a history [`FaultLog`], the inject is recorded before the fault is applied and the
//! heal after the platform is back, so a fault window covers every moment the fault could act.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::context::Context;
use super::error::{chain, FaultError, Result};
use super::spec::{Catalogue, Fault};
use super::undo::{Applied, Undo};
use super::{exchange, network, partition, process};
use crate::history::{FaultAction, Hazard, HistoryError, Recorder};
use crate::Platform;

/// Where the nemesis records its injects and heals: a history [`Recorder`] shared with the
/// workload.
pub trait FaultLog: Send {
    fn record(
        &mut self,
        action: FaultAction,
        fault: &str,
        target: &str,
    ) -> Result<(), HistoryError>;

    /// Records the size of a fault's hazard, measured as it was injected.
    fn hazard(&mut self, hazard: &Hazard) -> Result<(), HistoryError>;
}

impl<W: Write + Send> FaultLog for Arc<Mutex<Recorder<W>>> {
    fn record(
        &mut self,
        action: FaultAction,
        fault: &str,
        target: &str,
    ) -> Result<(), HistoryError> {
        let mut recorder = self.lock().unwrap_or_else(|e| e.into_inner());
        recorder.fault(action, fault, target)?;
        recorder.flush()
    }

    fn hazard(&mut self, hazard: &Hazard) -> Result<(), HistoryError> {
        let mut recorder = self.lock().unwrap_or_else(|e| e.into_inner());
        recorder.hazard(hazard)?;
        recorder.flush()
    }
}

/// An injected fault, to hand back to [`Nemesis::heal`]. Dropping it does not heal it: the
/// nemesis still holds the fault and heals it in `heal_all` or when it is dropped.
#[must_use = "an injected fault stays active until healed"]
#[derive(Debug, Clone, PartialEq)]
pub struct Injected {
    id: u64,
    fault: Fault,
}

impl Injected {
    pub fn fault(&self) -> &Fault {
        &self.fault
    }
}

#[derive(Debug)]
struct Active {
    id: u64,
    fault: Fault,
    undo: Undo,
}

/// Injects and heals faults on one platform; heals what is left when dropped.
#[must_use = "dropping the nemesis heals every active fault"]
pub struct Nemesis<'p> {
    /// Ties the nemesis to the platform it acts on (see [`Nemesis::detached`]).
    _platform: std::marker::PhantomData<&'p Platform>,
    ctx: Context,
    active: Vec<Active>,
    next_id: u64,
    log: Option<Box<dyn FaultLog>>,
}

impl std::fmt::Debug for Nemesis<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nemesis")
            .field("active", &self.active)
            .finish()
    }
}

impl<'p> Nemesis<'p> {
    /// A nemesis for `platform`; services must answer their readiness probe within 60 s
    /// after a heal.
    pub fn new(platform: &'p Platform) -> Self {
        Self {
            _platform: std::marker::PhantomData,
            ctx: Context::of(platform, Duration::from_secs(60)),
            active: Vec::new(),
            next_id: 1,
            log: None,
        }
    }

    /// A nemesis not tied to the platform's lifetime, for holders that keep both side by side
    /// (a cucumber World). Heal it (or drop it) before the platform is shut down: healing a
    /// removed platform fails, naming the fault.
    pub fn detached(platform: &Platform) -> Nemesis<'static> {
        Nemesis {
            _platform: std::marker::PhantomData,
            ctx: Context::of(platform, Duration::from_secs(60)),
            active: Vec::new(),
            next_id: 1,
            log: None,
        }
    }

    /// How long a restarted, resumed or reconnected service may take to answer again.
    pub fn readiness_timeout(mut self, timeout: Duration) -> Self {
        self.ctx.readiness_timeout = timeout;
        self
    }

    /// Records every inject and heal into `log` (a history recorder).
    pub fn record_into(mut self, log: impl FaultLog + 'static) -> Self {
        self.log = Some(Box::new(log));
        self
    }

    /// The platform's links and services, which faults must name.
    pub fn catalogue(&self) -> Catalogue {
        self.ctx.catalogue()
    }

    /// The faults injected and not yet healed, oldest first.
    pub fn active(&self) -> Vec<Fault> {
        self.active.iter().map(|a| a.fault.clone()).collect()
    }

    fn record(&mut self, action: FaultAction, fault: &Fault) -> Result<()> {
        match &mut self.log {
            Some(log) => log
                .record(action, fault.kind(), &fault.target())
                .map_err(FaultError::History),
            None => Ok(()),
        }
    }

    /// Injects `fault` and checks that it took effect. A fault that cannot be applied, or is
    /// not seen acting, is healed and returned as an error naming it.
    pub async fn inject(&mut self, fault: &Fault) -> Result<Injected> {
        let wrap = |source: FaultError| FaultError::Inject {
            fault: fault.to_string(),
            source: Box::new(source),
        };
        fault.validate(&self.catalogue()).map_err(wrap)?;
        let id = self.next_id;
        self.next_id += 1;
        self.record(FaultAction::Inject, fault)?;
        let applied = match apply(&self.ctx, fault, id).await {
            Ok(applied) => applied,
            Err(e) => {
                self.record(FaultAction::Heal, fault)?;
                return Err(wrap(e));
            }
        };
        for h in &applied.hazards {
            if let Some(log) = &mut self.log {
                log.hazard(h).map_err(FaultError::History)?;
            }
        }
        self.active.push(Active {
            id,
            fault: fault.clone(),
            undo: applied.undo,
        });
        let injected = Injected {
            id,
            fault: fault.clone(),
        };
        if let Err(e) = applied.verified {
            if let Err(heal) = self.heal(injected).await {
                tracing::error!(error = %chain(&heal), "healing a fault not seen acting failed");
            }
            return Err(wrap(e));
        }
        tracing::info!(%fault, "fault injected");
        Ok(injected)
    }

    /// Heals one fault and checks the platform is back; on failure the fault stays active.
    pub async fn heal(&mut self, injected: Injected) -> Result<()> {
        let Some(at) = self.active.iter().position(|a| a.id == injected.id) else {
            return Ok(());
        };
        self.heal_at(at).await
    }

    async fn heal_at(&mut self, at: usize) -> Result<()> {
        let fault = self.active[at].fault.clone();
        // What a Kafka fault left waiting is known at its heal, not at its inject.
        if super::hazard::hits_kafka(&fault) {
            if let Some(h) = super::hazard::outbox_backlog(&self.ctx, &fault).await {
                if let Some(log) = &mut self.log {
                    log.hazard(&h).map_err(FaultError::History)?;
                }
            }
        }
        match self.active[at].undo.heal(&self.ctx).await {
            Ok(()) => {
                self.active.remove(at);
                self.record(FaultAction::Heal, &fault)?;
                tracing::info!(%fault, "fault healed");
                Ok(())
            }
            Err((e, left)) => {
                self.active[at].undo = left;
                Err(FaultError::Heal {
                    fault: fault.to_string(),
                    source: Box::new(e),
                })
            }
        }
    }

    /// Heals every active fault, links before processes and newest first within each,
    /// attempting each whatever the others do; the
    /// error lists every fault that could not be healed.
    pub async fn heal_all(&mut self) -> Result<()> {
        let mut failures = Vec::new();
        // Links, partitions and the exchange first, then processes (newest first in each
        // pass): a service started again must find its dependencies reachable.
        for processes in [false, true] {
            let mut at = self.active.len();
            while at > 0 {
                at -= 1;
                let is_process = matches!(
                    self.active[at].fault,
                    Fault::Kill { .. } | Fault::Stop { .. } | Fault::Pause { .. }
                );
                if is_process != processes {
                    continue;
                }
                if let Err(e) = self.heal_at(at).await {
                    failures.push(e);
                }
            }
        }
        match failures.is_empty() {
            true => Ok(()),
            false => Err(FaultError::HealAll { failures }),
        }
    }
}

/// Applies one fault (a composition part by part); the toxic name is unique per inject.
fn apply<'a>(
    ctx: &'a Context,
    fault: &'a Fault,
    id: u64,
) -> futures::future::BoxFuture<'a, Result<Applied>> {
    Box::pin(async move {
        match fault {
            Fault::Noop => Ok(Applied {
                undo: Undo::Nothing,
                verified: Ok(()),
                hazards: Vec::new(),
            }),
            Fault::All { faults, stagger_ms } => {
                let mut undos = Vec::new();
                let mut hazards = Vec::new();
                let mut verified = Ok(());
                for (i, part) in faults.iter().enumerate() {
                    if i > 0 && *stagger_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(*stagger_ms)).await;
                    }
                    match apply(ctx, part, id * 1000 + i as u64).await {
                        Ok(mut applied) => {
                            undos.push(applied.undo);
                            hazards.append(&mut applied.hazards);
                            if verified.is_ok() {
                                verified = applied.verified;
                            }
                        }
                        Err(e) => {
                            // What was applied is healed before the error goes up.
                            if let Err((heal, _)) = Undo::Many(undos).heal(ctx).await {
                                tracing::error!(error = %chain(&heal), "healing part of a composed fault failed");
                            }
                            return Err(e);
                        }
                    }
                }
                Ok(Applied {
                    undo: Undo::Many(undos),
                    verified,
                    hazards,
                })
            }
            Fault::Latency { .. }
            | Fault::Bandwidth { .. }
            | Fault::Timeout { .. }
            | Fault::ResetPeer { .. }
            | Fault::Slicer { .. }
            | Fault::LimitData { .. }
            | Fault::Down { .. } => {
                network::inject(ctx, fault, &format!("nemesis-{id}-{}", fault.kind())).await
            }
            Fault::Kill { .. }
            | Fault::Stop { .. }
            | Fault::Pause { .. }
            | Fault::Restart { .. } => process::inject(ctx, fault).await,
            Fault::Partition { .. } => partition::inject(ctx, fault).await,
            Fault::DatacenterLoss { dc } => process::lose_datacenter(ctx, fault, *dc).await,
            Fault::DatacenterIsolation { .. } => {
                let faults = ctx.line_cut();
                apply(
                    ctx,
                    &Fault::All {
                        faults,
                        stagger_ms: 0,
                    },
                    id,
                )
                .await
            }
            Fault::FrontDisconnect { .. }
            | Fault::FrontHang { .. }
            | Fault::DelayReturns { .. }
            | Fault::DropReturns { .. }
            | Fault::RejectOrders { .. }
            | Fault::FlowControl { .. } => exchange::inject(ctx, fault).await,
        }
    })
}

impl Drop for Nemesis<'_> {
    fn drop(&mut self) {
        if self.active.is_empty() {
            return;
        }
        let active = std::mem::take(&mut self.active);
        let ctx = self.ctx.clone();
        let mut log = self.log.take();
        // The runtime that injected may be unwinding or gone: heal on a runtime of our own.
        let healer = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let ctx = ctx.rebuilt();
                let mut failures = Vec::new();
                for a in active.iter().rev() {
                    match a.undo.heal(&ctx).await {
                        Ok(()) => {
                            if let Some(log) = &mut log {
                                let _ = log.record(
                                    FaultAction::Heal,
                                    a.fault.kind(),
                                    &a.fault.target(),
                                );
                            }
                        }
                        Err((e, _)) => failures.push(format!("{}: {}", a.fault, chain(&e))),
                    }
                }
                match failures.is_empty() {
                    true => Ok(()),
                    false => Err(failures.join("; ")),
                }
            })
        });
        match healer.join() {
            Ok(Ok(())) => eprintln!("harness: the nemesis healed its active faults on drop"),
            Ok(Err(e)) => eprintln!("harness: healing faults on drop failed: {e}"),
            Err(_) => eprintln!("harness: healing faults on drop panicked"),
        }
    }
}
