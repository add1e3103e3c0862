//! Running one drill: a fresh two-datacenter platform, an open-loop workload through the order
//! router, the fault (or the planned switchover) with the DR controller acting on it, then the
//! old site back (fenced, or rebuilt as a standby in the failback), convergence of the serving
//! site, and the verdict. The platform is removed whatever happened.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::controller::{Controller, Promotion};
use super::drill::{Drill, DrillOptions};
use super::error::DrError;
use crate::check::dr::{self, RpoMeasure, RtoMeasure};
use crate::check::{self, KafkaEvents, LatencyCheck, Outcome, Verdict};
use crate::fault::{chain, Fault, Nemesis, Stream};
use crate::history::{self, Recorder, HISTORY_FILE};
use crate::observe::Observer;
use crate::platform::{Dc, EngineSpec};
use crate::report::{Report, RunInfo};
use crate::workload::{
    self, Mix, OrderEntry, Planner, Router, Sample, SharedRecorder, WorkloadSpec,
};
use crate::{Platform, Topology};

/// The link of the inter-DC line that carries dc2's replication from dc1.
const REPLICATION_LINK: &str = "postgres-replication";

/// How long the isolation drill keeps dc1 cut off (detection and promotion included).
const ISOLATED: Duration = Duration::from_secs(6);

/// The stale client's rate in the isolation drill.
const STALE_RATE: f64 = 10.0;

fn undetected() -> DrError {
    DrError::Step {
        step: "detect",
        reason: "dc1's loss was not detected within 30 s".into(),
    }
}

/// The post-drill validation's workload: this long at the drill's rate, through the router to
/// the new site, once the drill is over and the old site is back.
const VALIDATION: Duration = Duration::from_secs(10);

/// How long the platform may take to settle after a drill.
const SETTLE: Duration = Duration::from_secs(60);

/// How much longer the failback's workload runs than the other drills': two switchovers and
/// two rebuilds take 10-20 s on this machine, and orders flow through all of them.
const FAILBACK_MORE: Duration = Duration::from_secs(20);

/// How long the old site's standby may take to replay what the serving site wrote, before the
/// failback compares the two sites' orders.
const REPLAY: Duration = Duration::from_secs(30);

/// The first half of a failback: the switchover dc1 -> dc2, and the events dc1's broker held
/// when dc1 was rebuilt (its engine stopped, its outbox flushed).
struct Outbound {
    promotion: Promotion,
    dc1_events: KafkaEvents,
    /// Where dc1's broker ended then: the failback's events on it come after.
    dc1_marks: crate::observe::KafkaMarks,
}

/// One drill's outcome, as the certificate shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DrillResult {
    pub drill: Drill,
    pub description: &'static str,
    pub replication: &'static str,
    pub outcome: Outcome,
    pub verdict: Verdict,
    pub rto: RtoMeasure,
    pub rpo: RpoMeasure,
    /// The fault (or switchover start), ms since the run's start.
    pub fault_at_ms: f64,
    /// The controller's steps, ms since the fault.
    pub timeline: Vec<TimelineRow>,
    /// What each fault put at risk as it struck, from the drill's history.
    pub hazards: Vec<history::HazardMark>,
    /// Order acknowledgement P99 of the post-drill validation workload on the new site, ms.
    pub p99_after_ms: Option<f64>,
    pub orders_sent: u64,
    pub orders_acknowledged: u64,
    pub orders_unknown: u64,
    pub run_dir: PathBuf,
    pub seed: u64,
    pub elapsed_s: f64,
    /// The dc1 engine's security context, read from inside its container at start.
    pub engine_security: Option<crate::platform::SecurityContext>,
}

/// One line of a drill's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineRow {
    pub at_ms: f64,
    pub what: String,
    pub dc: Option<Dc>,
    pub detail: String,
}

/// Runs `drill` on a fresh platform with `opts`, its files under `dir`.
pub async fn run_drill(
    drill: Drill,
    opts: &DrillOptions,
    dir: &Path,
) -> Result<DrillResult, DrError> {
    opts.validate()?;
    flush_page_cache().await;
    let started = Instant::now();
    let spec = EngineSpec {
        defects: opts.defects.clone(),
        ..EngineSpec::default()
    };
    let topology = Topology::two_dc()
        .with_engine_spec(spec)
        .with_replication(opts.replication)
        .with_line_latency_ms(opts.line_latency_ms);
    let platform = Platform::builder()
        .topology(topology)
        .seed(opts.seed)
        .readiness_timeout(opts.readiness_timeout)
        .start()
        .await?;
    let result = drive(&platform, drill, opts, dir, started).await;
    let removed = platform.shutdown().await;
    let result = result?;
    removed?;
    Ok(result)
}

