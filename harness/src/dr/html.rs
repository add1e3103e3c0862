//! The certificate as one self-contained HTML page (no script, no network): the verdict first,
//! the drills' RTO and RPO against the targets, then each drill's timeline and checks.

use super::certificate::{leaf_checks, Certificate, Measures};
use crate::check::{Outcome, Verdict};
use crate::report::html::{badge, esc, STYLE};

fn checks(out: &mut String, top: &Verdict) {
    for v in leaf_checks(top) {
        let evidence = if v.outcome == Outcome::Valid {
            String::new()
        } else {
            v.evidence.orders.join(", ")
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&v.check),
            badge(v.outcome),
            esc(&v.detail),
            esc(&evidence)
        ));
    }
}

/// The page.
pub(super) fn page(c: &Certificate) -> String {
    let t = &c.targets;
    let mut out = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>DR certificate {release}</title>\n\
         <style>{STYLE}</style></head><body>\n\
         <h1>DR certificate: {release} {verdict}</h1>\n\
         <p>{date} on {host} ({cpus} cpus, kernel {kernel}); replication <b>{repl}</b>, inter-DC line {line} ms each way; \
         detection: <code>/ready</code> every {interval} ms, lost after {threshold} failures; {n} drills in {elapsed:.0} s.</p>\n\
         <p>Targets: tier-1 RTO {t1rto} s, RPO {t1rpo} ms; tier-2 RTO {t2rto} s, RPO {t2rpo} ms{strict}.</p>\n",
        release = esc(&c.release),
        verdict = if c.certified {
            "<span class=\"ok\">CERTIFIED</span>"
        } else {
            "<span class=\"bad\">NOT CERTIFIED</span>"
        },
        date = c.date.format("%Y-%m-%d %H:%M UTC"),
        host = esc(&c.machine.host),
        cpus = c.machine.cpus,
        kernel = esc(&c.machine.kernel),
        repl = c.replication,
        line = c.line_latency_ms,
        interval = c.probe.interval.as_millis(),
        threshold = c.probe.threshold,
        n = c.drills.len(),
        elapsed = c.elapsed_s,
        t1rto = t.tier1_rto.as_secs(),
        t1rpo = t.tier1_rpo.as_millis(),
        t2rto = t.tier2_rto.as_secs(),
        t2rpo = t.tier2_rpo.as_millis(),
        strict = if t.zero_loss { "; RPO = 0 and zero order loss" } else { "" },
    );
    let images: Vec<String> = c
        .images
        .iter()
        .map(|(service, image)| format!("{} <code>{}</code>", esc(service), esc(image)))
        .collect();
    out.push_str(&format!("<p>Images: {}.</p>\n", images.join(", ")));
    out.push_str(&format!("<p>{}</p>\n", esc(&c.engine_security_line())));
    out.push_str(
        "<table><tr><th>drill</th><th>verdict</th><th>RTO tier 1</th><th>RTO tier 2</th>\
         <th>RPO orders</th><th>RPO window</th><th>lost after reconciliation</th>\
         <th>P99 on the new site</th></tr>\n",
    );
    for d in &c.drills {
        let m = Measures::of(d);
        out.push_str(&format!(
            "<tr><td><a href=\"#{0}\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td>\
             <td>{5}</td><td>{6}</td><td>{7}</td></tr>\n",
            d.drill,
            badge(d.outcome),
            m.tier1,
            m.tier2,
            m.lost,
            m.window,
            m.lost_after,
            m.p99
        ));
    }
    out.push_str("</table>\n");
    for d in &c.drills {
        out.push_str(&format!(
            "<h2 id=\"{}\">{} {}</h2>\n<p>{}. Seed {}; {} orders sent, {} acknowledged, {} unknown; \
             run directory <code>{}</code>.</p>\n<table><tr><th>ms from the fault</th><th>step</th><th>dc</th><th>detail</th></tr>\n",
            d.drill,
            d.drill,
            badge(d.outcome),
            esc(d.description),
            d.seed,
            d.orders_sent,
            d.orders_acknowledged,
            d.orders_unknown,
            esc(&d.run_dir.display().to_string())
        ));
        for row in &d.timeline {
            out.push_str(&format!(
                "<tr><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                row.at_ms,
                esc(&row.what),
                row.dc.map_or("", |dc| dc.as_str()),
                esc(&row.detail)
            ));
        }
        out.push_str(
            "</table>\n<table><tr><th>check</th><th>verdict</th><th>detail</th><th>evidence</th></tr>\n",
        );
        checks(&mut out, &d.verdict);
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}
