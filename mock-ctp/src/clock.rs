//! Wall-clock strings in CTP's formats (China Standard Time, UTC+8), without a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

const CST_OFFSET_S: u64 = 8 * 3600;

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// `HH:MM:SS` in China Standard Time.
pub fn hms(us: u64) -> String {
    let s = (us / 1_000_000 + CST_OFFSET_S) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

/// `YYYYMMDD` in China Standard Time.
pub fn ymd(us: u64) -> String {
    let days = ((us / 1_000_000 + CST_OFFSET_S) / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}")
}

/// Howard Hinnant's days-to-civil conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_china_standard_time() {
        // 2024-01-25T15:33:20Z is 23:33:20 on the 25th in Shanghai.
        let us = 1_706_196_800_000_000;
        assert_eq!(hms(us), "23:33:20");
        assert_eq!(ymd(us), "20240125");
        assert_eq!(ymd(0), "19700101");
    }
}
