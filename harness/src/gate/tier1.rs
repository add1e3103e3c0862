//! Tier 1: the hot paths' instruction counts (`perf/benches/hot_paths_icount.rs`, gungraun over
//! valgrind's callgrind) against `perf/baselines/tier1.json`. Counts repeat from run to run on
//! this machine to within 0.3 % (the mock's matching, whose string copies take the path glibc's
//! memcpy picks for their addresses; the others to a few instructions), so a threshold of 1 % is
//! above the noise and below a regression worth stopping a release for.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{judge, Baseline, BaselineError, Environment, GateReport};

/// The baseline file, relative to the workspace.
pub const BASELINE: &str = "perf/baselines/tier1.json";
/// The threshold a new baseline is recorded with, in percent.
pub const DEFAULT_THRESHOLD_PCT: f64 = 1.0;
/// Test only: the hot paths do this many percent more work (`perf::hot`), to prove the gate.
pub const INJECT_ENV: &str = "PERF_INJECT_PCT";

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The machine cannot measure: a tool missing, the benchmark failing to build or run.
    #[error("{what}: {reason}")]
    Environment { what: String, reason: String },
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// The benchmark's output is not what gungraun writes.
    #[error("the benchmark's JSON line {line}: {reason}")]
    Output { line: usize, reason: String },
}

fn tool_version(program: &str, args: &[&str]) -> Result<String, GateError> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| GateError::Environment {
            what: format!("running {program}"),
            reason: format!("{e} (scripts/bootstrap installs what the gate needs)"),
        })?;
    if !out.status.success() {
        return Err(GateError::Environment {
            what: format!("{program} {}", args.join(" ")),
            reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// This machine's toolchain, valgrind and commit.
pub fn environment(workspace: &Path) -> Result<Environment, GateError> {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(workspace)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    Ok(Environment {
        toolchain: tool_version("rustc", &["--version"])?,
        valgrind: tool_version("valgrind", &["--version"])?,
        commit: if dirty {
            format!("{commit}+dirty")
        } else {
            commit
        },
    })
}

/// Parses gungraun's `--output-format=json` lines into (benchmark id, instructions).
pub fn parse_counts(json_lines: &str) -> Result<Vec<(String, u64)>, GateError> {
    let mut out = Vec::new();
    for (i, line) in json_lines.lines().enumerate() {
        if !line.trim_start().starts_with('{') {
            continue;
        }
        let bad = |reason: &str| GateError::Output {
            line: i + 1,
            reason: reason.to_string(),
        };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        let id = v["id"].as_str().ok_or_else(|| bad("no id"))?;
        let ir = v["profiles"]
            .as_array()
            .and_then(|p| {
                p.iter()
                    .find(|p| p["tool"] == "Callgrind")
                    .and_then(|p| p["data"]["total"]["metrics"]["Ir"]["values"]["new"].as_u64())
            })
            .ok_or_else(|| bad("no callgrind Ir total"))?;
        out.push((id.to_string(), ir));
    }
    if out.is_empty() {
        return Err(GateError::Output {
            line: 0,
            reason: "no benchmark reported".into(),
        });
    }
    Ok(out)
}

/// Builds and runs the instruction-count benchmark; its counts.
pub fn measure(workspace: &Path, inject_pct: Option<f64>) -> Result<Vec<(String, u64)>, GateError> {
    tool_version("gungraun-runner", &["--version"])?;
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace)
        .args([
            "bench",
            "--quiet",
            "-p",
            "perf",
            "--bench",
            "hot_paths_icount",
            "--",
            "--output-format=json",
        ])
        .env_remove(INJECT_ENV);
    if let Some(pct) = inject_pct {
        cmd.env(INJECT_ENV, pct.to_string());
    }
    let out = cmd.output().map_err(|e| GateError::Environment {
        what: "running cargo bench".into(),
        reason: e.to_string(),
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(15).collect();
        return Err(GateError::Environment {
            what: "cargo bench -p perf --bench hot_paths_icount".into(),
            reason: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    parse_counts(&String::from_utf8_lossy(&out.stdout))
}

/// What `harness perf-gate --tier 1` does.
#[derive(Debug, Clone)]
pub struct Options {
    pub workspace: PathBuf,
    pub baseline: PathBuf,
    /// Record the counts as the new baseline instead of judging them.
    pub update_baseline: bool,
    pub threshold_pct: Option<f64>,
    /// Test only: more work on the hot paths (see [`INJECT_ENV`]).
    pub inject_pct: Option<f64>,
}

/// Measures and judges (or records the baseline, then judges against it: a pass).
pub fn run(opts: &Options) -> Result<GateReport, GateError> {
    let env = environment(&opts.workspace)?;
    let counts = measure(&opts.workspace, opts.inject_pct)?;
    if opts.update_baseline {
        let b = Baseline {
            format: 1,
            tier: 1,
            metric_kind: "Ir".into(),
            threshold_pct: opts.threshold_pct.unwrap_or(DEFAULT_THRESHOLD_PCT),
            env: env.clone(),
            recorded: chrono::Utc::now().to_rfc3339(),
            counts: counts.iter().cloned().collect(),
        };
        b.save(&opts.baseline)?;
    }
    let mut baseline = Baseline::load(&opts.baseline)?;
    if let Some(t) = opts.threshold_pct {
        baseline.threshold_pct = t;
    }
    Ok(judge(1, &baseline, env, &counts))
}
