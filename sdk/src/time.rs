//! Times as a model reads them.
//!
//! The workspace API gives times as epoch milliseconds (`created_time`, `start_time`,
//! `modification_time`...). A model reads `2024-03-01 12:00:00 UTC` far more reliably than
//! `1709294400000`, so tool texts show the former; structured output keeps the raw number.
//! No date library is needed: the conversion is Howard Hinnant's civil-from-days algorithm.

/// `epoch_ms` (milliseconds since 1970-01-01 UTC, as the workspace API gives times) formatted as
/// `YYYY-MM-DD HH:MM:SS UTC`. Times before 1970 work too.
///
/// ```
/// assert_eq!(databricks_mcp_sdk::format_time(1_709_294_400_000), "2024-03-01 12:00:00 UTC");
/// ```
pub fn format_time(epoch_ms: i64) -> String {
    let (date, secs) = civil(epoch_ms);
    format!("{date} {:02}:{:02}:{:02} UTC", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Like [`format_time`] to the minute: `YYYY-MM-DD HH:MM UTC`, for listings where seconds are
/// noise (file modification times, secret update times). The seconds are cut, not rounded.
///
/// ```
/// assert_eq!(databricks_mcp_sdk::format_time_minutes(1_709_294_459_999), "2024-03-01 12:00 UTC");
/// ```
pub fn format_time_minutes(epoch_ms: i64) -> String {
    let (date, secs) = civil(epoch_ms);
    format!("{date} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

/// The date `YYYY-MM-DD` of `epoch_ms` and the seconds since that day's midnight.
fn civil(epoch_ms: i64) -> (String, i64) {
    let secs = epoch_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm), valid for the whole proleptic Gregorian range.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (format!("{year:04}-{month:02}-{day:02}"), rem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_millis() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_709_294_400_000), "2024-03-01 12:00:00 UTC");
        assert_eq!(format_time(1_709_294_399_999), "2024-03-01 11:59:59 UTC");
        // Leap day, end of a year, and a time before the epoch.
        assert_eq!(format_time(951_825_600_000), "2000-02-29 12:00:00 UTC");
        assert_eq!(format_time(1_704_067_199_000), "2023-12-31 23:59:59 UTC");
        assert_eq!(format_time(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn formats_to_the_minute() {
        assert_eq!(format_time_minutes(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time_minutes(1_709_294_459_999), "2024-03-01 12:00 UTC");
        assert_eq!(format_time_minutes(1_709_294_460_000), "2024-03-01 12:01 UTC");
    }
}
