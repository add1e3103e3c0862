//! The release's DR certificate (reference 000 sections 3.2.2 and 3.3): every drill run on a
//! fresh platform, then `certificate.json` (the whole record), `certificate.md` (for the
//! release's archive) and `certificate.html` (one self-contained page) in the certification's directory. Its outcome is the worst drill's: a
//! release is certified only when every drill meets every target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::drill::{Drill, DrillOptions};
use super::error::DrError;
use super::run::{run_drill, DrillResult};
use crate::check::dr::DrTargets;
use crate::check::{Outcome, Verdict};

pub const CERTIFICATE_JSON: &str = "certificate.json";
pub const CERTIFICATE_MD: &str = "certificate.md";
pub const CERTIFICATE_HTML: &str = "certificate.html";

/// What `harness certify` was asked.
#[derive(Debug, Clone)]
pub struct CertifyOptions {
    pub release: String,
    pub drills: Vec<Drill>,
    /// Each drill's options (its seed is this seed plus the drill's place in the list).
    pub drill: DrillOptions,
    /// Certify an engine that does not run with least privilege (as root, with capabilities,
    /// a writable root): refused unless asked for explicitly.
    pub allow_privileged_engine: bool,
}

/// The machine the drills ran on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub host: String,
    pub cpus: usize,
    pub kernel: String,
}

impl Machine {
    fn here() -> Self {
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| "unknown".into())
        };
        Self {
            host: read("/etc/hostname"),
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: read("/proc/sys/kernel/osrelease"),
        }
    }
}

/// The certificate.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    pub release: String,
    pub outcome: Outcome,
    pub certified: bool,
    pub date: DateTime<Utc>,
    pub machine: Machine,
    pub replication: &'static str,
    pub line_latency_ms: u32,
    pub targets: DrTargets,
    pub probe: super::ProbePolicy,
    /// The image every service ran (tags are content hashes of their inputs).
    pub images: BTreeMap<String, String>,
    /// The engine's security context as the first drill read it from inside its container.
    pub engine_security: Option<crate::platform::SecurityContext>,
    /// Whether an engine short of least privilege was let through (`--allow-privileged-engine`).
    pub privileged_engine_allowed: bool,
    pub drills: Vec<DrillResult>,
    pub elapsed_s: f64,
    pub dir: PathBuf,
}

/// Runs every drill of `opts` (one fresh platform each) into `dir`, writes the certificate and
/// returns it; `progress` hears of each drill as it starts and ends.
pub async fn certify(
    opts: &CertifyOptions,
    dir: &Path,
    mut progress: impl FnMut(&str),
) -> Result<Certificate, DrError> {
    if opts.drills.is_empty() {
        return Err(DrError::config("drills", "no drill to run"));
    }
    opts.drill.validate()?;
    std::fs::create_dir_all(dir).map_err(|e| DrError::io(dir, e))?;
    let started = Instant::now();
    let mut drills = Vec::new();
    for (i, drill) in opts.drills.iter().enumerate() {
        progress(&format!(
            "[{}/{}] {drill}: {}",
            i + 1,
            opts.drills.len(),
            drill.describe()
        ));
        let drill_opts = DrillOptions {
            seed: opts.drill.seed.wrapping_add(i as u64),
            ..opts.drill.clone()
        };
        let result = run_drill(*drill, &drill_opts, &dir.join(drill.as_str())).await?;
        progress(&format!(
            "[{}/{}] {drill}: {:?} in {:.0} s (RTO tier 1 {}, RPO {} orders)",
            i + 1,
            opts.drills.len(),
            result.outcome,
            result.elapsed_s,
            result
                .rto
                .tier1_ms
                .map_or("none".into(), |ms| format!("{:.1} s", ms / 1000.0)),
            result.rpo.lost_at_promotion.len()
        ));
        drills.push(result);
    }
    let outcome = drills
        .iter()
        .map(|d| d.outcome)
        .max()
        .unwrap_or(Outcome::Unknown);
    let images = crate::images::Manifest::load(&crate::workspace_root())
        .map(|m| {
            crate::images::Service::ALL
                .into_iter()
                .filter_map(|s| Some((s.name().to_owned(), m.image(s)?)))
                .collect()
        })
        .unwrap_or_default();
    let engine_security = drills.iter().find_map(|d| d.engine_security.clone());
    let least_privilege = engine_security
        .as_ref()
        .is_some_and(crate::platform::SecurityContext::is_least_privilege);
    let cert = Certificate {
        release: opts.release.clone(),
        outcome,
        certified: outcome == Outcome::Valid && (least_privilege || opts.allow_privileged_engine),
        date: Utc::now(),
        machine: Machine::here(),
        replication: opts.drill.replication_name(),
        line_latency_ms: opts.drill.line_latency_ms,
        targets: opts.drill.targets.clone(),
        probe: opts.drill.probe,
        images,
        engine_security,
        privileged_engine_allowed: opts.allow_privileged_engine,
        drills,
        elapsed_s: started.elapsed().as_secs_f64(),
        dir: dir.to_owned(),
    };
    cert.write(dir)?;
    Ok(cert)
}

