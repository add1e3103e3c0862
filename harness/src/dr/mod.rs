//! Disaster recovery on the two-datacenter topology: the DR controller (the platform's runbook
//! made executable: detect, fence, promote, reroute, each step timed into the history), the
//! drills it is exercised by, and the release's DR certificate that `harness certify` writes.
//! The meters (RTO per tier, RPO, business-level loss) are in [`crate::check::dr`].
//!
//! The failback drill rebuilds the old site as the standby of the new one
//! ([`Controller::rejoin`], a base backup across the line) and switches back. Known gaps: the old
//! site rejoining as a standby after an isolation or a loss (it comes back fenced, and stays so
//! in those drills); Kafka is judged across the sites' brokers (a consumer that reads them in the
//! order they served), not yet from the surviving broker alone.

mod certificate;
mod controller;
mod drill;
mod error;
mod html;
mod run;

pub use certificate::{
    certify, Certificate, CertifyOptions, CERTIFICATE_HTML, CERTIFICATE_JSON, CERTIFICATE_MD,
};
pub use controller::{Controller, ProbePolicy, Promotion};
pub use drill::{parse_drills, parse_target, Drill, DrillOptions};
pub use error::DrError;
pub use run::{run_drill, DrillResult, TimelineRow};
