//! `report.html`: one self-contained page per run (no script, no network): the verdict first,
//! each check with its evidence, order latency over time (median and P99 per window, on a
//! log scale) and what the orders came to over time, both with the fault windows shaded and
//! named, the latency table per phase against the budgets, the latency around each fault, and
//! the seed, images, engine and the command that replays the run.
//!
//! The pieces (`esc`, `badge`, `STYLE`) are shared with the DR certificate's page.

use std::fmt::Write;

use super::series::Series;
use super::{LatencyKind, Report};
use crate::check::Outcome;
use crate::history::FaultWindow;

/// The page's style, shared with the DR certificate.
pub(crate) const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;max-width:75em}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
.ok{color:#fff;background:#2a7d2a;padding:0 .4em}.bad{color:#fff;background:#b22;padding:0 .4em}\
.unk{color:#000;background:#eb0;padding:0 .4em}h1 .ok,h1 .bad,h1 .unk{font-size:70%}\
svg{font:11px system-ui,sans-serif;background:#fafafa;border:1px solid #ddd}\
.legend span{display:inline-block;margin-right:1.5em}.sw{display:inline-block;width:1em;height:.7em;margin-right:.3em}";

/// Escapes text for HTML.
pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A verdict as a coloured word.
pub(crate) fn badge(o: Outcome) -> String {
    let (class, word) = match o {
        Outcome::Valid => ("ok", "valid"),
        Outcome::Invalid => ("bad", "invalid"),
        Outcome::Unknown => ("unk", "unknown"),
    };
    format!("<span class=\"{class}\">{word}</span>")
}

fn ms(ns: u64) -> String {
    let v = ns as f64 / 1e6;
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

const W: f64 = 900.0;
const H: f64 = 220.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;

/// The x of a time in ms on a chart of `span_ms`.
fn x(at_ms: f64, span_ms: f64) -> f64 {
    LEFT + (W - LEFT - RIGHT) * (at_ms / span_ms).clamp(0.0, 1.0)
}

/// Fault windows as shaded bands, each named by its fault and target (and a tooltip).
fn fault_bands(out: &mut String, faults: &[FaultWindow], span_ms: f64) {
    for f in faults {
        let from = f.inject_ns as f64 / 1e6;
        let to = f.heal_ns.map_or(span_ms, |h| h as f64 / 1e6);
        let (x0, x1) = (x(from, span_ms), x(to, span_ms));
        let _ = writeln!(
            out,
            "<rect x=\"{x0:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f4b6b6\" \
             fill-opacity=\"0.45\"><title>{} on {}: {:.0} to {:.0} ms</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#922\">{}</text>",
            (x1 - x0).max(1.0),
            H - TOP - BOTTOM,
            esc(&f.fault),
            esc(&f.target),
            from,
            to,
            x0 + 2.0,
            TOP + 11.0,
            esc(&f.fault)
        );
    }
}

/// The time axis: ticks in seconds.
fn time_axis(out: &mut String, span_ms: f64) {
    let step_s = [1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0]
        .into_iter()
        .find(|s| span_ms / 1000.0 / s <= 12.0)
        .unwrap_or(1200.0);
    let mut t = 0.0;
    while t * 1000.0 <= span_ms {
        let xx = x(t * 1000.0, span_ms);
        let _ = writeln!(
            out,
            "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{t} s</text>",
            H - BOTTOM,
            H - BOTTOM + 14.0
        );
        t += step_s;
    }
}

/// Median and P99 per window on a log scale from 0.1 ms, with the order budget dashed.
fn latency_chart(out: &mut String, s: &Series, faults: &[FaultWindow], budget_ns: Option<u64>) {
    let span_ms = (s.windows.len() as u64 * s.window_ms) as f64;
    let top_ns = s
        .windows
        .iter()
        .filter_map(|w| w.max_ns)
        .max()
        .unwrap_or(1_000_000)
        .max(budget_ns.unwrap_or(0))
        .max(1_000_000);
    let (lo, hi) = (-1.0_f64, (top_ns as f64 / 1e6).log10().ceil().max(1.0));
    let y = |ns: u64| {
        let v = ((ns as f64 / 1e6).max(0.1)).log10();
        H - BOTTOM - (H - TOP - BOTTOM) * (v - lo) / (hi - lo)
    };
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" role=\"img\" \
         aria-label=\"order acknowledgement latency over time\">"
    );
    fault_bands(out, faults, span_ms);
    time_axis(out, span_ms);
    let mut decade = lo;
    while decade <= hi {
        let ns = (10f64.powf(decade) * 1e6) as u64;
        let yy = y(ns);
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} ms</text>",
            W - RIGHT,
            LEFT - 4.0,
            yy + 4.0,
            10f64.powf(decade)
        );
        decade += 1.0;
    }
    if let Some(b) = budget_ns {
        let yy = y(b);
        let _ = writeln!(
            out,
            "<line class=\"budget\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" \
             stroke=\"#b22\" stroke-dasharray=\"6 4\"><title>budget {} ms</title></line>",
            W - RIGHT,
            ms(b)
        );
    }
    for (name, colour, pick) in [
        (
            "p50",
            "#2563eb",
            (|w| w.p50_ns) as fn(&super::series::Window) -> Option<u64>,
        ),
        ("p99", "#dc2626", |w| w.p99_ns),
    ] {
        let points: Vec<String> = s
            .windows
            .iter()
            .filter_map(|w| {
                let v = pick(w)?;
                let mid = w.start_ms as f64 + s.window_ms as f64 / 2.0;
                Some(format!("{:.1},{:.1}", x(mid, span_ms), y(v)))
            })
            .collect();
        let _ = writeln!(
            out,
            "<polyline class=\"{name}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    out.push_str("</svg>\n");
}

/// Acknowledged, refused and unknown submissions per window, stacked.
fn outcome_chart(out: &mut String, s: &Series, faults: &[FaultWindow]) {
    let span_ms = (s.windows.len() as u64 * s.window_ms) as f64;
    let top = s
        .windows
        .iter()
        .map(|w| w.acked + w.refused + w.unknown)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let per_s = 1000.0 / s.window_ms as f64;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" role=\"img\" \
         aria-label=\"orders answered over time\">"
    );
    time_axis(out, span_ms);
    for frac in [0.0, 0.5, 1.0] {
        let yy = H - BOTTOM - (H - TOP - BOTTOM) * frac;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}/s</text>",
            LEFT - 4.0,
            yy + 4.0,
            top * frac * per_s
        );
    }
    let bar = ((W - LEFT - RIGHT) / s.windows.len().max(1) as f64 - 1.0).max(1.0);
    for w in &s.windows {
        let x0 = x(w.start_ms as f64, span_ms);
        let mut base = H - BOTTOM;
        for (n, colour, what) in [
            (w.acked, "#2a7d2a", "acknowledged"),
            (w.refused, "#888", "refused"),
            (w.unknown, "#e8a200", "unknown"),
        ] {
            if n == 0 {
                continue;
            }
            let h = (H - TOP - BOTTOM) * n as f64 / top;
            base -= h;
            let _ = writeln!(
                out,
                "<rect class=\"{what}\" x=\"{x0:.1}\" y=\"{base:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" \
                 fill=\"{colour}\"><title>{} s: {n} {what}</title></rect>",
                w.start_ms as f64 / 1000.0
            );
        }
    }
    // Over the bars, so that a fault is seen where orders were answered.
    fault_bands(out, faults, span_ms);
    out.push_str("</svg>\n");
}