impl Certificate {
    /// Writes `certificate.json`, `certificate.md` and `certificate.html` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), DrError> {
        let text = serde_json::to_string_pretty(self).expect("a certificate serialises");
        for (name, body) in [
            (CERTIFICATE_JSON, text),
            (CERTIFICATE_MD, self.markdown()),
            (CERTIFICATE_HTML, super::html::page(self)),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, body).map_err(|e| DrError::io(&path, e))?;
        }
        Ok(())
    }

    /// What the certificate says of the engine's security context.
    pub fn engine_security_line(&self) -> String {
        match &self.engine_security {
            None => "Engine security context: not read (no drill started an engine); \
                     certification refused."
                .to_string(),
            Some(c) if c.is_least_privilege() => format!(
                "Engine security context (read inside its container): {}.",
                c.describe()
            ),
            Some(c) => format!(
                "Engine security context (read inside its container): {}; {}.",
                c.describe(),
                if self.privileged_engine_allowed {
                    "certified anyway, as --allow-privileged-engine asked"
                } else {
                    "certification refused (--allow-privileged-engine certifies it anyway)"
                }
            ),
        }
    }

    /// The certificate as Markdown: the verdict first, then one section per drill.
    pub fn markdown(&self) -> String {
        let t = &self.targets;
        let mut out = format!(
            "# DR certificate: {}\n\n**{}** ({:?}) on {} ({} cpus, kernel {}), {}.\n\n\
             Replication `{}`, inter-DC line {} ms each way. Targets: tier-1 RTO {} s / RPO {} ms, \
             tier-2 RTO {} s / RPO {} ms{}. Detection: `/ready` every {} ms, lost after {} \
             failures. {} drills in {:.0} s.\n\n",
            self.release,
            if self.certified {
                "CERTIFIED"
            } else {
                "NOT CERTIFIED"
            },
            self.outcome,
            self.machine.host,
            self.machine.cpus,
            self.machine.kernel,
            self.date.format("%Y-%m-%d %H:%M UTC"),
            self.replication,
            self.line_latency_ms,
            t.tier1_rto.as_secs(),
            t.tier1_rpo.as_millis(),
            t.tier2_rto.as_secs(),
            t.tier2_rpo.as_millis(),
            if t.zero_loss {
                ", and RPO = 0 with zero order loss"
            } else {
                ""
            },
            self.probe.interval.as_millis(),
            self.probe.threshold,
            self.drills.len(),
            self.elapsed_s
        );
        let images: Vec<String> = self
            .images
            .iter()
            .map(|(service, image)| format!("{service} `{image}`"))
            .collect();
        out.push_str(&format!("Images: {}.\n\n", images.join(", ")));
        out.push_str(&format!("{}\n\n", self.engine_security_line()));
        out.push_str("| drill | verdict | RTO tier 1 | RTO tier 2 | RPO (orders, window) | lost after reconciliation | P99 on the new site |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
        for d in &self.drills {
            let m = Measures::of(d);
            out.push_str(&format!(
                "| {} | {:?} | {} | {} | {}, {} | {} | {} |\n",
                d.drill, d.outcome, m.tier1, m.tier2, m.lost, m.window, m.lost_after, m.p99
            ));
        }
        for d in &self.drills {
            out.push_str(&format!(
                "\n## {} ({:?})\n\n{}.\n\nSeed {}, {} orders sent, {} acknowledged, {} unknown; \
                 run directory `{}`.\n\n| ms from the fault | step | dc | detail |\n| ---: | --- | --- | --- |\n",
                d.drill,
                d.outcome,
                d.description,
                d.seed,
                d.orders_sent,
                d.orders_acknowledged,
                d.orders_unknown,
                d.run_dir.display()
            ));
            for row in &d.timeline {
                out.push_str(&format!(
                    "| {:.0} | {} | {} | {} |\n",
                    row.at_ms,
                    row.what,
                    row.dc.map_or("", |dc| dc.as_str()),
                    row.detail.replace('|', "/")
                ));
            }
            out.push_str("\n| check | verdict | detail |\n| --- | --- | --- |\n");
            for v in leaf_checks(&d.verdict) {
                let evidence = if v.outcome != Outcome::Valid && !v.evidence.orders.is_empty() {
                    format!(" (evidence: {})", v.evidence.orders.join(", "))
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "| {} | {:?} | {}{} |\n",
                    v.check,
                    v.outcome,
                    v.detail.replace('|', "/"),
                    evidence
                ));
            }
        }
        out
    }
}

/// A drill's measures as the certificate's summary shows them, in every format.
pub(super) struct Measures {
    pub tier1: String,
    pub tier2: String,
    pub lost: usize,
    pub window: String,
    pub lost_after: usize,
    pub p99: String,
}

impl Measures {
    pub(super) fn of(d: &DrillResult) -> Self {
        let secs = |v: Option<f64>| v.map_or("none".into(), |ms| format!("{:.1} s", ms / 1000.0));
        Self {
            tier1: secs(d.rto.tier1_ms),
            tier2: secs(d.rto.tier2_ms),
            lost: d.rpo.lost_at_promotion.len(),
            window: d
                .rpo
                .window_ms
                .map_or("0 ms".into(), |w| format!("{w:.0} ms")),
            lost_after: d.rpo.lost_after_reconciliation.len(),
            p99: d
                .p99_after_ms
                .map_or("none".into(), |p| format!("{p:.2} ms")),
        }
    }
}

