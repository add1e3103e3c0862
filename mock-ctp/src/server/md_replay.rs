//! Market-data replay: tick captures from `fixtures/ticks/<InstrumentID>.csv`, published in a
//! loop, round robin across instruments, at a configurable total rate.
//!
//! Known gaps: the capture's own timing is ignored (the rate is uniform); the loop restarts
//! from the first row with the volume kept monotonic.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::shared::Shared;
use crate::error::ServerError;
use crate::protocol::DepthMarketData;

/// Reads every `*.csv` in `dir`, keyed by instrument (the file's stem).
pub fn load_ticks(dir: &Path) -> Result<BTreeMap<String, Vec<DepthMarketData>>, ServerError> {
    let mut out = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(source) => {
            return Err(ServerError::FixtureRead {
                path: dir.into(),
                source,
            })
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let id = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).map_err(|source| ServerError::FixtureRead {
            path: path.clone(),
            source,
        })?;
        let rows = parse_csv(&id, &text).map_err(|message| ServerError::FixtureParse {
            path: path.clone(),
            message,
        })?;
        out.insert(id, rows);
    }
    Ok(out)
}

/// Parses one capture: `UpdateTime,UpdateMillisec,LastPrice,BidPrice1,BidVolume1,AskPrice1,
/// AskVolume1,Volume,OpenInterest` with a header row.
pub fn parse_csv(instrument: &str, text: &str) -> Result<Vec<DepthMarketData>, String> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split(',').map(str::trim).collect();
        if c.len() != 9 {
            return Err(format!(
                "line {}: expected 9 columns, got {}",
                n + 1,
                c.len()
            ));
        }
        let f = |i: usize| {
            c[i].parse::<f64>()
                .map_err(|e| format!("line {}: column {}: {e}", n + 1, i + 1))
        };
        let v = |i: usize| {
            c[i].parse::<i32>()
                .map_err(|e| format!("line {}: column {}: {e}", n + 1, i + 1))
        };
        rows.push(DepthMarketData {
            instrument_id: instrument.to_owned(),
            update_time: c[0].to_owned(),
            update_millisec: v(1)?,
            last_price: f(2)?,
            bid_price1: f(3)?,
            bid_volume1: v(4)?,
            ask_price1: f(5)?,
            ask_volume1: v(6)?,
            volume: v(7)?,
            open_interest: f(8)?,
            ..Default::default()
        });
    }
    Ok(rows)
}

/// Publishes the captures forever at `rate_per_s` snapshots per second in total.
pub async fn replay(
    shared: Arc<Shared>,
    ticks: BTreeMap<String, Vec<DepthMarketData>>,
    rate_per_s: f64,
) {
    if rate_per_s <= 0.0 || ticks.values().all(Vec::is_empty) {
        return;
    }
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate_per_s));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let series: Vec<&Vec<DepthMarketData>> = ticks.values().filter(|v| !v.is_empty()).collect();
    for step in 0usize.. {
        interval.tick().await;
        let s = series[step % series.len()];
        let tick = s[(step / series.len()) % s.len()].clone();
        shared.exchange().apply_tick(tick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_committed_captures() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ticks");
        let ticks = load_ticks(&dir).unwrap();
        assert!(ticks.len() >= 4);
        assert!(ticks["rb2410"].len() >= 100);
        assert!(ticks["rb2410"][0].last_price > 0.0);
    }

    #[test]
    fn rejects_a_short_row() {
        assert!(parse_csv("x", "header\n09:00:00,0,1\n").is_err());
    }
}
