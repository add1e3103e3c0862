//! Steps that configure and start the platform under test.

use anyhow::Result;
use cucumber::given;

use crate::params::ReplicationParam;
use crate::TradingWorld;

#[given(expr = "the engine trades as investor {string}")]
fn set_investor(w: &mut TradingWorld, id: String) -> Result<()> {
    w.before_start("the engine's investor")?;
    w.investor = id;
    Ok(())
}

#[given(expr = "the engine runs with the defect {word}")]
fn add_defect(w: &mut TradingWorld, name: String) -> Result<()> {
    w.before_start("an engine defect")?;
    w.defects.push(name);
    Ok(())
}

#[given("the platform is running")]
async fn running(w: &mut TradingWorld) -> Result<()> {
    w.start().await
}

/// The DR topology with the ordinary steps: dc1 active, dc2 a streaming standby with a
/// standby engine; orders go to dc1, and faults name their datacenter (`the dc2 engine`).
#[given(expr = "the platform is running on two datacenters replicating {replication}")]
async fn running_on_two(w: &mut TradingWorld, replication: ReplicationParam) -> Result<()> {
    w.before_start("the two datacenters")?;
    w.two_datacenters = Some(replication.0);
    w.start().await
}