/// Writes the machine's dirty page cache out before a drill. A build just before (cargo writes
/// about a gigabyte of artifacts) otherwise reaches the disk some 30 s later (the kernel's
/// `dirty_expire_centisecs`), in the middle of the drill, and every WAL fsync of the new site
/// waits behind it: order P99 went from about 5 ms to 100-150 ms in the validation of the
/// first drill after a build, in three runs of three.
async fn flush_page_cache() {
    let flushed = tokio::task::spawn_blocking(|| std::process::Command::new("sync").status()).await;
    if !matches!(flushed, Ok(Ok(s)) if s.success()) {
        tracing::warn!("sync failed: a build's dirty pages may be written during the drill");
    }
}

/// The slowed line of [`Drill::SlowLineLoss`]: 200 ms each way. (No throttle: the WAL crosses
/// the line downstream at about 5 KB per order, measured at 400 KB/s under this drill's flow,
/// so the 64 KB/s this drill once named would cap synchronous commits at a sixth of the flow;
/// that throttle acted upstream, on the standby's replies alone.)
fn slow_line() -> Fault {
    let faults = [Stream::Upstream, Stream::Downstream]
        .into_iter()
        .map(|stream| Fault::Latency {
            link: REPLICATION_LINK.into(),
            stream,
            latency_ms: 200,
            jitter_ms: 0,
        })
        .collect();
    Fault::All {
        faults,
        stagger_ms: 0,
    }
}

