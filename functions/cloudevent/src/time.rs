//! Writing the `time` attribute: Unix time as RFC 3339 in UTC.

/// `millis` since the Unix epoch as RFC 3339 in UTC:
/// `2026-12-02T10:15:30Z`, or `2026-12-02T10:15:30.250Z` when the
/// milliseconds are not zero.
pub fn format_millis(millis: i64) -> String {
    let seconds = millis.div_euclid(1000);
    let fraction = millis.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let clock = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    if fraction == 0 {
        format!("{clock}Z")
    } else {
        format!("{clock}.{fraction:03}Z")
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_millis(1_796_206_530_000), "2026-12-02T10:15:30Z");
        assert_eq!(format_millis(1_796_206_530_250), "2026-12-02T10:15:30.250Z");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_millis(-1), "1969-12-31T23:59:59.999Z");
        assert!(super::super::is_rfc3339(&format_millis(1_796_206_530_250)));
    }
}
