//! The harness's scenarios: the cucumber World that holds a platform, its run (history and
//! workload) and the verdict, with one step file per domain concept, for the Gherkin features
//! under `features/`. `tests/features.rs` runs them with [`run_features`]. [`chaos`] holds the
//! chaos property that `tests/chaos.rs` runs, with the strategies of fault schedules and order
//! flows.

pub mod chaos;
pub mod params;
pub mod steps;
mod world;

pub use world::{Played, TradingWorld};

use cucumber::World as _;

/// Runs every feature under `path` one scenario at a time (each starts its own platform on a
/// 2-core machine), failing on a skipped (unknown) step, an ambiguous step or a feature that
/// does not parse; the process exits non-zero if anything failed.
pub async fn run_features(path: &str) {
    TradingWorld::cucumber()
        .max_concurrent_scenarios(1)
        .fail_on_skipped()
        .before(|feature, _rule, scenario, world| {
            world.scenario = scenario.name.clone();
            world.feature = feature.path.clone();
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