fn checks(out: &mut String, r: &Report) {
    out.push_str(
        "<table><tr><th>check</th><th>verdict</th><th>detail</th><th>evidence</th></tr>\n",
    );
    for c in &r.checks {
        let mut evidence = String::new();
        if let Some(first) = &c.evidence.first_bad {
            let _ = write!(evidence, "first bad: {}<br>", esc(first));
        }
        if !c.evidence.orders.is_empty() {
            let shown: Vec<&str> = c
                .evidence
                .orders
                .iter()
                .take(20)
                .map(String::as_str)
                .collect();
            let more = c.evidence.orders.len().saturating_sub(shown.len());
            let _ = write!(
                evidence,
                "orders: {}{}<br>",
                esc(&shown.join(", ")),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        for (k, v) in &c.evidence.counts {
            let _ = write!(evidence, "{}: {v}<br>", esc(k));
        }
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{evidence}</td></tr>",
            esc(&c.name),
            badge(c.outcome),
            esc(&c.detail)
        );
    }
    out.push_str("</table>\n");
}

fn latency_table(out: &mut String, r: &Report) {
    out.push_str(
        "<table><tr><th>latency</th><th>phase</th><th>samples</th><th>median ms</th>\
         <th>P99 ms</th><th>P99.9 ms</th><th>max ms</th><th>budget</th><th>met</th></tr>\n",
    );
    for row in &r.latency {
        for p in &row.phases {
            let Some(s) = p.stats else { continue };
            let met = match p.met() {
                Some(true) => badge(Outcome::Valid),
                Some(false) => badge(Outcome::Invalid),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{met}</td></tr>",
                row.kind.label(),
                p.phase.as_str(),
                s.samples,
                ms(s.median_ns),
                ms(s.p99_ns),
                ms(s.p999_ns),
                ms(s.max_ns),
                esc(&super::summary::budget(&p.budget))
            );
        }
    }
    out.push_str("</table>\n");
}

fn fault_table(out: &mut String, r: &Report) {
    if r.faults.is_empty() {
        return;
    }
    out.push_str(
        "<h2>Order latency around each fault</h2>\n<table><tr><th>fault</th><th>target</th>\
         <th>injected s</th><th>healed s</th><th>P99 before ms</th><th>P99 during ms</th>\
         <th>P99 after ms</th></tr>\n",
    );
    let p99 = |s: Option<super::PhaseStats>| s.map_or("—".to_string(), |s| ms(s.p99_ns));
    for f in &r.faults {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.fault),
            esc(&f.target),
            f.inject_ns as f64 / 1e9,
            f.heal_ns.map_or("not healed".to_string(), |h| format!("{:.1}", h as f64 / 1e9)),
            p99(f.before),
            p99(f.during),
            p99(f.after)
        );
    }
    out.push_str("</table>\n");
}

