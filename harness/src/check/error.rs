//! Why a check could not judge, or a configuration could not be accepted. A misbehaving engine
//! is never an error here: it is an invalid verdict.

/// A check that could not reach a verdict; [`super::run`] turns it into `unknown`.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("judge {check}: {reason}")]
    Judge { check: String, reason: String },
    #[error("build latency histogram")]
    Histogram(#[source] hdrhistogram::CreationError),
}

/// A latency budget that makes no sense.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BudgetError {
    #[error("accept latency budget `{field}`: {value} ms is not a positive duration")]
    NotPositive { field: String, value: f64 },
    #[error("accept latency budget `{field}`: quantile {value} is not in (0, 1]")]
    Quantile { field: String, value: f64 },
}