async fn drive(
    platform: &Platform,
    drill: Drill,
    opts: &DrillOptions,
    dir: &Path,
    started: Instant,
) -> Result<DrillResult, DrError> {
    crate::run::fresh_dir(dir).map_err(|e| DrError::io(dir, e))?;
    let (dc1, dc2) = (
        platform.site(Dc::Dc1)?.clone(),
        platform.site(Dc::Dc2)?.clone(),
    );
    let old = Observer::connect(&dc1).await?;
    let initial = old.initial().await?;
    let marks_dc1 = old.kafka_marks().await?;
    let new = Observer::connect(&dc2).await?;
    let marks_dc2 = new.kafka_marks().await?;
    let wall_start = chrono::Utc::now();
    let recorder = Arc::new(Mutex::new(Recorder::create(dir)?));
    let router = Router::connect(platform).await?;
    let investor = EngineSpec::default().investor;
    let mix = Mix {
        cancel: 0.1,
        duplicate: 0.05,
        risk_reject: 0.02,
    };
    let length = if drill == Drill::Failback {
        opts.workload + FAILBACK_MORE
    } else {
        opts.workload
    };
    let (spec, planner) = flow(
        &investor,
        opts.rate_per_s,
        length,
        format!("dr{}", opts.seed),
        opts.seed,
        mix,
    )?;
    let flow_task = spawn_flow(spec, planner, router.clone(), recorder.clone());
    // A client that still resolves dc1 (the isolation drill): plain orders straight to dc1's
    // engine, never held or rerouted, recorded in the same history.
    let stale = if drill == Drill::Isolation {
        let (spec, planner) = flow(
            &investor,
            STALE_RATE,
            opts.workload,
            format!("dr{}s", opts.seed),
            opts.seed.wrapping_add(2),
            Mix::default(),
        )?;
        Some(spawn_flow(
            spec,
            planner,
            router.stale(Dc::Dc1)?,
            recorder.clone(),
        ))
    } else {
        None
    };
    let mut nemesis = Nemesis::new(platform).record_into(recorder.clone());
    let controller = Controller::new(platform, router.clone(), recorder.clone(), opts.probe);

    let acted = async {
        if drill == Drill::SlowLineLoss {
            tokio::time::sleep(opts.before_fault / 2).await;
            // Healed by `heal_all` below, with everything else.
            let _line = nemesis.inject(&slow_line()).await?;
            tokio::time::sleep(opts.before_fault / 2).await;
        } else {
            tokio::time::sleep(opts.before_fault).await;
        }
        let mut outbound = None;
        let promotion = match drill {
            Drill::Switchover => controller.switchover(Dc::Dc1, Dc::Dc2).await?,
            Drill::Failback => {
                let promotion = controller.switchover(Dc::Dc1, Dc::Dc2).await?;
                // dc1's broker has every event of the first half: its engine flushed its outbox
                // as it stopped, and nothing writes there until dc1 serves again.
                let dc1_events = old.kafka_events(&marks_dc1).await?;
                let dc1_marks = old.kafka_marks().await?;
                outbound = Some(Outbound {
                    promotion,
                    dc1_events,
                    dc1_marks,
                });
                controller.rejoin(Dc::Dc1).await?;
                let back = controller.switchover(Dc::Dc2, Dc::Dc1).await?;
                controller.rejoin(Dc::Dc2).await?;
                back
            }
            Drill::DcLoss | Drill::SlowLineLoss => {
                // The controller watches all along, as it would in production: the time the
                // nemesis takes to measure the hazard and verify the kills is not detection time.
                let (lost, seen) = tokio::join!(
                    nemesis.inject(&Fault::DatacenterLoss { dc: Dc::Dc1 }),
                    controller.watch(Dc::Dc1, Duration::from_secs(30))
                );
                let _lost = lost?;
                if !seen? {
                    return Err(undetected());
                }
                controller.failover(Dc::Dc1, Dc::Dc2).await?
            }
            Drill::Isolation => {
                let cut = nemesis
                    .inject(&Fault::DatacenterIsolation { dc: Dc::Dc1 })
                    .await?;
                let since = Instant::now();
                if !controller
                    .watch_across_line(Dc::Dc1, Duration::from_secs(30))
                    .await?
                {
                    return Err(undetected());
                }
                let promotion = controller.failover(Dc::Dc1, Dc::Dc2).await?;
                // The line back while the stale client still sends to dc1: it must read dc2's
                // epoch and fence itself.
                tokio::time::sleep(ISOLATED.saturating_sub(since.elapsed())).await;
                nemesis.heal(cut).await?;
                promotion
            }
        };
        Ok::<(Promotion, Option<Outbound>), DrError>((promotion, outbound))
    }
    .await;
    let done = flow_task.await.expect("the workload does not panic");
    let stale_done = match stale {
        Some(s) => Some(s.await.expect("the stale client does not panic")),
        None => None,
    };
    // The old site back: after a loss its containers start again with their data and its
    // engine must come back fenced; the line's faults end.
    let healed = nemesis.heal_all().await;
    let (promotion, outbound) = acted?;
    let result = done?;
    if let Some(s) = stale_done {
        s?;
    }
    healed?;
    let validation = validation_workload(opts, &investor, router, recorder).await?;

    let final_site = drill.final_site();
    // A fresh observer: the failback restarted both sites' databases.
    let serving = Observer::connect(platform.site(final_site)?).await?;
    let settled = serving.settle(SETTLE).await?;
    let history = history::load(&dir.join(HISTORY_FILE))?;
    let fault_ns = fault_time(drill, &history);
    let samples: Vec<Sample> = result
        .samples
        .iter()
        .chain(&validation.samples)
        .copied()
        .collect();
    let latency = workload::latency_samples(&samples, &history.timeline);
    // The outbox relayed each site's events to its own broker while it served: the events of
    // the drill are judged as a consumer reading the sites in the order they served sees them.
    let obs = match &outbound {
        None => {
            let mut obs = serving.observe(initial, latency, &marks_dc2).await?;
            let old_events = site_events(&dc1, &marks_dc1).await?;
            obs.kafka = merge(old_events, std::mem::take(&mut obs.kafka));
            obs
        }
        Some(out) => {
            let mut obs = serving.observe(initial, latency, &out.dc1_marks).await?;
            let dc2_events = site_events(&dc2, &marks_dc2).await?;
            let first = merge(out.dc1_events.clone(), dc2_events);
            obs.kafka = merge(first, std::mem::take(&mut obs.kafka));
            obs
        }
    };

    let targets = &opts.targets;
    let (rto, rto_v) = dr::rto(&history, fault_ns, final_site, targets);
    let (rpo, rpo_v) = dr::rpo(
        &history,
        fault_ns,
        final_site,
        &promotion.orders_at_promotion,
        &obs.db,
        &obs.exchange,
        targets,
    );
    let p99_after_ms = (!validation.samples.is_empty()).then(|| {
        workload::ack_histogram_of(validation.samples.iter()).value_at_quantile(0.99) as f64 / 1e6
    });
    let mut parts = vec![settled.verdict(), rto_v];
    parts.extend(rpo_v);
    parts.push(validate(p99_after_ms, opts.validation_p99));
    if drill == Drill::Isolation {
        let promoted = history
            .steps
            .iter()
            .find(|s| s.step == "promote_engine")
            .map_or(0, |s| s.at_ns);
        parts.push(dr::at_most_one_site(&history, Dc::Dc2, promoted));
    }
    if drill.is_unplanned() {
        parts.push(old_site_fenced(platform).await);
    }
    if let Some(out) = &outbound {
        parts.extend(outbound_checks(&history, fault_ns, out, &obs, targets));
        parts.push(sites_agree(platform).await);
    }
    parts.push(check::judge(
        &check::safety("surviving_site"),
        &history,
        &obs,
    ));
    let verdict = Verdict::all(drill.as_str(), parts);

    let info = RunInfo {
        name: format!("dr-{drill}"),
        run_dir: dir.to_owned(),
        seed: opts.seed,
        replay_command: format!(
            "harness certify --drills {drill} --replication {} --seed {}",
            opts.replication_name(),
            opts.seed
        ),
        started: wall_start,
        finished: chrono::Utc::now(),
        images: platform.images().clone(),
        schedule: history.timeline.windows().to_vec(),
        engine_security: dc1.engine.as_ref().map(|e| e.security.clone()),
    };
    let mut report = Report::new(info, &verdict, &obs.latency, &LatencyCheck::default());
    report.series = crate::report::series(&samples, &history);
    report
        .write(dir)
        .map_err(|e| DrError::io(dir, std::io::Error::other(chain(&e))))?;
    let tally = result.tally(workload::Intent::Order);
    Ok(DrillResult {
        drill,
        description: drill.describe(),
        replication: opts.replication_name(),
        outcome: verdict.outcome,
        verdict,
        rto,
        rpo,
        fault_at_ms: fault_ns as f64 / 1e6,
        timeline: timeline(&history, fault_ns),
        hazards: history.hazards.clone(),
        p99_after_ms,
        orders_sent: tally.sent,
        orders_acknowledged: tally.ok,
        orders_unknown: tally.info,
        run_dir: dir.to_owned(),
        seed: opts.seed,
        elapsed_s: started.elapsed().as_secs_f64(),
        engine_security: dc1.engine.as_ref().map(|e| e.security.clone()),
    })
}

