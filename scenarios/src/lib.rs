//! The harness's scenarios: the cucumber World that holds a platform, its run (history and
//! workload) and the verdict, with one step file per domain concept, for the Gherkin features
//! under `features/`. `tests/features.rs` runs them with [`run_features`].
//!
//! Known gaps: the proptest strategies of fault schedules and order flows for the chaos
//! properties are still to come (issue 6).

pub mod params;
pub mod steps;
mod world;

pub use world::TradingWorld;

use cucumber::World as _;

/// Runs every feature under `path` one scenario at a time (each starts its own platform on a
/// 2-core machine), failing on a skipped (unknown) step, an ambiguous step or a feature that
/// does not parse; the process exits non-zero if anything failed.
pub async fn run_features(path: &str) {
    TradingWorld::cucumber()
        .max_concurrent_scenarios(1)
        .fail_on_skipped()
        .before(|_feature, _rule, scenario, world| {
            world.scenario = scenario.name.clone();
            Box::pin(async {})
        })
        .after(|_feature, _rule, _scenario, ev, world| {
            let failed = !matches!(ev, cucumber::event::ScenarioFinished::StepPassed);
            Box::pin(async move {
                if let Some(w) = world {
                    w.finish_scenario(failed).await;
                }
            })
        })
        .run_and_exit(path)
        .await;
}
