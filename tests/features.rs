//! The Gherkin features under `features/`, run by cucumber against real containers, one
//! scenario at a time. An unknown or ambiguous step or a feature that does not parse fails
//! the run with its file and line; the failed scenarios are recapped at the end.

use std::path::PathBuf;

/// Cucumber's futures are deep in a debug build: every thread gets a 64 MiB stack.
fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/features");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || concat!(env!("CARGO_MANIFEST_DIR"), "/target").into(),
        PathBuf::from,
    );
    let passed = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(64 << 20)
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(scenarios::run_features(dir, &target))
        })
        .expect("a thread")
        .join()
        .expect("the features run does not panic");
    if !passed {
        std::process::exit(1);
    }
}