/// The checks a verdict is made of, leaves only, in order (a drill's verdict composes the
/// safety checks under `surviving_site`).
pub(super) fn leaf_checks(v: &Verdict) -> Vec<&Verdict> {
    if v.children.is_empty() {
        return vec![v];
    }
    v.children.iter().flat_map(leaf_checks).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::dr::{RpoMeasure, RtoMeasure};
    use crate::check::Verdict;
    use crate::dr::TimelineRow;
    use crate::platform::Dc;

    fn certificate(lost: Vec<String>) -> Certificate {
        let outcome = if lost.is_empty() {
            Outcome::Valid
        } else {
            Outcome::Invalid
        };
        let mut rpo = Verdict::new("rpo", outcome, "5 of 900 acknowledged orders missing");
        rpo.evidence.orders = lost.clone();
        let drill = DrillResult {
            drill: Drill::DcLoss,
            description: Drill::DcLoss.describe(),
            replication: "async",
            outcome,
            verdict: Verdict::all("dc-loss", vec![rpo]),
            rto: RtoMeasure {
                tier1_ms: Some(4_200.0),
                tier2_ms: Some(4_300.0),
                first_ack: Some("c-1".into()),
            },
            rpo: RpoMeasure {
                lost_at_promotion: lost,
                window_ms: Some(48.0),
                ..RpoMeasure::default()
            },
            fault_at_ms: 5_000.0,
            timeline: vec![TimelineRow {
                at_ms: 1_510.0,
                what: "detected".into(),
                dc: Some(Dc::Dc1),
                detail: "3 probes <failed>".into(),
            }],
            hazards: Vec::new(),
            p99_after_ms: Some(3.2),
            orders_sent: 1_000,
            orders_acknowledged: 900,
            orders_unknown: 12,
            run_dir: "runs/dc-loss".into(),
            seed: 7,
            elapsed_s: 61.0,
            engine_security: Some(confined()),
        };
        Certificate {
            release: "v1.2.3".into(),
            outcome,
            certified: outcome == Outcome::Valid,
            date: Utc::now(),
            machine: Machine::here(),
            replication: "async",
            line_latency_ms: 5,
            targets: DrTargets::default(),
            probe: crate::dr::ProbePolicy::default(),
            images: BTreeMap::new(),
            engine_security: Some(confined()),
            privileged_engine_allowed: false,
            drills: vec![drill],
            elapsed_s: 61.0,
            dir: "runs".into(),
        }
    }

    fn confined() -> crate::platform::SecurityContext {
        crate::platform::SecurityContext {
            uid: 1000,
            capabilities: 0,
            no_new_privileges: true,
            read_only_root: true,
        }
    }

    #[test]
    fn a_root_engine_is_named_and_certified_only_when_allowed() {
        let mut c = certificate(Vec::new());
        assert!(
            c.markdown().contains("uid 1000, no capabilities"),
            "{}",
            c.markdown()
        );
        c.engine_security = Some(crate::platform::SecurityContext {
            uid: 0,
            ..confined()
        });
        assert!(c
            .engine_security_line()
            .contains("NOT least privilege: runs as root (uid 0); certification refused"));
        c.privileged_engine_allowed = true;
        assert!(c.engine_security_line().contains("certified anyway"));
    }

    #[test]
    fn the_certificate_says_its_verdict_first_and_names_what_was_lost() {
        let c = certificate(vec!["w7-11".into(), "w7-12".into()]);
        let md = c.markdown();
        assert!(
            md.starts_with("# DR certificate: v1.2.3\n\n**NOT CERTIFIED**"),
            "{md}"
        );
        assert!(
            md.contains("| dc-loss | Invalid | 4.2 s | 4.3 s | 2, 48 ms |"),
            "{md}"
        );
        assert!(md.contains("evidence: w7-11, w7-12"), "{md}");
        let html = super::super::html::page(&c);
        assert!(html.contains("NOT CERTIFIED"));
        assert!(html.contains("3 probes &lt;failed&gt;"), "text is escaped");
        assert!(
            !html.contains("http"),
            "the page loads nothing from a network"
        );
        let ok = certificate(Vec::new());
        assert!(ok.markdown().contains("**CERTIFIED** (Valid)"));
    }

    #[test]
    fn the_certificate_is_written_as_json_markdown_and_html() {
        let dir = std::env::temp_dir().join(format!("cert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        certificate(Vec::new()).write(&dir).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(CERTIFICATE_JSON)).unwrap()).unwrap();
        assert_eq!(json["certified"], true);
        assert_eq!(json["targets"]["tier1_rto"], 300_000);
        assert_eq!(json["drills"][0]["rto"]["tier1_ms"], 4_200.0);
        for f in [CERTIFICATE_MD, CERTIFICATE_HTML] {
            assert!(dir.join(f).metadata().unwrap().len() > 100, "{f}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
