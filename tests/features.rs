//! The Gherkin features under `features/`, run by cucumber against real containers, one
//! scenario at a time. An unknown or ambiguous step or a feature that does not parse fails
//! the run with its file and line.

/// Cucumber's futures are deep in a debug build: every thread gets a 64 MiB stack.
fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/features");
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(64 << 20)
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(scenarios::run_features(dir))
        })
        .expect("a thread")
        .join()
        .expect("the features run does not panic");
}
