//! The harness's scenarios: the cucumber World that holds a platform, its run (history and
//! workload) and the verdict, with one step file per domain concept, for the Gherkin features
//! under `features/`. `tests/features.rs` runs them with [`run_features`]. [`chaos`] holds the
//! chaos property that `tests/chaos.rs` runs, with the strategies of fault schedules and order
//! flows.

pub mod chaos;
pub mod params;
mod pool;
mod recap;
pub mod steps;
mod world;

pub use recap::{Failure, Recap};

pub use world::{Played, TradingWorld};

use cucumber::World as _;

/// Runs every feature under `path` one scenario at a time (a 2-core machine; consecutive
/// scenarios with the same engine share one platform, reset between them), failing on a
/// skipped (unknown) step, an ambiguous step or a feature that does not parse. Returns whether everything passed, after printing the recap of the failed
/// scenarios (file and line, error, seed, run directory, replay command) and writing it under
/// `target_dir` for the test command to repeat at the end of its log.
pub async fn run_features(path: &str, target_dir: &std::path::Path) -> bool {
    use cucumber::writer::Stats as _;
    use cucumber::WriterExt as _;

    let drain = pool::Drain;
    let recap = Recap::default();
    let in_hook = recap.clone();
    // The stage that runs the features names their JUnit file (`scripts/stage`).
    let junit_path = std::env::var_os("FEATURES_JUNIT").map_or_else(
        || target_dir.join("nextest/integration/features.xml"),
        std::path::PathBuf::from,
    );
    let junit = junit_path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::File::create(&junit_path));
    let junit = match junit {
        Ok(file) => file,
        Err(e) => {
            eprintln!("features: cannot write {}: {e}", junit_path.display());
            return false;
        }
    };
    let writer = TradingWorld::cucumber()
        .with_writer(
            cucumber::writer::Basic::raw(std::io::stdout(), cucumber::writer::Coloring::Auto, 0)
                .summarized()
                .tee::<TradingWorld, _>(cucumber::writer::JUnit::for_tee(junit, 0))
                .normalized(),
        )
        .max_concurrent_scenarios(1)
        .fail_on_skipped()
        .before(|feature, _rule, scenario, world| {
            world.scenario = scenario.name.clone();
            world.feature = feature.path.clone();
            Box::pin(async {})
        })
        .after(move |feature, _rule, scenario, ev, world| {
            let failed = !matches!(ev, cucumber::event::ScenarioFinished::StepPassed);
            let recap = in_hook.clone();
            let failure = failed.then(|| Failure {
                feature: feature
                    .path
                    .as_ref()
                    .map_or_else(|| feature.name.clone(), |p| p.display().to_string()),
                line: scenario.position.line,
                scenario: scenario.name.clone(),
                error: match ev {
                    cucumber::event::ScenarioFinished::StepFailed(_, _, e) => e.to_string(),
                    cucumber::event::ScenarioFinished::BeforeHookFailed(_) => {
                        "a before hook failed".into()
                    }
                    _ => "a step was skipped (no step definition matches it)".into(),
                },
                seed: world
                    .as_ref()
                    .and_then(|w| w.platform.as_ref().map(|p| p.seed())),
                run_dir: world.as_ref().and_then(|w| w.run_dir.clone()),
            });
            Box::pin(async move {
                if let Some(f) = failure {
                    recap.push(f);
                }
                if let Some(w) = world {
                    w.finish_scenario(failed).await;
                }
            })
        })
        .run(path)
        .await;
    drain.now().await;
    let text = recap.render();
    if !text.is_empty() {
        eprintln!("\n{text}");
    }
    if let Err(e) = recap.write(target_dir) {
        eprintln!(
            "features: writing the recap under {}: {e}",
            target_dir.display()
        );
    }
    let unparsed = writer.parsing_errors();
    if unparsed > 0 {
        eprintln!("features: {unparsed} feature file(s) did not parse");
    }
    !writer.execution_has_failed()
}
