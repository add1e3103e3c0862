//! Instruction counts of the hot paths (`perf::hot`) under valgrind's callgrind, through
//! gungraun: repeatable whatever else the machine does. Setup is not counted. Run by
//! `harness perf-gate --tier 1`, which compares them with `perf/baselines/tier1.json`; run
//! alone with `cargo bench -p perf --bench hot_paths_icount` (needs valgrind and
//! gungraun-runner, which `scripts/bootstrap` installs).

use gungraun::{library_benchmark, library_benchmark_group, main, LibraryBenchmarkConfig};
use perf::hot;
use std::hint::black_box;

#[library_benchmark]
#[bench::engine_admission(setup = hot::admission_setup)]
fn engine_admission(a: hot::Admission) -> f64 {
    black_box(hot::admission_run(&a))
}

#[library_benchmark]
#[bench::ctp_codec(setup = hot::codec_setup)]
fn ctp_codec(frames: Vec<mock_ctp::protocol::Message>) -> usize {
    black_box(hot::codec_run(&frames))
}

#[library_benchmark]
#[bench::ctp_matching(setup = hot::matching_setup)]
fn ctp_matching(
    state: (
        mock_ctp::exchange::Exchange,
        mock_ctp::exchange::SessionCtx,
        Vec<mock_ctp::protocol::InputOrder>,
    ),
) -> usize {
    black_box(hot::matching_run(state))
}

#[library_benchmark]
#[bench::workload_planner(setup = hot::planner_setup)]
fn workload_planner(
    input: (
        harness::workload::WorkloadSpec,
        Vec<harness::workload::Tradable>,
    ),
) -> usize {
    black_box(hot::planner_run(input))
}

#[library_benchmark]
#[bench::checkers(setup = hot::checkers_setup)]
fn checkers(run: (harness::history::History, harness::check::Observations)) -> usize {
    black_box(hot::checkers_run(&run))
}

library_benchmark_group!(
    name = hot_paths;
    benchmarks = engine_admission, ctp_codec, ctp_matching, workload_planner, checkers
);

main!(
    config = LibraryBenchmarkConfig::default().pass_through_env(hot::INJECT_ENV);
    library_benchmark_groups = hot_paths
);
