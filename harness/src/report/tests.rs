//! The report's files read back: report.json through serde, junit.xml through an XML parser
//! that knows nothing of quick-junit, and the summary as a person reads it.

use std::collections::BTreeMap;

use super::*;
use crate::check::{self, synthetic, CheckInput, LatencyCheck};
use crate::history::{Phase, Timeline};
use crate::images::Service;

/// A 120-order run with order 77 lost at the exchange, judged by the standard checks, plus an
/// unknown check (as a DR check without samples would be).
fn judged() -> (Report, Timeline) {
    let (h, mut o) = synthetic::run(120);
    o.exchange.orders.retain(|x| x.index != 77);
    let latency = LatencyCheck::default();
    let v = check::run(&check::standard(latency.clone()), &CheckInput::new(&h, &o));
    let mut children = v.children;
    children.push(Verdict::unknown("rto", "no recovery samples"));
    let v = Verdict::all("all", children);
    let mut samples = o.latency.clone();
    samples.fill_orders_from(&h).unwrap();
    let run = RunInfo {
        name: "lost-order".into(),
        run_dir: "/tmp/runs/lost-order-42".into(),
        seed: 42,
        replay_command: "harness repro /tmp/runs/lost-order-42".into(),
        started: "2024-06-03T09:30:00Z".parse().unwrap(),
        finished: "2024-06-03T09:31:30Z".parse().unwrap(),
        images: BTreeMap::from([(Service::Engine, "trading-engine:0a1b2c".to_owned())]),
        schedule: h.timeline.windows().to_vec(),
        engine_security: Some(crate::platform::SecurityContext {
            uid: 1000,
            capabilities: 0,
            no_new_privileges: true,
            read_only_root: true,
        }),
    };
    (Report::new(run, &v, &samples, &latency), h.timeline)
}

/// The synthetic run stretched to 12 s (an order every 100 ms; its faults with it), each order
/// answered in about 1.5 ms, 40 ms while a fault is on, and the series of that run.
fn over_time(r: &mut Report) {
    const STRETCH: u64 = 100_000;
    let (mut h, _) = synthetic::run(120);
    for w in &mut r.run.schedule {
        w.inject_ns *= STRETCH;
        w.heal_ns = w.heal_ns.map(|x| x * STRETCH);
    }
    let mut sampled = Vec::new();
    for (i, o) in h.operations.iter_mut().enumerate() {
        o.invoke_ns *= STRETCH;
        let faulty = r.run.schedule.iter().any(|w| w.contains(o.invoke_ns));
        let latency_ns = if faulty {
            40_000_000
        } else {
            1_500_000 + (i as u64 % 7) * 100_000
        };
        o.complete_ns = o.complete_ns.map(|_| o.invoke_ns + latency_ns);
        sampled.push(crate::workload::Sample {
            intended_ns: o.invoke_ns,
            latency_ns,
        });
    }
    r.series = series(&sampled, &h);
}

#[test]
fn report_json_round_trips_and_names_every_check_with_its_evidence() {
    let (r, timeline) = judged();
    let dir = std::env::temp_dir().join(format!("report-test-{}", std::process::id()));
    let files = r.write(&dir).unwrap();
    assert_eq!(files.report_json, dir.join(REPORT_FILE));
    let back = Report::load(&dir).unwrap();
    let text = std::fs::read_to_string(&files.report_json).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.outcome(), Outcome::Invalid);
    assert_eq!(back.run.schedule, timeline.windows());
    let names: Vec<&str> = back.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), 9, "{names:?}");
    for name in [
        "no_lost_order",
        "unknown_all_or_nothing",
        "latency_budgets",
        "rto",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
        assert!(
            text.contains(&format!("\"{name}\"")),
            "{name} not in report.json"
        );
    }
    let lost = back
        .checks
        .iter()
        .find(|c| c.name == "no_lost_order")
        .unwrap();
    assert_eq!(lost.outcome, Outcome::Invalid);
    assert_eq!(lost.evidence.orders, vec!["c-77"]);
    assert!(
        text.contains("c-77: order 1077"),
        "evidence not in report.json"
    );
}

#[test]
fn junit_xml_parses_back_with_a_failure_per_invalid_and_an_error_per_unknown() {
    let (r, _) = judged();
    let xml = junit::render(&r, &r.summary()).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.attribute("name"), Some("lost-order"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let count = |outcome| r.checks.iter().filter(|c| c.outcome == outcome).count();
    let (invalid, unknown) = (count(Outcome::Invalid), count(Outcome::Unknown));
    assert!(
        invalid >= 1 && unknown == 1,
        "{invalid} invalid, {unknown} unknown"
    );
    assert_eq!(cases.len(), r.checks.len());
    let with = |tag: &str| {
        cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
            .count()
    };
    assert_eq!(with("failure"), invalid);
    assert_eq!(with("error"), unknown);
    assert_eq!(with("skipped"), 0);
    assert_eq!(
        suite.attribute("failures"),
        Some(invalid.to_string().as_str())
    );
    assert_eq!(suite.attribute("errors"), Some("1"));
    assert_eq!(
        suite.attribute("tests"),
        Some(r.checks.len().to_string().as_str())
    );
    let lost = cases
        .iter()
        .find(|c| c.attribute("name") == Some("no_lost_order"))
        .unwrap();
    let failure = lost.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert!(failure.attribute("message").unwrap().contains("c-77"));
    assert!(failure.text().unwrap_or_default().contains("orders: c-77"));
    let seed = suite
        .descendants()
        .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("seed"))
        .unwrap();
    assert_eq!(seed.attribute("value"), Some("42"));
}

