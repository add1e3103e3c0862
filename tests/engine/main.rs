//! The reference engine judged by the harness: a healthy engine under a fixed-rate workload
//! must be found valid by every safety check (no lost order, nothing at the exchange twice,
//! positions and balances as the trades imply, every event in Kafka), and each of its
//! test-only defects must be caught by the check it breaks. Real containers; they need the
//! images (`cargo run -p harness -- images build`, which `scripts/test` runs first).

mod consistency;

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
