//! Tick-processing and trade-return latency per phase, from the engine's own Prometheus
//! histograms (`tick_processing_latency_ns`, `trade_return_latency_ns` on `/metrics`): the
//! harness cannot time either from outside, since a tick and a trade return start inside the
//! platform. A sampler scrapes `/metrics` every [`SCRAPE_EVERY`] during a run; the counts that
//! grew between two scrapes belong to the phase (before, during or after a fault) of the later
//! scrape's time on the history's clock, so a phase boundary is placed to within one interval.
//! The first scrape is the baseline: what the engine recorded before the run is not counted.
//!
//! Within a bucket the samples are taken as spread evenly between its bounds, as Prometheus's
//! `histogram_quantile` does; a sample above the last finite bound counts as an hour, so it
//! misses any budget. An engine restarted under a fault starts its counters again from zero:
//! a count that went down is read as a restart, and the new counts are all new samples. A
//! scrape that fails (the engine killed or paused) is skipped.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::history::{Phase, Timeline};

/// How often the engine's metrics are scraped during a run.
pub const SCRAPE_EVERY: Duration = Duration::from_millis(250);

/// The engine's histogram of tick processing.
pub const TICK: &str = "tick_processing_latency_ns";
/// The engine's histogram of trade returns (exchange return received → committed).
pub const TRADE_RETURN: &str = "trade_return_latency_ns";

/// Where a sample past the last finite bucket is recorded: an hour, the histograms' top.
const OVERFLOW_NS: u64 = 3_600_000_000_000;

/// At most this many points stand for one bucket's samples (each weighted).
const SPREAD: u64 = 32;

/// The cumulative buckets of one histogram: (upper bound in ns, count), `+Inf` last as `None`.
pub type Buckets = Vec<(Option<u64>, u64)>;

/// One scrape: when (ns on the history's clock) and the buckets of each histogram read.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrape {
    pub at_ns: u64,
    pub histograms: BTreeMap<String, Buckets>,
}

/// Reads the histograms `names` from a Prometheus text exposition.
pub fn parse(text: &str, names: &[&str]) -> Result<BTreeMap<String, Buckets>, String> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .map_err(|e| format!("the metrics text does not parse: {e}"))?;
    let mut out = BTreeMap::new();
    for s in scrape.samples {
        if !names.contains(&s.metric.as_str()) {
            continue;
        }
        let prometheus_parse::Value::Histogram(counts) = s.value else {
            return Err(format!("{} is not a histogram", s.metric));
        };
        let mut buckets: Buckets = counts
            .iter()
            .map(|c| {
                let bound = c.less_than.is_finite().then(|| c.less_than.max(0.0) as u64);
                (bound, c.count.max(0.0) as u64)
            })
            .collect();
        buckets.sort_by_key(|(b, _)| b.unwrap_or(u64::MAX));
        out.insert(s.metric, buckets);
    }
    Ok(out)
}

/// The samples each bucket gained from `prev` to `now` (non-cumulative), with the bucket's
/// lower and upper bound; a restart (any count lower than before) counts `now` from zero.
fn gained(prev: &Buckets, now: &Buckets) -> Vec<(u64, Option<u64>, u64)> {
    let restarted = prev.len() != now.len() || prev.iter().zip(now).any(|((_, a), (_, b))| b < a);
    let mut out = Vec::with_capacity(now.len());
    let (mut lower, mut below_now, mut below_prev) = (0u64, 0u64, 0u64);
    for (i, (bound, cum)) in now.iter().enumerate() {
        let prev_cum = if restarted { 0 } else { prev[i].1 };
        let n = (cum - below_now).saturating_sub(prev_cum.saturating_sub(below_prev));
        if n > 0 {
            out.push((lower, *bound, n));
        }
        below_now = *cum;
        below_prev = prev_cum;
        lower = bound.unwrap_or(lower);
    }
    out
}

fn empty() -> Histogram<u64> {
    Histogram::new_with_bounds(1, OVERFLOW_NS, 3).expect("static histogram bounds are valid")
}

/// Records `n` samples spread evenly over (lower, upper].
fn spread(h: &mut Histogram<u64>, lower: u64, upper: Option<u64>, n: u64) {
    let Some(upper) = upper else {
        h.saturating_record_n(OVERFLOW_NS, n);
        return;
    };
    let points = n.min(SPREAD);
    let width = upper.saturating_sub(lower);
    for k in 0..points {
        let weight = n / points + u64::from(k < n % points);
        // The midpoint of the k-th of `points` equal parts of the bucket.
        let v = lower + width * (2 * k + 1) / (2 * points);
        h.saturating_record_n(v.max(1), weight);
    }
}

/// The histogram `name` per phase of `timeline`, from consecutive scrapes.
pub fn per_phase(
    scrapes: &[Scrape],
    name: &str,
    timeline: &Timeline,
) -> BTreeMap<Phase, Histogram<u64>> {
    let mut out: BTreeMap<Phase, Histogram<u64>> = BTreeMap::new();
    let mut prev: Option<&Buckets> = None;
    for s in scrapes {
        let Some(now) = s.histograms.get(name) else {
            continue;
        };
        let Some(before) = prev.replace(now) else {
            continue; // the baseline
        };
        let gains = gained(before, now);
        if !gains.is_empty() {
            let h = out.entry(timeline.phase_at(s.at_ns)).or_insert_with(empty);
            for (lower, upper, n) in gains {
                spread(h, lower, upper, n);
            }
        }
    }
    out
}

