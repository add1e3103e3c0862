//! A chaos case as data, saved as `case.json` in its run directory: everything that replays it
//! against fresh containers (`harness repro <run dir>`): the seed, the order flow, the fault
//! schedule, and the engine's investor and test-only defects.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::ChaosError;
use crate::fault::Schedule;
use crate::workload::{Mix, WorkloadSpec};

/// The file a case is saved in, in its run directory.
pub const CASE_FILE: &str = "case.json";

/// An order flow: `operations` at `rate_per_s`, with `mix`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub rate_per_s: f64,
    pub operations: u64,
    pub mix: Mix,
}

impl Default for Flow {
    fn default() -> Self {
        Self {
            rate_per_s: 100.0,
            operations: 500,
            mix: Mix::default(),
        }
    }
}

/// One case: a flow and a fault schedule played together, then heal, converge and check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Seeds the workload's choices and the fault proxy's randomness.
    pub seed: u64,
    pub flow: Flow,
    pub schedule: Schedule,
    /// The CTP investor the engine trades (the workload's account).
    pub investor: String,
    /// The engine's test-only defects (empty for a healthy engine).
    #[serde(default)]
    pub defects: Vec<String>,
}

/// The investor chaos runs trade as by default: the fixtures' load account, whose limits and
/// balance take a flow of thousands of orders.
pub const DEFAULT_INVESTOR: &str = "000003";

impl Default for Case {
    fn default() -> Self {
        Self {
            seed: 0,
            flow: Flow::default(),
            schedule: Schedule::default(),
            investor: DEFAULT_INVESTOR.into(),
            defects: Vec::new(),
        }
    }
}

impl Case {
    /// The workload of this case; its client ids carry `prefix`, unique per case on a platform.
    pub fn workload(&self, prefix: &str) -> WorkloadSpec {
        let mut spec = WorkloadSpec::new(
            &self.investor,
            self.flow.rate_per_s,
            self.flow.operations,
            self.seed,
        );
        spec.mix = self.flow.mix;
        spec.client_prefix = prefix.to_owned();
        spec
    }

    pub fn save(&self, dir: &Path) -> Result<(), ChaosError> {
        let path = dir.join(CASE_FILE);
        let text = serde_json::to_string_pretty(self).expect("a case serialises");
        std::fs::write(&path, text).map_err(|source| ChaosError::Io { path, source })
    }

    /// Reads `case.json` of a run directory; an error names the file, line and field.
    pub fn load(dir: &Path) -> Result<Case, ChaosError> {
        let path = dir.join(CASE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ChaosError::Io {
            path: path.clone(),
            source,
        })?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de).map_err(|e| ChaosError::CaseFile {
            line: e.inner().line(),
            field: e.path().to_string(),
            reason: e.inner().to_string(),
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_round_trips_and_a_bad_field_is_named() {
        let dir = std::env::temp_dir().join(format!("case-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let case = Case {
            seed: 42,
            ..Case::default()
        };
        case.save(&dir).unwrap();
        assert_eq!(Case::load(&dir).unwrap(), case);
        let text = std::fs::read_to_string(dir.join(CASE_FILE))
            .unwrap()
            .replace("\"operations\": 500", "\"operations\": -5");
        std::fs::write(dir.join(CASE_FILE), text).unwrap();
        let e = Case::load(&dir).unwrap_err().to_string();
        assert!(
            e.contains("case.json") && e.contains("flow.operations"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
