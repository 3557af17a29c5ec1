//! Timestamps: RFC 3339 (`2026-12-02T10:15:30Z`, any offset, any fraction)
//! and the classic Twitter API form (`Wed Dec 02 10:15:30 +0000 2026`), to
//! Unix seconds and back to RFC 3339 in UTC.

/// Why a timestamp was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a timestamp: use RFC 3339 (2026-12-02T10:15:30Z) or Twitter's form (Wed Dec 02 10:15:30 +0000 2026)"
)]
pub struct TimeError(pub String);

/// Seconds since 1970-01-01T00:00:00Z of `text`, RFC 3339 or Twitter's form.
pub fn parse(text: &str) -> Result<i64, TimeError> {
    parse_rfc3339(text)
        .or_else(|| parse_twitter(text))
        .ok_or_else(|| TimeError(text.chars().take(64).collect()))
}

/// `seconds` since the epoch as RFC 3339 in UTC, whole seconds.
pub fn format(seconds: i64) -> String {
    cloudevent::time::format_millis(seconds.saturating_mul(1000))
}

/// The minute `seconds` falls in, as seconds since the epoch of its start.
pub fn minute_of(seconds: i64) -> i64 {
    seconds - seconds.rem_euclid(60)
}

fn digits(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (
        digits(text, 0..4)?,
        digits(text, 5..7)?,
        digits(text, 8..10)?,
    );
    let (hour, minute, second) = (
        digits(text, 11..13)?,
        digits(text, 14..16)?,
        digits(text, 17..19)?,
    );
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &fraction[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (h, m) = (digits(rest, 1..3)?, digits(rest, 4..6)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    seconds(year, month, day, hour, minute, second).map(|s| s - offset)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Wed Dec 02 10:15:30 +0000 2026`.
fn parse_twitter(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split(' ').collect();
    let [_weekday, month, day, clock, offset, year] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let clock = clock.as_bytes();
    if clock.len() != 8 || clock[2] != b':' || clock[5] != b':' || offset.len() != 5 {
        return None;
    }
    let clock = std::str::from_utf8(clock).ok()?;
    let sign = match offset.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset = sign * (digits(offset, 1..3)? * 3600 + digits(offset, 3..5)? * 60);
    if day.len() != 2 || year.len() != 4 {
        return None;
    }
    seconds(
        digits(year, 0..4)?,
        month,
        digits(day, 0..2)?,
        digits(clock, 0..2)?,
        digits(clock, 3..5)?,
        digits(clock, 6..8)?,
    )
    .map(|s| s - offset)
}

fn seconds(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> Option<i64> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= month_days[(month - 1) as usize]
        && hour <= 23
        && minute <= 59
        && second <= 60;
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_offsets_and_fractions() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse("2026-12-02T10:15:30Z"), Ok(1_796_206_530));
        assert_eq!(parse("2026-12-02T11:15:30.250+01:00"), Ok(1_796_206_530));
        assert_eq!(parse("2026-12-02 05:15:30-05:00"), Ok(1_796_206_530));
        assert_eq!(format(1_796_206_530), "2026-12-02T10:15:30Z");
    }

    #[test]
    fn twitter_form() {
        assert_eq!(parse("Wed Dec 02 10:15:30 +0000 2026"), Ok(1_796_206_530));
        assert_eq!(parse("Wed Dec 02 12:15:30 +0200 2026"), Ok(1_796_206_530));
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            "",
            "yesterday",
            "2026-02-30T00:00:00Z",
            "2026-12-02T24:00:00Z",
            "2026-12-02T10:15:30",
            "2026-12-02T10:15:30+1:00",
            "Wed Foo 02 10:15:30 +0000 2026",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_round_trip_over_centuries() {
        // RFC 3339 years, 0000 to 9999.
        for days in (-719_528..2_932_897).step_by(997) {
            let seconds = days * 86_400 + 45_296;
            assert_eq!(parse(&format(seconds)), Ok(seconds), "{}", format(seconds));
        }
        assert_eq!(format(minute_of(1_796_206_530)), "2026-12-02T10:15:00Z");
    }
}
