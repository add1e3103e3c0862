//! The Gherkin features under `features/`, run by cucumber against real containers, one
//! scenario at a time. An unknown or ambiguous step or a feature that does not parse fails
//! the run with its file and line.

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/features");
    scenarios::run_features(dir).await;
}
