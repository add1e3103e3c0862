//! Time of one chaos case on this machine, the state reset included (target ≤ 15 s, so that a
//! CI stage runs 20 cases in 5 minutes): runs the chaos property's cases on one platform
//! (`CHAOS_CASES`, default 10, each `CHAOS_CASE_SECONDS` long, default 5) and prints the
//! median and maximum per case and per reset. Measures and prints; never asserts.

use std::time::Instant;

use scenarios::chaos::{check_property, PropertyOptions};

fn main() -> anyhow::Result<()> {
    if std::env::var_os("CHAOS_CASES").is_none() {
        std::env::set_var("CHAOS_CASES", "10");
    }
    let opts = PropertyOptions::from_env(file!())?;
    let t0 = Instant::now();
    let run = check_property(&opts);
    let total = t0.elapsed().as_secs_f64();
    match run {
        Ok(run) => println!(
            "chaos cases: {} (platform start and removal included: {total:.1} s in all)",
            run.describe()
        ),
        Err(e) => println!("chaos cases: a case failed after {total:.1} s: {e:#}"),
    }
    Ok(())
}
