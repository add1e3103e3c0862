//! Platforms shared by the scenarios whose engine runs the same way (investor and defects),
//! reset to its seeded state between them as the chaos property resets between
//! cases (`harness::chaos::reset`: engine killed, its tables emptied and seeded again, the mock
//! CTP front back to a clean trading day, Redis flushed, engine started). A scenario that
//! failed, or whose faults could not be healed, gives its platform back to no one: it is
//! removed (or kept, `HARNESS_KEEP=on-failure`), and the next scenario starts a fresh one.
//! At most [`IDLE_MAX`] platforms wait idle, so that features alternating between two engines
//! reuse both.
//!
//! Starting a platform is most of a short scenario's time (containers, PostgreSQL's initdb,
//! Kafka's readiness); a reset is the engine's restart. [`Drain`] removes the idle platforms
//! when the features are done, and on the way out of a panic.

use std::sync::Mutex;

use anyhow::{Context as _, Result};
use harness::platform::{EngineSpec, Replication};
use harness::{Platform, Topology};

/// How many platforms wait idle at most: one per engine the features alternate between (the
/// order features switch investors scenario by scenario). An idle platform costs memory, and
/// next to no CPU (its engine answers heartbeats and a few ticks a second).
const IDLE_MAX: usize = 2;

/// The platforms left by scenarios that passed, with the engines they run, the most recently
/// used last.
static IDLE: Mutex<Vec<(EngineSpec, Platform)>> = Mutex::new(Vec::new());

fn idle() -> std::sync::MutexGuard<'static, Vec<(EngineSpec, Platform)>> {
    IDLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The idle platform running `spec`, if any.
fn take_idle(spec: &EngineSpec) -> Option<Platform> {
    let mut idle = idle();
    let i = idle.iter().position(|(s, _)| s == spec)?;
    Some(idle.remove(i).1)
}

/// Whether scenarios share platforms: `FEATURES_SHARE_PLATFORM=0` gives each its own.
fn sharing() -> bool {
    std::env::var("FEATURES_SHARE_PLATFORM").map_or(true, |v| v != "0")
}

/// A platform whose engine runs as `spec`: an idle one running the same engine, reset, or
/// else a new one.
pub(crate) async fn checkout(spec: EngineSpec) -> Result<Platform> {
    if let Some(platform) = take_idle(&spec) {
        match harness::chaos::reset(&platform).await {
            Ok(took) => {
                println!(
                    "platform {} reused, reset to its seeded state in {:.1} s",
                    platform.run_id(),
                    took.as_secs_f64()
                );
                return Ok(platform);
            }
            Err(e) => {
                eprintln!(
                    "platform {}: the reset failed ({e}); starting a new platform",
                    platform.run_id()
                );
                remove(platform).await;
            }
        }
    }
    let platform = Platform::builder()
        .topology(Topology::single_dc().with_engine_spec(spec))
        .start()
        .await
        .context("the platform did not start")?;
    Ok(platform)
}

/// How long a two-datacenter platform may take to turn ready: two Kafka brokers and a base
/// backup across the line start on two cores in more than one site's default 60 s.
const TWO_DC_READY: std::time::Duration = std::time::Duration::from_secs(120);

/// A new two-datacenter platform whose engines run as `spec` (dc1 active, dc2 its standby).
/// Never pooled: the reset between scenarios knows one site, not a standby site to rebuild.
pub(crate) async fn start_two_dc(spec: EngineSpec, replication: Replication) -> Result<Platform> {
    Platform::builder()
        .topology(
            Topology::two_dc()
                .with_engine_spec(spec)
                .with_replication(replication),
        )
        .readiness_timeout(TWO_DC_READY)
        .start()
        .await
        .context("the two-datacenter platform did not start")
}

/// Keeps `platform` (healthy, its faults healed) for a later scenario, removing the least
/// recently used idle one beyond [`IDLE_MAX`].
pub(crate) async fn checkin(spec: EngineSpec, platform: Platform) {
    if !sharing() {
        return remove(platform).await;
    }
    let evicted = {
        let mut idle = idle();
        idle.push((spec, platform));
        let over = idle.len().saturating_sub(IDLE_MAX);
        idle.drain(..over).collect::<Vec<_>>()
    };
    for (_, other) in evicted {
        remove(other).await;
    }
}

pub(crate) async fn remove(platform: Platform) {
    let run = platform.run_id().to_string();
    if let Err(e) = platform.shutdown().await {
        eprintln!("platform {run}: removing it failed: {e:#}");
    }
}

/// Removes the idle platforms when dropped: at the end of the features, or after a panic.
pub(crate) struct Drain;

impl Drain {
    /// Removes the idle platforms now, inside the runtime.
    pub(crate) async fn now(&self) {
        let all = std::mem::take(&mut *idle());
        for (_, platform) in all {
            remove(platform).await;
        }
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        // Platform's own Drop removes its containers from a thread of its own.
        drop(std::mem::take(&mut *idle()));
    }
}
