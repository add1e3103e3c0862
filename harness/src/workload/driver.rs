//! The open-loop driver: operation `i` is due at `start + i / rate` whatever earlier replies
//! did, and its latency is measured from that intended time, so a stall counts against every
//! operation it delays (coordinated omission corrected). Each operation is recorded in the
//! history as invoke, then ok, fail or info; a reply later than the op timeout is info.
//! Bounded by the spec's count and duration; in-flight operations end within the op timeout.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::{
    cancel_request, is_definite, op_error, result_of, submit_request, Answerer, OrderEntry,
};
use super::error::WorkloadError;
use super::plan::{Intent, PlannedOp, Planner};
use super::spec::WorkloadSpec;
use crate::history::{HistoryError, Op, OpError, ProcessId, Recorder};

/// A recorder shared by the operations in flight.
pub type SharedRecorder<W> = Arc<Mutex<Recorder<W>>>;

/// One acknowledged submission's latency, from its intended send time.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    /// The intended send time on the history's clock.
    pub intended_ns: u64,
    pub latency_ns: u64,
}

/// Replies per intent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub sent: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

/// What a workload did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkloadResult {
    pub sent: u64,
    pub elapsed: Duration,
    pub by_intent: BTreeMap<String, Tally>,
    /// Refusals by gRPC code.
    pub fail_codes: BTreeMap<String, u64>,
    /// Replies a healthy platform would not give (an ordinary order refused, a risk breach
    /// acknowledged or refused other than by risk), first 20. A duplicate answered as the
    /// first submission is not one: the two may overtake each other on the way, so which one
    /// creates the order is the engine's choice; that they are one order is judged from the
    /// history (and the exchange) instead.
    pub unexpected: Vec<String>,
    pub unexpected_count: u64,
    #[serde(skip)]
    pub samples: Vec<Sample>,
}

impl WorkloadResult {
    pub fn tally(&self, intent: Intent) -> Tally {
        self.by_intent
            .get(intent_name(intent))
            .cloned()
            .unwrap_or_default()
    }

    /// Operations per second actually sent.
    pub fn achieved_rate(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn intent_name(i: Intent) -> &'static str {
    match i {
        Intent::Order => "order",
        Intent::Duplicate => "duplicate",
        Intent::RiskReject => "risk_reject",
        Intent::Cancel => "cancel",
    }
}

/// How an operation ended, as the history records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Ok(crate::history::OpResult),
    /// A definite refusal: nothing was taken.
    Fail(OpError),
    /// Unknown outcome: it may or may not have been taken.
    Info(OpError),
}

/// Performs one operation now and records it (invoke, then its reply) in `recorder`.
pub async fn perform<E: OrderEntry, W: Write>(
    op: &PlannedOp,
    entry: &E,
    recorder: &SharedRecorder<W>,
    timeout: Duration,
) -> Result<Reply, HistoryError> {
    let id = lock(recorder).invoke(0, history_op(op))?;
    let reply = call(op, entry, timeout).await;
    record(recorder, id, 0, reply.clone())?;
    Ok(reply)
}

fn history_op(op: &PlannedOp) -> Op {
    match op {
        PlannedOp::Submit(o, _) => Op::Submit(o.clone()),
        PlannedOp::Cancel(c) => Op::Cancel(c.clone()),
    }
}

/// Performs `op` on `entry`, pinned to the datacenter it routes to now; the reply names that
/// datacenter and, when the engine says, the engine that answered.
async fn call<E: OrderEntry>(op: &PlannedOp, entry: &E, timeout: Duration) -> Reply {
    let _admitted = entry.admit().await;
    let (dc, entry) = entry.pinned();
    match call_pinned(op, &entry, timeout).await {
        Reply::Ok(mut r) => {
            r.dc = dc;
            Reply::Ok(r)
        }
        Reply::Fail(mut e) => {
            e.dc = dc;
            Reply::Fail(e)
        }
        Reply::Info(mut e) => {
            e.dc = dc;
            Reply::Info(e)
        }
    }
}

async fn call_pinned<E: OrderEntry>(op: &PlannedOp, entry: &E, timeout: Duration) -> Reply {
    match op {
        PlannedOp::Submit(o, _) => {
            match tokio::time::timeout(timeout, entry.submit(submit_request(o))).await {
                Ok(Ok(r)) => Reply::Ok(result_of(
                    r.order.as_ref(),
                    r.duplicate,
                    Answerer {
                        engine_id: &r.engine_id,
                        engine_version: &r.engine_version,
                    },
                )),
                Ok(Err(s)) if is_definite(s.code()) => Reply::Fail(op_error(&s)),
                Ok(Err(s)) => Reply::Info(op_error(&s)),
                Err(_) => Reply::Info(timed_out(timeout)),
            }
        }
        PlannedOp::Cancel(c) => {
            match tokio::time::timeout(timeout, entry.cancel(cancel_request(c))).await {
                Ok(Ok(r)) => Reply::Ok(result_of(
                    r.order.as_ref(),
                    false,
                    Answerer {
                        engine_id: &r.engine_id,
                        engine_version: &r.engine_version,
                    },
                )),
                Ok(Err(s)) if is_definite(s.code()) => Reply::Fail(op_error(&s)),
                Ok(Err(s)) => Reply::Info(op_error(&s)),
                Err(_) => Reply::Info(timed_out(timeout)),
            }
        }
    }
}

