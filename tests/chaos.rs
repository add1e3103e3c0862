//! The chaos property on real containers: random fault schedules with an order flow, on one
//! platform reset between cases; after heal and convergence every safety check must be valid.
//! See `scenarios::chaos` for the settings (`CHAOS_CASES`, `CHAOS_CASE_SECONDS`, …); a failure
//! prints the minimal case and `cargo run -p harness -- repro <run dir>`, and its seed is kept
//! in `tests/chaos.proptest-regressions`, replayed first by the next run.

use scenarios::chaos::{check_property, PropertyOptions};

#[test]
fn after_heal_and_convergence_every_check_is_valid() {
    let opts = PropertyOptions::from_env(file!()).expect("the CHAOS_* settings");
    match check_property(&opts) {
        Ok(run) => println!("chaos: every case valid: {}", run.describe()),
        Err(e) => panic!("{e:#}"),
    }
}
