//! Bad features fail clearly: an unknown step, a feature that does not parse, a budget that
//! makes no sense, an unknown check, a fault schedule that does not parse and a step naming an
//! unknown datacenter each fail the run, and the output names the file and line. None of them
//! reaches a platform, so no container is started.

use std::path::PathBuf;

use cucumber::writer::Stats as _;
use cucumber::writer::{self, Coloring};
use cucumber::{World as _, WriterExt as _};
use scenarios::TradingWorld;

/// Runs `feature` on a thread with a large stack: cucumber's futures in a debug build overflow
/// a test thread's default 2 MiB.
fn run(feature: &'static str) -> (bool, usize, usize, String) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(run_async(feature))
        })
        .expect("a thread")
        .join()
        .expect("the feature run does not panic")
}

async fn run_async(feature: &str) -> (bool, usize, usize, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad")
        .join(feature);
    let out =
        std::env::temp_dir().join(format!("bad-features-{}-{feature}.txt", std::process::id()));
    let file = std::fs::File::create(&out).unwrap();
    let w = TradingWorld::cucumber()
        .before(|feature, _rule, _scenario, world| {
            world.feature = feature.path.clone();
            Box::pin(async {})
        })
        .with_writer(
            writer::Basic::raw(file, Coloring::Never, 0)
                .normalized()
                .summarized(),
        )
        .fail_on_skipped()
        // The test runner's own arguments (nextest's `--exact`) are not cucumber's.
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .run(&path)
        .await;
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    (
        w.execution_has_failed(),
        w.parsing_errors(),
        w.failed_steps(),
        text,
    )
}

#[test]
fn an_unknown_step_fails_naming_its_file_and_line() {
    let (failed, _, failed_steps, text) = run("unknown_step.feature");
    assert!(failed, "{text}");
    assert_eq!(failed_steps, 1, "{text}");
    assert!(text.contains("unknown_step.feature:5"), "{text}");
    assert!(text.contains("the moon is full"), "{text}");
}

#[test]
fn a_feature_that_does_not_parse_fails_naming_it() {
    let (failed, parsing, _, text) = run("unparsable.feature");
    assert!(failed || parsing > 0, "{text}");
    assert_eq!(parsing, 1, "{text}");
    assert!(text.contains("unparsable.feature"), "{text}");
}

#[test]
fn a_negative_budget_fails_naming_the_value() {
    let (failed, _, _, text) = run("bad_budget.feature");
    assert!(failed, "{text}");
    assert!(text.contains("bad_budget.feature:4"), "{text}");
    assert!(text.contains("not a positive duration"), "{text}");
}

#[test]
fn an_unknown_check_fails_listing_the_known_ones() {
    let (failed, _, _, text) = run("bad_check.feature");
    assert!(failed, "{text}");
    assert!(text.contains("no_such_check"), "{text}");
    assert!(text.contains("no_lost_order"), "{text}");
}

#[test]
fn a_schedule_that_does_not_parse_fails_naming_its_line_in_the_feature() {
    let (failed, _, failed_steps, text) = run("bad_schedule.feature");
    assert!(failed, "{text}");
    assert_eq!(failed_steps, 1, "{text}");
    assert!(text.contains("bad_schedule.feature:9:"), "{text}");
    assert!(text.contains("servise"), "{text}");
}

#[test]
fn an_unknown_datacenter_in_a_step_fails_naming_it_and_its_line() {
    let (failed, _, failed_steps, text) = run("bad_role.feature");
    assert!(failed, "{text}");
    assert_eq!(failed_steps, 1, "{text}");
    assert!(text.contains("bad_role.feature:4"), "{text}");
    assert!(text.contains("dc3"), "{text}");
    assert!(text.contains("is not a datacenter: dc1 or dc2"), "{text}");
}