fn record<W: Write>(
    recorder: &SharedRecorder<W>,
    id: crate::history::OpId,
    process: ProcessId,
    reply: Reply,
) -> Result<(), HistoryError> {
    let mut r = lock(recorder);
    match reply {
        Reply::Ok(res) => r.ok(id, process, res),
        Reply::Fail(e) => r.fail(id, process, e),
        Reply::Info(e) => r.info(id, process, e),
    }
}

struct Done {
    intent: Intent,
    reply_kind: u8,
    code: Option<String>,
    unexpected: Option<String>,
    sample: Option<Sample>,
    history: Result<(), HistoryError>,
}

/// Runs `planner`'s operations against `entry` as `spec` says, recording into `recorder`.
pub async fn run<E, W>(
    spec: &WorkloadSpec,
    mut planner: Planner,
    entry: E,
    recorder: SharedRecorder<W>,
) -> Result<WorkloadResult, WorkloadError>
where
    E: OrderEntry,
    W: Write + Send + 'static,
{
    spec.validate()?;
    let interval = spec.interval();
    let start = Instant::now() + Duration::from_millis(10);
    let start_ns = lock(&recorder).now_ns() + 10_000_000;
    let mut tasks = Vec::new();
    let mut sent = 0u64;
    for i in 0..spec.operations {
        let due = start + interval.mul_f64(i as f64);
        if due.duration_since(start) >= spec.max_duration {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let op = planner.next_op();
        let intended_ns = start_ns + interval.mul_f64(i as f64).as_nanos() as u64;
        let (entry, recorder, timeout) = (entry.clone(), recorder.clone(), spec.op_timeout);
        let process = (i % u64::from(u32::MAX)) as ProcessId;
        tasks.push(tokio::spawn(async move {
            one(op, process, due, intended_ns, entry, recorder, timeout).await
        }));
        sent += 1;
    }
    let mut result = WorkloadResult {
        sent,
        ..WorkloadResult::default()
    };
    let mut history_err = None;
    for t in tasks {
        let d = t.await.expect("a workload operation does not panic");
        let tally = result
            .by_intent
            .entry(intent_name(d.intent).to_owned())
            .or_default();
        tally.sent += 1;
        match d.reply_kind {
            0 => tally.ok += 1,
            1 => tally.fail += 1,
            _ => tally.info += 1,
        }
        if let Some(code) = d.code {
            *result.fail_codes.entry(code).or_default() += 1;
        }
        if let Some(u) = d.unexpected {
            result.unexpected_count += 1;
            if result.unexpected.len() < 20 {
                result.unexpected.push(u);
            }
        }
        result.samples.extend(d.sample);
        if let Err(e) = d.history {
            history_err.get_or_insert(e);
        }
    }
    result.elapsed = start.elapsed();
    let flushed = lock(&recorder).flush();
    match history_err.map_or(flushed, Err) {
        Ok(()) => Ok(result),
        Err(e) => Err(WorkloadError::History(e)),
    }
}

fn lock<W: Write>(r: &SharedRecorder<W>) -> std::sync::MutexGuard<'_, Recorder<W>> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}

async fn one<E: OrderEntry, W: Write>(
    op: PlannedOp,
    process: ProcessId,
    due: Instant,
    intended_ns: u64,
    entry: E,
    recorder: SharedRecorder<W>,
    timeout: Duration,
) -> Done {
    let intent = match &op {
        PlannedOp::Submit(_, intent) => *intent,
        PlannedOp::Cancel(_) => Intent::Cancel,
    };
    let invoked = lock(&recorder).invoke(process, history_op(&op));
    let reply = call(&op, &entry, timeout).await;
    let latency_ns = due.elapsed().as_nanos() as u64;
    let cid = match &op {
        PlannedOp::Submit(o, _) => o.client_order_id.as_str(),
        PlannedOp::Cancel(c) => c.client_order_id.as_str(),
    };
    let unexpected = match (&reply, intent) {
        (Reply::Fail(e), Intent::Order) => {
            Some(format!("order {cid} refused: {} {}", e.code, e.message))
        }
        (Reply::Ok(_), Intent::RiskReject) => Some(format!("risk breach {cid} acknowledged")),
        (Reply::Fail(e), Intent::RiskReject) if e.code != "FailedPrecondition" => Some(format!(
            "risk breach {cid} refused as {} (not FailedPrecondition)",
            e.code
        )),
        _ => None,
    };
    let sample = match (&reply, intent) {
        (Reply::Ok(_), Intent::Order) => Some(Sample {
            intended_ns,
            latency_ns,
        }),
        _ => None,
    };
    let (reply_kind, code) = match &reply {
        Reply::Ok(_) => (0, None),
        Reply::Fail(e) => (1, Some(e.code.clone())),
        Reply::Info(_) => (2, None),
    };
    let history = invoked.and_then(|id| record(&recorder, id, process, reply));
    Done {
        intent,
        reply_kind,
        code,
        unexpected,
        sample,
        history,
    }
}

fn timed_out(timeout: Duration) -> OpError {
    OpError {
        code: "Timeout".into(),
        message: format!("no reply within {} ms", timeout.as_millis()),
        field: None,
        dc: None,
    }
}
