//! The reference engine judged by the harness: a healthy engine under a fixed-rate workload
//! must be found valid by every safety check (no lost order, nothing at the exchange twice,
//! positions and balances as the trades imply, every event in Kafka), and each of its
//! test-only defects must be caught by the check it breaks. Real containers; they need the
//! images (`cargo run -p harness -- images build`, which `scripts/test` runs first).

mod consistency;

use harness::check::{Outcome, Verdict};
use harness::platform::EngineSpec;
use harness::{Platform, Topology};

/// Starts the platform with the engine trading as `investor`, with `defects` switched on.
pub async fn platform(investor: &str, defects: &[&str]) -> Platform {
    let spec = EngineSpec {
        investor: investor.to_owned(),
        defects: defects.iter().map(|d| (*d).to_owned()).collect(),
        ..EngineSpec::default()
    };
    Platform::builder()
        .topology(Topology::single_dc().with_engine_spec(spec))
        .start()
        .await
        .expect("the platform starts")
}

/// The verdict as a readable tree, for assertion messages.
pub fn explain(v: &Verdict) -> String {
    let mut out = format!("{} {:?}: {}\n", v.check, v.outcome, v.detail);
    for c in &v.children {
        for line in explain(c).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if v.outcome != Outcome::Valid && !v.evidence.orders.is_empty() {
        out.push_str(&format!(
            "  evidence: {:?} {:?} first bad: {:?}\n",
            v.evidence.orders, v.evidence.counts, v.evidence.first_bad
        ));
    }
    out
}

/// The child verdict named `check`, searched through the tree.
pub fn find<'a>(v: &'a Verdict, check: &str) -> Option<&'a Verdict> {
    if v.check == check {
        return Some(v);
    }
    v.children.iter().find_map(|c| find(c, check))
}