impl DrillResult {
    /// The hazard `measure` measured at the datacenter loss, if the drill had one and it was
    /// measured.
    pub fn loss_hazard(&self, measure: &str) -> Option<&history::HazardMark> {
        self.hazards
            .iter()
            .find(|m| m.hazard.fault == "datacenter_loss" && m.hazard.measure == measure)
    }
}

/// When the controller started the switchover away from `from` (0 if it never did).
fn switchover_start(history: &history::History, from: Dc) -> u64 {
    history
        .steps
        .iter()
        .find(|s| s.step == "switchover_started" && s.dc == Some(from))
        .map_or(0, |s| s.at_ns)
}

/// The fault's time: the datacenter loss's or isolation's inject, or the switchover's start
/// (the failback's: the switchover from dc2).
fn fault_time(drill: Drill, history: &history::History) -> u64 {
    if drill == Drill::Failback {
        switchover_start(history, Dc::Dc2)
    } else if drill.is_unplanned() {
        let fault = if drill == Drill::Isolation {
            "datacenter_isolation"
        } else {
            "datacenter_loss"
        };
        history
            .timeline
            .windows()
            .iter()
            .find(|w| w.fault == fault)
            .map_or(0, |w| w.inject_ns)
    } else {
        switchover_start(history, Dc::Dc1)
    }
}

/// The drill's faults, the hazards measured as they struck, and the controller's steps, in
/// time order.
fn timeline(history: &history::History, fault_ns: u64) -> Vec<TimelineRow> {
    let ms = |at: u64| (at as f64 - fault_ns as f64) / 1e6;
    let mut rows: Vec<TimelineRow> = history
        .timeline
        .windows()
        .iter()
        .flat_map(|w| {
            let mut r = vec![TimelineRow {
                at_ms: ms(w.inject_ns),
                what: format!("inject {}", w.fault),
                dc: None,
                detail: w.target.clone(),
            }];
            if let Some(end) = w.heal_ns {
                r.push(TimelineRow {
                    at_ms: ms(end),
                    what: format!("healed {}", w.fault),
                    dc: None,
                    detail: w.target.clone(),
                });
            }
            r
        })
        .chain(history.hazards.iter().map(|h| TimelineRow {
            at_ms: ms(h.at_ns),
            what: format!("hazard {}", h.hazard.measure),
            dc: None,
            detail: format!("{} ({})", h.hazard.size, h.hazard.detail),
        }))
        .chain(history.steps.iter().map(|s| TimelineRow {
            at_ms: ms(s.at_ns),
            what: s.step.clone(),
            dc: s.dc,
            detail: s.detail.clone(),
        }))
        .collect();
    rows.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    rows
}

