//! The closing recap of a features run: every failed scenario with its file and line, the
//! error, the seed, the run directory and the replay command, printed after cucumber's own
//! summary and written to `target/test-failures/features.txt`, so that the end of a long CI
//! log says what failed and how to reproduce it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::world::replay_command;

/// Lines of an error kept in the recap; the full text is in the log above it.
const ERROR_LINES: usize = 12;

/// One failed scenario.
#[derive(Debug, Clone)]
pub struct Failure {
    pub feature: String,
    pub line: usize,
    pub scenario: String,
    pub error: String,
    pub seed: Option<u64>,
    pub run_dir: Option<PathBuf>,
}

/// The failures of one run, shared with cucumber's `after` hook.
#[derive(Debug, Clone, Default)]
pub struct Recap(Arc<Mutex<Vec<Failure>>>);

impl Recap {
    pub fn push(&self, f: Failure) {
        self.0.lock().expect("recap lock").push(f);
    }

    pub fn failures(&self) -> Vec<Failure> {
        self.0.lock().expect("recap lock").clone()
    }

    /// The recap's text: empty when nothing failed.
    pub fn render(&self) -> String {
        let failures = self.failures();
        let mut out = String::new();
        if failures.is_empty() {
            return out;
        }
        let _ = writeln!(out, "features: {} scenario(s) failed", failures.len());
        for f in &failures {
            let _ = writeln!(out, "- {}:{}: {}", f.feature, f.line, f.scenario);
            for l in f
                .error
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(ERROR_LINES)
            {
                let _ = writeln!(out, "    {l}");
            }
            if let Some(seed) = f.seed {
                let _ = writeln!(out, "    seed {seed}");
            }
            if let Some(dir) = &f.run_dir {
                let _ = writeln!(out, "    run directory {}", dir.display());
            }
            let _ = writeln!(out, "    replay: {}", replay_command(&f.scenario));
        }
        out
    }

    /// Writes the recap (or removes an old one when nothing failed) under `target_dir`.
    pub fn write(&self, target_dir: &Path) -> std::io::Result<()> {
        let dir = target_dir.join("test-failures");
        let file = dir.join("features.txt");
        let text = self.render();
        if text.is_empty() {
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => return Ok(()),
            }
        }
        std::fs::create_dir_all(&dir)?;
        std::fs::write(file, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(error: &str) -> Failure {
        Failure {
            feature: "features/network/postgres_latency.feature".into(),
            line: 7,
            scenario: "Orders slow down".into(),
            error: error.into(),
            seed: Some(42),
            run_dir: Some(PathBuf::from("target/runs/x")),
        }
    }

    #[test]
    fn a_recap_names_file_line_error_seed_and_replay() {
        let r = Recap::default();
        r.push(failure(
            "Step panicked. Captured output: the fault schedule failed: boom",
        ));
        let text = r.render();
        assert!(
            text.starts_with("features: 1 scenario(s) failed\n"),
            "{text}"
        );
        assert!(text.contains("- features/network/postgres_latency.feature:7: Orders slow down"));
        assert!(text.contains("the fault schedule failed: boom"));
        assert!(text.contains("seed 42"));
        assert!(text.contains("run directory target/runs/x"));
        assert!(text.contains("--name \"Orders slow down\""));
    }

    #[test]
    fn a_long_error_is_cut_to_its_first_lines() {
        let r = Recap::default();
        let long: Vec<String> = (0..40).map(|i| format!("line {i}")).collect();
        r.push(failure(&long.join("\n")));
        let text = r.render();
        assert!(text.contains("line 11"));
        assert!(!text.contains("line 12"));
    }

    #[test]
    fn no_failure_writes_nothing_and_removes_an_old_recap() {
        let dir = std::env::temp_dir().join(format!("recap-test-{}", std::process::id()));
        let r = Recap::default();
        r.push(failure("x"));
        r.write(&dir).unwrap();
        assert!(dir.join("test-failures/features.txt").exists());
        Recap::default().write(&dir).unwrap();
        assert!(!dir.join("test-failures/features.txt").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