#[test]
fn the_summary_names_seed_replay_and_each_invalid_checks_first_bad_event() {
    let (r, _) = judged();
    let s = r.summary();
    assert!(s.contains("seed:          42"), "{s}");
    assert!(
        s.contains("engine:        uid 1000, no capabilities, no new privileges, read-only root filesystem"),
        "{s}"
    );
    assert!(s.contains("harness repro /tmp/runs/lost-order-42"), "{s}");
    assert!(s.contains("/tmp/runs/lost-order-42"), "{s}");
    for c in r.checks.iter().filter(|c| c.outcome == Outcome::Invalid) {
        let first = c.evidence.first_bad.as_deref().unwrap();
        assert!(
            s.contains(first),
            "{} first bad event missing:\n{s}",
            c.name
        );
    }
    assert!(s.contains("no recovery samples"), "{s}");
}

#[test]
fn an_empty_latency_phase_prints_a_dash_never_zero() {
    let (mut r, _) = judged();
    let s = r.summary();
    let tick: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.starts_with("tick"))
        .take(3)
        .collect();
    assert_eq!(tick.len(), 3, "{s}");
    for l in &tick {
        let cells: Vec<&str> = l.split_whitespace().collect();
        assert!(cells.contains(&"—"), "{l}");
        assert!(!cells.contains(&"0") && !l.contains("0 ns"), "{l}");
    }
    let order = s.lines().find(|l| l.starts_with("order ack")).unwrap();
    assert!(order.contains("yes") && !order.contains('—'), "{order}");
    r.latency[0].phases[1].stats = None;
    let s = r.summary();
    let during = s
        .lines()
        .skip_while(|l| !l.starts_with("order ack"))
        .nth(1)
        .unwrap();
    assert!(
        during.contains("during") && during.contains('—'),
        "{during}"
    );
    assert_eq!(r.latency[0].phases[1].phase, Phase::During);
}

#[test]
fn report_html_shows_the_verdict_evidence_and_the_run_over_time_against_its_faults() {
    let (mut r, _) = judged();
    over_time(&mut r);
    r.checks[0].detail = "<script>alert(1)</script>".into();
    let dir = std::env::temp_dir().join(format!("report-html-{}", std::process::id()));
    let files = r.write(&dir).unwrap();
    let page = std::fs::read_to_string(&files.report_html).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(files.report_html, dir.join(HTML_FILE));
    // Self-contained: no script, nothing fetched.
    assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("href=\"http"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The verdict first, then every check with its evidence.
    let h1 = page.find("<h1>").unwrap();
    assert!(page[h1..].starts_with("<h1>lost-order <span class=\"bad\">invalid</span></h1>"));
    for c in &r.checks {
        assert!(
            page.contains(&format!("<td>{}</td>", c.name)),
            "{} missing",
            c.name
        );
    }
    assert!(page.contains("orders: c-77"), "the lost order is named");
    // Latency over time: a point per window with samples, on both lines.
    let windows = r.series.windows.iter().filter(|w| w.samples > 0).count();
    assert!(windows > 10, "{windows} windows");
    for line in ["p50", "p99"] {
        let at = page.find(&format!("<polyline class=\"{line}\"")).unwrap();
        let points = &page[at..];
        let points = &points[points.find("points=\"").unwrap() + 8..];
        let points = &points[..points.find('"').unwrap()];
        assert_eq!(points.split(' ').count(), windows, "{line}");
    }
    // Each fault window shaded and named on both charts, the budget drawn.
    let faults = &r.run.schedule;
    assert!(!faults.is_empty());
    assert_eq!(
        page.matches("fill=\"#f4b6b6\" fill-opacity").count(),
        2 * faults.len()
    );
    let title = format!(
        "<title>{} on {}",
        html::esc(&faults[0].fault),
        html::esc(&faults[0].target)
    );
    assert!(page.contains(&title), "{title}");
    assert!(page.contains("class=\"budget\""));
    // Outcomes over time add up to the run's submissions.
    let acked: u64 = r.series.windows.iter().map(|w| w.acked).sum();
    assert_eq!(acked, 120);
    assert_eq!(
        page.matches("class=\"acknowledged\"").count(),
        r.series.windows.iter().filter(|w| w.acked > 0).count()
    );
    // The phase table and the replay.
    assert!(page.contains("<td>order ack</td><td>during</td>"));
    assert!(page.contains("harness repro /tmp/runs/lost-order-42"));
    assert!(page.contains("uid 1000, no capabilities"));
}
