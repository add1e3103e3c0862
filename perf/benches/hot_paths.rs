//! Wall time of the hot paths (`perf::hot`) under criterion: what a developer reads while
//! optimising. The pipeline's gate judges their instruction counts instead
//! (`hot_paths_icount`, `harness perf-gate --tier 1`): wall time on a shared machine is noise.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use perf::hot;
use std::hint::black_box;

fn hot_paths(c: &mut Criterion) {
    let mut g = c.benchmark_group("hot_paths");
    g.sample_size(20);
    let admission = hot::admission_setup();
    g.bench_function("engine_admission", |b| {
        b.iter(|| hot::admission_run(black_box(&admission)))
    });
    let frames = hot::codec_setup();
    g.bench_function("ctp_codec", |b| {
        b.iter(|| hot::codec_run(black_box(&frames)))
    });
    g.bench_function("ctp_matching", |b| {
        b.iter_batched(
            hot::matching_setup,
            hot::matching_run,
            BatchSize::LargeInput,
        )
    });
    g.bench_function("workload_planner", |b| {
        b.iter_batched(hot::planner_setup, hot::planner_run, BatchSize::LargeInput)
    });
    let run = hot::checkers_setup();
    g.bench_function("checkers", |b| {
        b.iter(|| hot::checkers_run(black_box(&run)))
    });
    g.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