/// A site's broker's events after `marks`.
async fn site_events(
    site: &crate::Endpoints,
    marks: &crate::observe::KafkaMarks,
) -> Result<KafkaEvents, DrError> {
    Ok(Observer::connect(site).await?.kafka_events(marks).await?)
}

/// The first site's events, then the next's, as a consumer that reads them in that order.
fn merge(mut first: KafkaEvents, then: KafkaEvents) -> KafkaEvents {
    first.order_events.extend(then.order_events);
    first.trade_events.extend(then.trade_events);
    first
}

/// The post-drill validation workload: plain orders at the drill's rate for [`VALIDATION`],
/// through the router (to the new site), recorded in the drill's history.
async fn validation_workload(
    opts: &DrillOptions,
    investor: &str,
    router: Router,
    recorder: SharedRecorder<BufWriter<File>>,
) -> Result<workload::WorkloadResult, DrError> {
    let (spec, planner) = flow(
        investor,
        opts.rate_per_s,
        VALIDATION,
        format!("dr{}v", opts.seed),
        opts.seed.wrapping_add(1),
        Mix::default(),
    )?;
    Ok(workload::run(&spec, planner, router, recorder).await?)
}

/// A flow of `rate` orders per second for `length` as `investor`, its client order ids
/// prefixed `prefix`: its spec and planner.
fn flow(
    investor: &str,
    rate: f64,
    length: Duration,
    prefix: String,
    seed: u64,
    mix: Mix,
) -> Result<(WorkloadSpec, Planner), DrError> {
    let spec = WorkloadSpec {
        max_duration: length + Duration::from_secs(1),
        client_prefix: prefix,
        ..WorkloadSpec::new(
            investor,
            rate,
            (rate * length.as_secs_f64()).ceil() as u64,
            seed,
        )
    }
    .with_mix(mix);
    let planner = workload::planner_for(&spec)?;
    Ok((spec, planner))
}

/// Runs a flow against `entry` in a task of its own, recording into `recorder`.
fn spawn_flow<E: OrderEntry>(
    spec: WorkloadSpec,
    planner: Planner,
    entry: E,
    recorder: SharedRecorder<BufWriter<File>>,
) -> tokio::task::JoinHandle<Result<workload::WorkloadResult, workload::WorkloadError>> {
    tokio::spawn(async move { workload::run(&spec, planner, entry, recorder).await })
}

/// The reference's post-drill validation: order P99 on the new site within `budget`.
fn validate(p99_after_ms: Option<f64>, budget: Duration) -> Verdict {
    let limit = budget.as_secs_f64() * 1000.0;
    match p99_after_ms {
        None => Verdict::new(
            "post_drill_latency",
            Outcome::Invalid,
            "the new site acknowledged no order of the validation workload",
        ),
        Some(p99) => {
            let mut v = Verdict::new(
                "post_drill_latency",
                if p99 < limit {
                    Outcome::Valid
                } else {
                    Outcome::Invalid
                },
                format!(
                    "order P99 of the {} s validation workload on the new site {p99:.2} ms \
                     against {limit:.0} ms",
                    VALIDATION.as_secs()
                ),
            );
            v.evidence
                .counts
                .insert("p99_us".into(), (p99 * 1000.0) as u64);
            v
        }
    }
}

