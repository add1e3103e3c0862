//! A tier's committed baseline (`perf/baselines/tier1.json`): the counts, the threshold, and
//! the environment they were measured in (toolchain, valgrind, the commit), because counts move
//! with the compiler: a baseline from another toolchain is no baseline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where and with what counts were measured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// `rustc --version`.
    pub toolchain: String,
    /// `valgrind --version`.
    pub valgrind: String,
    /// `git rev-parse HEAD`, `+dirty` when the tree had changes.
    pub commit: String,
}

impl Environment {
    /// Why counts from `self` cannot be compared with counts from `other`, if they cannot.
    pub fn differs_from(&self, other: &Environment) -> Option<String> {
        if self.toolchain != other.toolchain {
            return Some(format!(
                "the baseline was measured with {}, this run with {}: instruction counts move \
                 with the compiler; record a baseline on this toolchain (--update-baseline)",
                self.toolchain, other.toolchain
            ));
        }
        if self.valgrind != other.valgrind {
            return Some(format!(
                "the baseline was measured under {}, this run under {}: record a baseline \
                 (--update-baseline)",
                self.valgrind, other.valgrind
            ));
        }
        None
    }
}

/// A committed baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub format: u32,
    pub tier: u8,
    /// The counted event (callgrind's `Ir`: instructions executed).
    pub metric_kind: String,
    /// A rise above this, in percent, is a regression.
    pub threshold_pct: f64,
    pub env: Environment,
    /// When it was recorded (RFC 3339).
    pub recorded: String,
    pub counts: BTreeMap<String, u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("reading the baseline {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the baseline {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the baseline {path}: threshold_pct must be a percentage above 0, got {value}")]
    Threshold { path: PathBuf, value: f64 },
    #[error("writing the baseline {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_owned(),
            source,
        })?;
        let b: Baseline = serde_json::from_str(&text).map_err(|source| BaselineError::Parse {
            path: path.to_owned(),
            source,
        })?;
        if !(b.threshold_pct > 0.0 && b.threshold_pct < 100.0) {
            return Err(BaselineError::Threshold {
                path: path.to_owned(),
                value: b.threshold_pct,
            });
        }
        Ok(b)
    }

    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let write = |source| BaselineError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let mut text = serde_json::to_string_pretty(self).expect("a baseline serialises");
        text.push('\n');
        std::fs::write(path, text).map_err(write)
    }
}