/// Scrapes the engine's `/metrics` until stopped; [`Sampler::stop`] returns every scrape. A
/// sampler dropped without `stop` ends its task too (its stop channel closes).
#[derive(Debug)]
pub struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<Scrape>>,
}

impl Sampler {
    /// Starts scraping `metrics_url`, stamping each scrape with `now_ns` (the history's clock).
    /// The first scrape is the baseline the run's samples are counted from.
    pub fn start(
        metrics_url: String,
        now_ns: impl Fn() -> u64 + Send + 'static,
        limit: Duration,
    ) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_millis(500))
                .build()
                .expect("a plain reqwest client builds");
            let mut scrapes = Vec::new();
            let started = tokio::time::Instant::now();
            let mut every = tokio::time::interval(SCRAPE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let last = tokio::select! {
                    _ = every.tick() => false,
                    _ = stopped.changed() => true,
                };
                if let Some(histograms) = scrape(&http, &metrics_url).await {
                    scrapes.push(Scrape {
                        at_ns: now_ns(),
                        histograms,
                    });
                }
                // Bounded in time whatever the caller does.
                if last || started.elapsed() > limit {
                    break;
                }
            }
            scrapes
        });
        Self { stop, task }
    }

    /// Takes a last scrape and returns them all.
    pub async fn stop(self) -> Vec<Scrape> {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_default()
    }
}

async fn scrape(http: &reqwest::Client, url: &str) -> Option<BTreeMap<String, Buckets>> {
    let text = http.get(url).send().await.ok()?.text().await.ok()?;
    match parse(&text, &[TICK, TRADE_RETURN]) {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::warn!(url, error = %e, "engine metrics not read");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::FaultAction;

    fn text(tick: &[(u64, u64)], inf: u64) -> String {
        let mut s = format!("# HELP {TICK} t\n# TYPE {TICK} histogram\n");
        for (b, c) in tick {
            s.push_str(&format!("{TICK}_bucket{{le=\"{b}\"}} {c}\n"));
        }
        s.push_str(&format!(
            "{TICK}_bucket{{le=\"+Inf\"}} {inf}\n{TICK}_sum 0\n{TICK}_count {inf}\n"
        ));
        s.push_str("# HELP orders_processed_total o\n# TYPE orders_processed_total counter\norders_processed_total 7\n");
        s
    }

    fn scrape_at(at_ns: u64, t: &str) -> Scrape {
        Scrape {
            at_ns,
            histograms: parse(t, &[TICK, TRADE_RETURN]).unwrap(),
        }
    }

    #[test]
    fn buckets_are_read_cumulative_with_inf_last() {
        let h = parse(&text(&[(1000, 2), (5000, 5)], 6), &[TICK]).unwrap();
        assert_eq!(h[TICK], vec![(Some(1000), 2), (Some(5000), 5), (None, 6)]);
        // An engine that exposes no such histogram gives no samples, never made-up ones.
        assert!(parse("not metrics {", &[TICK]).unwrap().is_empty());
    }

    #[test]
    fn gains_between_scrapes_land_in_the_later_scrapes_phase() {
        let timeline = Timeline::from_events([
            (
                1_000,
                FaultAction::Inject,
                "latency".into(),
                "postgres".into(),
            ),
            (
                2_000,
                FaultAction::Heal,
                "latency".into(),
                "postgres".into(),
            ),
        ]);
        let scrapes = [
            scrape_at(0, &text(&[(1000, 10), (5000, 10)], 10)),
            scrape_at(500, &text(&[(1000, 110), (5000, 110)], 110)),
            scrape_at(1_500, &text(&[(1000, 110), (5000, 130)], 140)),
            scrape_at(2_500, &text(&[(1000, 150), (5000, 170)], 200)),
        ];
        let h = per_phase(&scrapes, TICK, &timeline);
        // The baseline's 10 samples came before the run: counted in no phase.
        assert_eq!(h[&Phase::Before].len(), 100);
        assert!(h[&Phase::Before].value_at_quantile(0.5) <= 1_000);
        assert_eq!(h[&Phase::During].len(), 30);
        assert!(h[&Phase::During].value_at_quantile(0.99) >= OVERFLOW_NS / 2);
        let p50_during = h[&Phase::During].value_at_quantile(0.5);
        assert!((1_000..=5_000).contains(&p50_during), "{p50_during}");
        assert_eq!(h[&Phase::After].len(), 40 + 20);
    }

    #[test]
    fn a_restarted_engine_counts_from_zero() {
        let timeline = Timeline::default();
        let scrapes = [
            scrape_at(0, &text(&[(1000, 50)], 50)),
            scrape_at(10, &text(&[(1000, 70)], 70)),
            scrape_at(20, &text(&[(1000, 5)], 5)),
        ];
        let h = per_phase(&scrapes, TICK, &timeline);
        assert_eq!(h[&Phase::Before].len(), 20 + 5);
    }
}