/// After a loss, the old site comes back with its old data: its engine must be fenced (it
/// acknowledges, routes and applies nothing) until it is rebuilt as a standby.
async fn old_site_fenced(platform: &Platform) -> Verdict {
    const NAME: &str = "old_site_fenced";
    let Ok(engine) = platform.engine_of(Dc::Dc1) else {
        return Verdict::unknown(NAME, "dc1 runs no engine");
    };
    let role = async {
        reqwest::get(format!("http://{}/role", engine.http))
            .await?
            .json::<serde_json::Value>()
            .await
    }
    .await;
    match role {
        Ok(r) if r["role"] == "fenced" => Verdict::valid(
            NAME,
            format!("dc1's engine came back fenced: {}", r["superseded_by"]),
        ),
        Ok(r) => Verdict::new(
            NAME,
            Outcome::Invalid,
            format!("dc1's engine came back {}, not fenced: {r}", r["role"]),
        ),
        Err(e) => Verdict::unknown(NAME, format!("dc1's engine's /role: {e}")),
    }
}

/// The failback's first half judged as a switchover of its own: its RTO (dc1's switchover to
/// dc2's first acknowledgement) and its RPO (the orders acknowledged before the switch back
/// that dc2's database lacked at its promotion), named `switchover_rto` and `switchover_rpo`.
fn outbound_checks(
    history: &history::History,
    back_ns: u64,
    out: &Outbound,
    obs: &check::Observations,
    targets: &dr::DrTargets,
) -> Vec<Verdict> {
    let start_ns = switchover_start(history, Dc::Dc1);
    // The orders answered before the switch back: the ones dc2's promotion could have had.
    let before = history::History {
        operations: history
            .operations
            .iter()
            .filter(|o| o.complete_ns.is_some_and(|done| done < back_ns))
            .cloned()
            .collect(),
        timeline: history.timeline.clone(),
        steps: history.steps.clone(),
        hazards: history.hazards.clone(),
    };
    let (_, mut rto) = dr::rto(&before, start_ns, Dc::Dc2, targets);
    rto.check = format!("switchover_{}", rto.check);
    let (_, rpo) = dr::rpo(
        &before,
        start_ns,
        Dc::Dc2,
        &out.promotion.orders_at_promotion,
        &obs.db,
        &obs.exchange,
        targets,
    );
    let mut checks = vec![rto];
    checks.extend(rpo.into_iter().take(1).map(|mut v| {
        v.check = format!("switchover_{}", v.check);
        v
    }));
    checks
}

/// The reference's post-drill validation once the old site rejoined: dc2, rebuilt as dc1's
/// standby, has replayed everything and holds the same orders and trades as dc1.
async fn sites_agree(platform: &Platform) -> Verdict {
    const NAME: &str = "sites_agree";
    let counts = async {
        let primary = platform.site(Dc::Dc1)?.postgres.connection_string(false);
        if let Some(status) = crate::platform::wait_replayed(&primary, Dc::Dc2, REPLAY).await? {
            return Ok::<_, DrError>(Err(format!(
                "dc2's standby is still {:?} bytes behind dc1 after {} s ({:?})",
                status.replay_lag_bytes,
                REPLAY.as_secs(),
                status.state
            )));
        }
        let mut counts = Vec::new();
        for dc in Dc::ALL {
            let state = Observer::connect(platform.site(dc)?).await?.state().await?;
            counts.push((
                dc,
                state
                    .orders
                    .iter()
                    .map(|o| o.client_order_id.clone())
                    .collect::<std::collections::BTreeSet<_>>(),
                state.trades.len(),
            ));
        }
        Ok(Ok(counts))
    }
    .await;
    let counts = match counts {
        Ok(Ok(c)) => c,
        Ok(Err(why)) => return Verdict::new(NAME, Outcome::Invalid, why),
        Err(e) => return Verdict::unknown(NAME, format!("reading both sites: {e}")),
    };
    let (dc1, dc2) = (&counts[0], &counts[1]);
    let missing: Vec<String> = dc1.1.symmetric_difference(&dc2.1).cloned().collect();
    let detail = format!(
        "dc1 {} orders, {} trades; dc2 (its standby, replay lag 0) {} orders, {} trades",
        dc1.1.len(),
        dc1.2,
        dc2.1.len(),
        dc2.2
    );
    let mut v = if missing.is_empty() && dc1.2 == dc2.2 {
        Verdict::valid(NAME, detail)
    } else {
        let mut v = Verdict::new(NAME, Outcome::Invalid, detail);
        v.evidence.first_bad = missing.first().cloned();
        v.evidence.orders = missing
            .iter()
            .take(check::Evidence::MAX_ORDERS)
            .cloned()
            .collect();
        v
    };
    v.evidence
        .counts
        .insert("dc1_orders".into(), dc1.1.len() as u64);
    v.evidence
        .counts
        .insert("dc2_orders".into(), dc2.1.len() as u64);
    v
}