/// The page of `r`.
pub(super) fn page(r: &Report) -> String {
    let run = &r.run;
    let mut out = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{name}: {word}</title>\n\
         <style>{STYLE}</style></head><body>\n<h1>{name} {verdict}</h1>\n<p>{detail}</p>\n",
        name = esc(&run.name),
        word = format!("{:?}", r.outcome).to_lowercase(),
        verdict = badge(r.outcome),
        detail = esc(&r.detail),
    );
    let _ = writeln!(
        out,
        "<p>Started {} UTC, {:.0} s; seed <b>{}</b>; run directory <code>{}</code>.<br>\
         Replay: <code>{}</code></p>",
        run.started.format("%Y-%m-%d %H:%M:%S"),
        run.duration().as_secs_f64(),
        run.seed,
        esc(&run.run_dir.display().to_string()),
        esc(&run.replay_command)
    );
    checks(&mut out, r);
    if !r.series.windows.is_empty() {
        let budget = r
            .latency
            .iter()
            .find(|row| row.kind == LatencyKind::OrderAck)
            .and_then(|row| row.phases.first())
            .map(|p| p.budget.limit_ns);
        let _ = writeln!(
            out,
            "<h2>Order acknowledgement latency over time</h2>\n<p class=\"legend\">\
             <span><i class=\"sw\" style=\"background:#2563eb\"></i>median</span>\
             <span><i class=\"sw\" style=\"background:#dc2626\"></i>P99</span>\
             <span><i class=\"sw\" style=\"background:#f4b6b6\"></i>fault</span>\
             per {} ms window, by intended send time; the dashed line is the budget.</p>",
            r.series.window_ms
        );
        latency_chart(&mut out, &r.series, &run.schedule, budget);
        out.push_str(
            "<h2>Orders answered over time</h2>\n<p class=\"legend\">\
             <span><i class=\"sw\" style=\"background:#2a7d2a\"></i>acknowledged</span>\
             <span><i class=\"sw\" style=\"background:#888\"></i>refused</span>\
             <span><i class=\"sw\" style=\"background:#e8a200\"></i>unknown</span></p>\n",
        );
        outcome_chart(&mut out, &r.series, &run.schedule);
    }
    out.push_str("<h2>Latency per phase</h2>\n");
    latency_table(&mut out, r);
    fault_table(&mut out, r);
    out.push_str("<h2>Run</h2>\n<table>\n");
    for (service, image) in &run.images {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            esc(service.name()),
            esc(image)
        );
    }
    if let Some(sc) = &run.engine_security {
        let _ = writeln!(
            out,
            "<tr><td>engine security context</td><td>{}</td></tr>",
            esc(&sc.describe())
        );
    }
    out.push_str("</table>\n</body></html>\n");
    out
}
