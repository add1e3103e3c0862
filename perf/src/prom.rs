//! Reading the engine's Prometheus text: a histogram's buckets at one moment, the difference
//! of two such snapshots (what one round of a benchmark added), and a quantile's bucket.

use std::collections::BTreeMap;

/// The cumulative buckets (upper bound in ns, count) of every histogram in one exposition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    histograms: BTreeMap<String, Vec<(f64, f64)>>,
    counters: BTreeMap<String, f64>,
}

impl Snapshot {
    /// Parses an exposition with `prometheus-parse` (as the harness's own sampler does);
    /// summaries and gauges are left out.
    pub fn parse(text: &str) -> Result<Self, String> {
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .map_err(|e| format!("the metrics text does not parse: {e}"))?;
        let mut s = Self::default();
        for sample in scrape.samples {
            match sample.value {
                prometheus_parse::Value::Histogram(counts) => {
                    let mut buckets: Vec<(f64, f64)> =
                        counts.iter().map(|c| (c.less_than, c.count)).collect();
                    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                    s.histograms.insert(sample.metric, buckets);
                }
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => {
                    s.counters.insert(sample.metric, v);
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let histograms = self
            .histograms
            .iter()
            .map(|(name, buckets)| {
                let before = earlier.histograms.get(name);
                let diff = buckets
                    .iter()
                    .enumerate()
                    .map(|(i, (le, c))| {
                        let b = before.and_then(|b| b.get(i)).map_or(0.0, |x| x.1);
                        (*le, c - b)
                    })
                    .collect();
                (name.clone(), diff)
            })
            .collect();
        let counters = self
            .counters
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v - earlier.counters.get(k).copied().unwrap_or(0.0),
                )
            })
            .collect();
        Snapshot {
            histograms,
            counters,
        }
    }

    /// The upper bound, in µs, of the bucket holding quantile `q` of histogram `name`
    /// (`None` when it is empty or absent).
    pub fn quantile_us(&self, name: &str, q: f64) -> Option<f64> {
        let buckets = self.histograms.get(name)?;
        let total = buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        buckets
            .iter()
            .find(|(_, c)| *c >= total * q)
            .map(|(le, _)| le / 1_000.0)
    }

    /// How many observations histogram `name` holds.
    pub fn count(&self, name: &str) -> f64 {
        self.histograms
            .get(name)
            .and_then(|b| b.last())
            .map_or(0.0, |b| b.1)
    }

    /// A counter's value.
    pub fn counter(&self, name: &str) -> Option<f64> {
        self.counters.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "# HELP x_ns X.\n# TYPE x_ns histogram\n\
        x_ns_bucket{le=\"1000\"} 1\nx_ns_bucket{le=\"2000\"} 2\nx_ns_bucket{le=\"+Inf\"} 2\n\
        x_ns_sum 3000\nx_ns_count 2\n# TYPE orders_total counter\norders_total 2\n";
    const AFTER: &str =
        "# TYPE x_ns histogram\nx_ns_bucket{le=\"1000\"} 1\nx_ns_bucket{le=\"2000\"} 5\n\
        x_ns_bucket{le=\"+Inf\"} 12\nx_ns_sum 9000\nx_ns_count 12\n\
        # TYPE orders_total counter\norders_total 12\n";

    #[test]
    fn a_round_is_the_difference_of_two_snapshots() {
        let round = Snapshot::parse(AFTER)
            .expect("parses")
            .since(&Snapshot::parse(BEFORE).expect("parses"));
        assert_eq!(round.count("x_ns"), 10.0);
        assert_eq!(round.quantile_us("x_ns", 0.25), Some(2.0));
        assert_eq!(round.quantile_us("x_ns", 0.5), Some(f64::INFINITY));
        assert_eq!(round.counter("orders_total"), Some(10.0));
    }

    #[test]
    fn an_empty_histogram_has_no_quantile() {
        let before = Snapshot::parse(BEFORE).expect("parses");
        let s = before.since(&before);
        assert_eq!(s.quantile_us("x_ns", 0.5), None);
        assert_eq!(s.quantile_us("absent", 0.5), None);
    }
}
