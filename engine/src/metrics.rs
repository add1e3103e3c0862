//! Prometheus text metrics without a metrics crate: a fixed-bucket histogram of atomics and
//! plain counters, rendered on `/metrics`. Recording is two relaxed atomic adds, cheap enough
//! for the order and tick paths.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Bucket upper bounds in nanoseconds: 1 µs to 60 s (a return held up by a frozen engine or
/// a slow database takes seconds, and a budget of seconds must be judgeable), in steps of
/// 100 µs to 250 µs between 100 µs and 2 ms (the order budget's P99 < 2 ms must be readable
/// from the buckets, and a stage of the order's path is a few hundred µs), finer around the
/// 10 ms trade-return budget.
const BOUNDS_NS: [u64; 38] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    200_000,
    300_000,
    400_000,
    500_000,
    600_000,
    700_000,
    800_000,
    900_000,
    1_000_000,
    1_250_000,
    1_500_000,
    1_750_000,
    2_000_000,
    2_500_000,
    3_000_000,
    4_000_000,
    5_000_000,
    7_500_000,
    10_000_000,
    15_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
    30_000_000_000,
    60_000_000_000,
];

/// A cumulative histogram in nanoseconds.
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS_NS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        if let Some(i) = BOUNDS_NS.iter().position(|b| ns <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, n) in BOUNDS_NS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_ns.load(Relaxed));
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Every metric the engine exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Order request received → acknowledged (validation, risk, durable commit).
    pub order_processing: Histogram,
    /// Market-data snapshot received from the client library → last price applied.
    pub tick_processing: Histogram,
    /// Trade return (`OnRtnTrade`) received → committed with its order, position, account
    /// and outbox rows.
    pub trade_return: Histogram,
    /// Trade return applied → its trade event acknowledged by Kafka (the outbox relay's part
    /// of "committed and published").
    pub trade_publish: Histogram,
    /// One group commit of admitted orders (the statement's round trip and the fsync): the
    /// part of the order latency spent in PostgreSQL.
    pub order_commit: Histogram,
    /// Order request received → handed to the committer (validation, the duplicate check,
    /// risk and the reservation under the book's lock).
    pub order_admission: Histogram,
    /// Handed to the committer → its batch taken (waiting behind the commit in progress).
    pub order_queue: Histogram,
    /// Its batch taken → committed (order ids, the CTP identity, the statement; per order).
    pub order_batch: Histogram,
    /// Committed → the request's task answering (the wake-up of the waiting request).
    pub order_reply: Histogram,
    /// Group commits of admitted orders (orders_processed_total / this = the mean batch).
    pub order_commit_batches: AtomicU64,
    pub orders_processed: AtomicU64,
    pub order_errors: AtomicU64,
    pub returns_applied: AtomicU64,
    pub outbox_published: AtomicU64,
    pub outbox_publish_errors: AtomicU64,
    pub cache_errors: AtomicU64,
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let histograms = [
            (
                &self.order_processing,
                "order_processing_latency_ns",
                "Order request received to acknowledged, nanoseconds.",
            ),
            (
                &self.tick_processing,
                "tick_processing_latency_ns",
                "Market-data snapshot received to applied, nanoseconds.",
            ),
            (
                &self.trade_return,
                "trade_return_latency_ns",
                "Trade return received to committed, nanoseconds.",
            ),
            (
                &self.trade_publish,
                "trade_publish_latency_ns",
                "Trade return applied to its trade event acknowledged by Kafka, nanoseconds.",
            ),
            (
                &self.order_commit,
                "order_commit_latency_ns",
                "One group commit of admitted orders, nanoseconds.",
            ),
            (
                &self.order_admission,
                "order_admission_latency_ns",
                "Order request received to handed to the committer, nanoseconds.",
            ),
            (
                &self.order_queue,
                "order_queue_latency_ns",
                "Order handed to the committer to its batch taken, nanoseconds.",
            ),
            (
                &self.order_batch,
                "order_batch_latency_ns",
                "Order's batch taken to committed, nanoseconds.",
            ),
            (
                &self.order_reply,
                "order_reply_latency_ns",
                "Order committed to its request answered, nanoseconds.",
            ),
        ];
        for (h, name, help) in histograms {
            h.render(&mut out, name, help);
        }
        let counters = [
            (
                "orders_processed_total",
                "Orders acknowledged.",
                &self.orders_processed,
            ),
            (
                "order_commit_batches_total",
                "Group commits of admitted orders.",
                &self.order_commit_batches,
            ),
            (
                "order_errors_total",
                "Order requests refused or failed.",
                &self.order_errors,
            ),
            (
                "exchange_returns_applied_total",
                "Private-flow returns applied.",
                &self.returns_applied,
            ),
            (
                "outbox_published_total",
                "Outbox rows published to Kafka.",
                &self.outbox_published,
            ),
            (
                "outbox_publish_errors_total",
                "Failed Kafka deliveries.",
                &self.outbox_publish_errors,
            ),
            (
                "cache_errors_total",
                "Redis cache writes that failed or were dropped.",
                &self.cache_errors,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Relaxed)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.order_processing.observe(Duration::from_micros(30));
        m.order_processing.observe(Duration::from_millis(3));
        m.order_processing.observe(Duration::from_secs(5));
        let text = m.render();
        assert!(text.contains("order_processing_latency_ns_bucket{le=\"25000\"} 0"));
        assert!(text.contains("order_processing_latency_ns_bucket{le=\"50000\"} 1"));
        assert!(text.contains("order_processing_latency_ns_bucket{le=\"5000000\"} 2"));
        assert!(text.contains("order_processing_latency_ns_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("order_processing_latency_ns_count 3"));
        assert!(text.contains("tick_processing_latency_ns_count 0"));
        assert!(text.contains("orders_processed_total 0"));
    }

    #[test]
    fn the_order_budget_is_readable_from_the_buckets() {
        let m = Metrics::default();
        m.order_queue.observe(Duration::from_micros(250));
        m.order_batch.observe(Duration::from_micros(1_900));
        let text = m.render();
        assert!(text.contains("order_queue_latency_ns_bucket{le=\"200000\"} 0"));
        assert!(text.contains("order_queue_latency_ns_bucket{le=\"300000\"} 1"));
        assert!(text.contains("order_batch_latency_ns_bucket{le=\"1750000\"} 0"));
        assert!(text.contains("order_batch_latency_ns_bucket{le=\"2000000\"} 1"));
        assert!(text.contains("order_admission_latency_ns_count 0"));
        assert!(text.contains("order_reply_latency_ns_count 0"));
    }
}
