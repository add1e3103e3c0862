//! What a report says about the run itself: its name and directory, the seed and the command
//! that replays it, wall-clock start and end, the image of every service, and the fault
//! schedule (what, where, when), so that a failed run can be replayed against real containers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::history::FaultWindow;
use crate::images::Service;
use crate::platform::SecurityContext;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run's name, e.g. the feature or property that made it; names the JUnit suite.
    pub name: String,
    pub run_dir: PathBuf,
    /// Drives the workload and the fault schedule.
    pub seed: u64,
    /// A shell command that replays the run, e.g. `harness repro <run dir>`.
    pub replay_command: String,
    /// Wall-clock time (`SystemTime::now().into()`); the history's times are relative to start.
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    /// The image reference each service ran.
    pub images: BTreeMap<Service, String>,
    /// The fault windows of the run (`History::timeline.windows()`), ns since the start.
    pub schedule: Vec<FaultWindow>,
    /// The engine's security context as read inside its container at start (none when the
    /// run had no engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_security: Option<SecurityContext>,
}

impl RunInfo {
    /// How long the run took by the wall clock; zero if the clock went backwards.
    pub fn duration(&self) -> std::time::Duration {
        (self.finished - self.started).to_std().unwrap_or_default()
    }
}
