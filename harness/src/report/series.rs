//! A run over time: per window, order acknowledgement latency (median, P99, maximum, from the
//! workload's samples placed by their intended send time, so coordinated omission stays
//! corrected) and what the orders came to (acknowledged, refused, unknown, placed by when the
//! client learned it). The HTML report draws it against the fault windows.

use serde::{Deserialize, Serialize};

use crate::history::{History, Op, Outcome};
use crate::workload::Sample;

/// Window lengths to choose from, in ms: the shortest that keeps a run within
/// [`MAX_WINDOWS`].
const WINDOW_MS: [u64; 11] = [
    100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000,
];
/// At most this many windows (a point per window is drawn; more would not be read).
pub const MAX_WINDOWS: u64 = 150;

/// One window of the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Its start, ms since the run started.
    pub start_ms: u64,
    /// Latency samples whose intended send time falls in the window.
    pub samples: u64,
    pub p50_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub max_ns: Option<u64>,
    /// Submissions answered in the window: acknowledged, refused, outcome unknown.
    pub acked: u64,
    pub refused: u64,
    pub unknown: u64,
}

/// The run cut into windows of `window_ms`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub window_ms: u64,
    pub windows: Vec<Window>,
}

fn nearest_rank(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The series of a run from its latency `samples` and its `history`.
pub fn series(samples: &[Sample], history: &History) -> Series {
    let submits = || {
        history
            .operations
            .iter()
            .filter(|o| matches!(o.op, Op::Submit(_)))
    };
    let end_ns = samples
        .iter()
        .map(|s| s.intended_ns)
        .chain(submits().map(|o| o.complete_ns.unwrap_or(o.invoke_ns)))
        .max();
    let Some(end_ns) = end_ns else {
        return Series::default();
    };
    let span_ms = end_ns / 1_000_000 + 1;
    let window_ms = WINDOW_MS
        .into_iter()
        .find(|w| span_ms.div_ceil(*w) <= MAX_WINDOWS)
        .unwrap_or(span_ms.div_ceil(MAX_WINDOWS));
    let n = span_ms.div_ceil(window_ms) as usize;
    let index = |ns: u64| ((ns / 1_000_000 / window_ms) as usize).min(n - 1);
    let mut latencies = vec![Vec::new(); n];
    for s in samples {
        latencies[index(s.intended_ns)].push(s.latency_ns);
    }
    let mut windows: Vec<Window> = (0..n)
        .map(|i| Window {
            start_ms: i as u64 * window_ms,
            ..Window::default()
        })
        .collect();
    for o in submits() {
        let w = &mut windows[index(o.complete_ns.unwrap_or(o.invoke_ns))];
        match o.outcome {
            Outcome::Ok(_) => w.acked += 1,
            Outcome::Fail(_) => w.refused += 1,
            Outcome::Info(_) | Outcome::Pending => w.unknown += 1,
        }
    }
    for (w, mut l) in windows.iter_mut().zip(latencies) {
        if l.is_empty() {
            continue;
        }
        l.sort_unstable();
        w.samples = l.len() as u64;
        w.p50_ns = Some(nearest_rank(&l, 0.5));
        w.p99_ns = Some(nearest_rank(&l, 0.99));
        w.max_ns = l.last().copied();
    }
    Series { window_ms, windows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::synthetic;

    fn sample(at_ms: u64, latency_ms: u64) -> Sample {
        Sample {
            intended_ns: at_ms * 1_000_000,
            latency_ns: latency_ms * 1_000_000,
        }
    }

    #[test]
    fn windows_hold_their_samples_percentiles_and_outcomes() {
        // 100 samples in the first second (1..=100 ms), one slow one in the third.
        let mut samples: Vec<Sample> = (1..=100).map(|i| sample(i * 9, i)).collect();
        samples.push(sample(2_500, 900));
        let s = series(&samples, &History::default());
        assert_eq!(s.window_ms, 100, "2.5 s in windows of 100 ms: 26 windows");
        assert_eq!(s.windows.len(), 26);
        let first = &s.windows[0];
        assert_eq!(
            (first.samples, first.p50_ns, first.max_ns),
            (11, Some(6_000_000), Some(11_000_000))
        );
        let last = s.windows.last().unwrap();
        assert_eq!((last.samples, last.p99_ns), (1, Some(900_000_000)));
        assert!(s.windows[12..25]
            .iter()
            .all(|w| w.samples == 0 && w.p50_ns.is_none()));
    }

    #[test]
    fn every_submission_is_counted_once_by_its_outcome() {
        let (h, _) = synthetic::run(300);
        let s = series(&[], &h);
        assert!(s.windows.len() as u64 <= MAX_WINDOWS);
        let acked: u64 = s.windows.iter().map(|w| w.acked).sum();
        let all: u64 = s
            .windows
            .iter()
            .map(|w| w.acked + w.refused + w.unknown)
            .sum();
        let submits = h
            .operations
            .iter()
            .filter(|o| matches!(o.op, Op::Submit(_)))
            .count() as u64;
        assert_eq!(all, submits);
        assert_eq!(acked, submits, "the synthetic run acknowledges every order");
    }

    #[test]
    fn an_empty_run_has_no_windows() {
        assert_eq!(series(&[], &History::default()), Series::default());
    }
}
