//! Summaries of repeated measurements: the median of the runs and their spread, the form
//! every figure of a noisy shared machine is quoted in.

/// The median and the range of a set of runs' values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// `None` for no values.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Spread {
        median,
        min: v[0],
        max: v[n - 1],
    })
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} [{:.0}..{:.0}]", self.median, self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_odd_and_an_even_count() {
        assert_eq!(spread(&[5.0, 1.0, 3.0]).map(|s| s.median), Some(3.0));
        assert_eq!(spread(&[4.0, 1.0, 3.0, 2.0]).map(|s| s.median), Some(2.5));
        let s = spread(&[4.0, 1.0, 3.0]).expect("values");
        assert_eq!((s.min, s.max), (1.0, 4.0));
    }

    #[test]
    fn no_values_no_spread() {
        assert_eq!(spread(&[]), None);
    }
}
