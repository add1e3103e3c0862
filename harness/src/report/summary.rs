//! The summary printed at the end of a run: one line per check (name, verdict, and for a bad
//! one its first bad event, counts and up to [`ORDERS_SHOWN`] order ids), the latency table
//! (order ack, tick, trade return; a line per phase with n, median, P99, P99.9, max, budget and
//! whether it was met), then the run directory, the seed and the command that replays the run.
//!
//! The latency table has a line per phase rather than a column group per phase: seven columns
//! times three phases do not fit a terminal. Plain `format!` widths do the alignment; the
//! cells are short and never wrap, so a table crate would add nothing.

use std::fmt::Write;

use super::latency::{LatencyRow, PhaseLatency};
use super::Report;
use crate::check::{Budget, Evidence, Outcome};

/// How many order ids a check's line shows; `report.json` keeps all the verdict named.
pub const ORDERS_SHOWN: usize = 5;

/// What an empty cell prints: no samples is not zero.
const NONE: &str = "—";

/// The evidence as lines: first bad event, counts, then up to `orders` order ids.
pub(crate) fn evidence_lines(e: &Evidence, orders: usize) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(first) = &e.first_bad {
        out.push(format!("first bad: {first}"));
    }
    if !e.counts.is_empty() {
        let counts: Vec<String> = e.counts.iter().map(|(k, n)| format!("{k}={n}")).collect();
        out.push(format!("counts: {}", counts.join(", ")));
    }
    if !e.orders.is_empty() {
        let shown: Vec<&str> = e.orders.iter().take(orders).map(String::as_str).collect();
        let tail = if e.orders.len() > shown.len() {
            format!(" ({} of {} named)", shown.len(), e.orders.len())
        } else {
            String::new()
        };
        out.push(format!("orders: {}{tail}", shown.join(", ")));
    }
    out
}

fn verdict_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Valid => "valid",
        Outcome::Unknown => "UNKNOWN",
        Outcome::Invalid => "INVALID",
    }
}

/// A latency in the unit that keeps it short: ns, µs, ms or s.
pub(crate) fn duration(ns: u64) -> String {
    let v = ns as f64;
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} µs", v / 1e3),
        1_000_000..1_000_000_000 => format!("{:.3} ms", v / 1e6),
        _ => format!("{:.3} s", v / 1e9),
    }
}

/// `p99 < 2 ms`: the quantile as a percentile, the limit without trailing zeros.
pub(super) fn budget(b: &Budget) -> String {
    let pct = format!("{:.3}", b.quantile * 100.0);
    let pct = pct.trim_end_matches('0').trim_end_matches('.');
    let ms = format!("{:.3}", b.limit_ns as f64 / 1e6);
    let ms = ms.trim_end_matches('0').trim_end_matches('.');
    format!("p{pct} < {ms} ms")
}

fn phase_line(out: &mut String, label: &str, p: &PhaseLatency) {
    let cells: [String; 5] = match p.stats {
        Some(s) => [
            s.samples.to_string(),
            duration(s.median_ns),
            duration(s.p99_ns),
            duration(s.p999_ns),
            duration(s.max_ns),
        ],
        None => std::array::from_fn(|_| NONE.to_owned()),
    };
    let met = match p.met() {
        Some(true) => "yes",
        Some(false) => "NO",
        None => NONE,
    };
    let _ = writeln!(
        out,
        "{label:<13} {:<7} {:>9} {:>11} {:>11} {:>11} {:>11}  {:<16} {met}",
        p.phase.as_str(),
        cells[0],
        cells[1],
        cells[2],
        cells[3],
        cells[4],
        budget(&p.budget),
    );
}

fn latency_table(out: &mut String, rows: &[LatencyRow]) {
    let _ = writeln!(
        out,
        "{:<13} {:<7} {:>9} {:>11} {:>11} {:>11} {:>11}  {:<16} met",
        "latency", "phase", "n", "median", "p99", "p99.9", "max", "budget"
    );
    for row in rows {
        for (i, p) in row.phases.iter().enumerate() {
            phase_line(out, if i == 0 { row.kind.label() } else { "" }, p);
        }
    }
}

/// One line per fault: when, what, and the order ack median / P99 before, during and after.
fn fault_table(out: &mut String, faults: &[super::FaultLatency]) {
    if faults.is_empty() {
        return;
    }
    let cell = |s: &Option<super::PhaseStats>| match s {
        Some(s) => format!("{} / {}", duration(s.median_ns), duration(s.p99_ns)),
        None => NONE.to_owned(),
    };
    let _ = writeln!(
        out,
        "\n{:<9} {:<9} {:<36} {:>23} {:>23} {:>23}",
        "at", "held", "fault", "before median/p99", "during median/p99", "after median/p99"
    );
    for f in faults {
        let held = f.heal_ns.map_or("unhealed".to_owned(), |h| {
            duration(h.saturating_sub(f.inject_ns))
        });
        let _ = writeln!(
            out,
            "{:<9} {:<9} {:<36} {:>23} {:>23} {:>23}",
            duration(f.inject_ns),
            held,
            format!("{} {}", f.fault, f.target),
            cell(&f.before),
            cell(&f.during),
            cell(&f.after),
        );
    }
}

/// One line per measured hazard: when, which fault, what it put at risk and how it was counted.
fn hazard_lines(out: &mut String, hazards: &[crate::history::HazardMark]) {
    if hazards.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nhazards (what each fault put at risk when it struck):"
    );
    for m in hazards {
        let h = &m.hazard;
        let _ = writeln!(
            out,
            "{:<9} {:<36} {} {}: {}",
            duration(m.at_ns),
            format!("{} {}", h.fault, h.target),
            h.size,
            h.measure,
            h.detail
        );
    }
}

pub(crate) fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {}: {} ({})\n",
        r.run.name,
        verdict_word(r.outcome),
        r.detail
    );
    let width = r
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let _ = writeln!(out, "{:<width$}  {:<7}  evidence", "check", "verdict");
    for c in &r.checks {
        let mut lines = if c.outcome == Outcome::Valid {
            vec![c.detail.clone()]
        } else {
            let mut l = evidence_lines(&c.evidence, ORDERS_SHOWN);
            l.push(c.detail.clone());
            l
        };
        if lines.is_empty() {
            lines.push(String::new());
        }
        let _ = writeln!(
            out,
            "{:<width$}  {:<7}  {}",
            c.name,
            verdict_word(c.outcome),
            lines[0]
        );
        for l in &lines[1..] {
            let _ = writeln!(out, "{:<width$}  {:<7}  {l}", "", "");
        }
    }
    out.push('\n');
    latency_table(&mut out, &r.latency);
    fault_table(&mut out, &r.faults);
    hazard_lines(&mut out, &r.hazards);
    let _ = writeln!(out, "\nrun directory: {}", r.run.run_dir.display());
    let _ = writeln!(out, "seed:          {}", r.run.seed);
    if let Some(sc) = &r.run.engine_security {
        let _ = writeln!(out, "engine:        {}", sc.describe());
    }
    let _ = writeln!(out, "replay:        {}", r.run.replay_command);
    out
}
