//! Steps that configure and start the platform under test.

use anyhow::Result;
use cucumber::given;

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
