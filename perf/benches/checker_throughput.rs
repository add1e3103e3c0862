//! Checker throughput on a synthetic 1,000,000-order run (target: all checks in ≤ 1 s), and the
//! history recorder's cost per operation (an invoke and its ok, written to a run directory),
//! plus reading that history back. Measures and prints; never asserts (the perf gate decides).
//!
//! Beside wall time it prints time on a CPU: on a 2-core machine shared with other builds the
//! wall time includes waiting for a core, which the CPU time does not. A large run is judged on
//! every core (the index's parts and the checks side by side), so the whole run's figure is
//! the process's CPU time over all its threads (Linux's `/proc/self/stat`, in 10 ms ticks);
//! each check alone runs on this thread, whose time is read in nanoseconds
//! (`/proc/thread-self/schedstat`).

use std::time::{Duration, Instant};

use harness::check::{self, synthetic, Check, CheckInput, LatencyCheck};
use harness::history::{self, OpResult, Recorder};

const ORDERS: usize = 1_000_000;

/// This thread's time on a CPU so far, if the kernel reports it.
fn cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// This process's time on a CPU so far, all threads (utime + stime, in USER_HZ = 100 ticks).
fn process_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = s.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// "on CPU 0.412 s", or nothing where the kernel does not say.
fn on_cpu(since: Option<Duration>) -> String {
    match (since, cpu()) {
        (Some(a), Some(b)) => format!(", on CPU {:.3} s", (b - a).as_secs_f64()),
        _ => String::new(),
    }
}

/// "on CPU 0.41 s in all threads", or nothing where the kernel does not say.
fn on_cpus(since: Option<Duration>) -> String {
    match (since, process_cpu()) {
        (Some(a), Some(b)) => format!(", on CPU {:.2} s in all threads", (b - a).as_secs_f64()),
        _ => String::new(),
    }
}

fn main() -> anyhow::Result<()> {
    let t = Instant::now();
    let (history, obs) = synthetic::run(ORDERS);
    println!(
        "synthetic run of {ORDERS} orders built in {:.3} s",
        t.elapsed().as_secs_f64()
    );

    let all = check::standard(LatencyCheck::default());
    let (t, c) = (Instant::now(), process_cpu());
    let input = CheckInput::new(&history, &obs);
    let (indexed, indexed_cpu) = (t.elapsed(), on_cpus(c));
    let v = check::run(&all, &input);
    let total = t.elapsed();
    println!(
        "all checks: {:.3} s{} (indexes {:.3} s{}), verdict {:?}",
        total.as_secs_f64(),
        on_cpus(c),
        indexed.as_secs_f64(),
        indexed_cpu,
        v.outcome
    );
    for c in &v.children {
        println!("  {:<24} {:?}: {}", c.check, c.outcome, c.detail);
    }
    let checks: Vec<Box<dyn Check>> = vec![
        Box::new(check::NoLostOrder),
        Box::new(check::AllOrNothing),
        Box::new(check::NoDuplicate),
        Box::new(check::FillsMatchOrders),
        Box::new(check::PositionsMatchTrades),
        Box::new(check::LegalTransitions),
        Box::new(check::KafkaHasEveryEvent),
        Box::new(LatencyCheck::default()),
    ];
    for c in &checks {
        let (t, before) = (Instant::now(), cpu());
        let v = check::run(c.as_ref(), &input);
        println!(
            "  {:<24} {:.3} s{} ({:?})",
            c.name(),
            t.elapsed().as_secs_f64(),
            on_cpu(before),
            v.outcome
        );
    }
    let dir = std::env::temp_dir().join(format!("checker-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let ops: Vec<_> = history.operations.iter().map(|o| o.op.clone()).collect();
    let mut rec = Recorder::create(&dir)?;
    let t = Instant::now();
    for (i, op) in ops.into_iter().enumerate() {
        let id = rec.invoke((i % 16) as u32, op)?;
        rec.ok(
            id,
            (i % 16) as u32,
            OpResult {
                order_id: Some(i as i64),
                ..OpResult::default()
            },
        )?;
    }
    rec.finish()?;
    let spent = t.elapsed();
    let entries = 2 * ORDERS as u32;
    println!(
        "recorder: {ORDERS} submits (invoke + ok) in {:.3} s: {:.0} ns per entry, {:.0} ns per operation",
        spent.as_secs_f64(),
        spent.as_nanos() as f64 / f64::from(entries),
        spent.as_nanos() as f64 / ORDERS as f64
    );
    let path = dir.join(history::HISTORY_FILE);
    let size = std::fs::metadata(&path)?.len();
    let t = Instant::now();
    let back = history::load(&path)?;
    println!(
        "loader: {} operations ({:.0} MB) read back in {:.3} s",
        back.operations.len(),
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
