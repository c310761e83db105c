//! Date and timestamp features: a lead's date column becomes the days between it and the
//! model's as-of time, plus its day of week. Times are seconds since 1970-01-01 UTC (what
//! Postgres' `extract(epoch FROM ...)` gives), so training and scoring read them the same way.

pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// Day names in the order of [`day_of_week`] (ISO: Monday first).
pub const DAY_NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Day of week in UTC, 0 = Monday ... 6 = Sunday.
pub fn day_of_week(epoch_seconds: f64) -> usize {
    let days = (epoch_seconds / SECONDS_PER_DAY).floor() as i64;
    // 1970-01-01 was a Thursday (index 3).
    (days + 3).rem_euclid(7) as usize
}

/// Days from `epoch_seconds` to `as_of` (positive for a time before as-of).
pub fn days_before(epoch_seconds: f64, as_of: f64) -> f64 {
    (as_of - epoch_seconds) / SECONDS_PER_DAY
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01 (Hinnant's civil_from_days).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// ISO 8601 text of a time: "2025-03-01" at midnight UTC, else "2025-03-01T10:30:00Z".
pub fn format_timestamp(epoch_seconds: f64) -> String {
    let days = (epoch_seconds / SECONDS_PER_DAY).floor();
    let (y, m, d) = civil_from_days(days as i64);
    let secs = (epoch_seconds - days * SECONDS_PER_DAY).round() as i64;
    if secs == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn number(s: &str, digits: std::ops::RangeInclusive<usize>) -> Option<i64> {
    (digits.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// Parses the ISO 8601 forms Postgres and JSON use for dates and timestamps:
/// `2025-03-01`, `2025-03-01 10:30`, `2025-03-01T10:30:00.5`, with an optional `Z`, `+02`,
/// `+05:30` or `-0800` offset (without one, the time is taken as UTC, like a `timestamp`
/// column read with `extract(epoch ...)`). Returns seconds since 1970-01-01 UTC.
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, rest) = if text.len() > 10 { text.split_at(10) } else { (text, "") };
    let mut parts = date.split('-');
    let y = number(parts.next()?, 4..=4)?;
    let m = number(parts.next()?, 2..=2)?;
    let d = number(parts.next()?, 2..=2)?;
    if parts.next().is_some() || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut seconds = days_from_civil(y, m, d) as f64 * SECONDS_PER_DAY;
    if rest.is_empty() {
        return Some(seconds);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    // Split the clock from the offset: the offset starts at Z, + or - after the clock.
    let offset_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, offset) = rest.split_at(offset_at);
    let mut hms = clock.trim_end().split(':');
    let h = number(hms.next()?, 2..=2)?;
    let min = number(hms.next()?, 2..=2)?;
    let sec: f64 = match hms.next() {
        None => 0.0,
        Some(s) => {
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            let whole = number(whole, 2..=2)? as f64;
            let frac =
                if frac.is_empty() { 0.0 } else { format!("0.{}", number(frac, 1..=9).map(|_| frac)?).parse::<f64>().ok()? };
            whole + frac
        }
    };
    if hms.next().is_some() || h > 24 || min > 59 || sec >= 61.0 {
        return None;
    }
    seconds += (h * 3600 + min * 60) as f64 + sec;
    let offset = offset.trim();
    if !offset.is_empty() && offset != "Z" && offset != "z" {
        let sign = if offset.starts_with('-') { -1.0 } else { 1.0 };
        let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
        let (oh, om) = match digits.len() {
            2 => (number(&digits, 2..=2)?, 0),
            4 => (number(&digits[..2], 2..=2)?, number(&digits[2..], 2..=2)?),
            _ => return None,
        };
        seconds -= sign * (oh * 3600 + om * 60) as f64;
    }
    Some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_timestamps_as_postgres_epoch() {
        // Values from SELECT extract(epoch FROM ...) in Postgres.
        assert_eq!(parse_timestamp("1970-01-01"), Some(0.0));
        assert_eq!(parse_timestamp("2025-03-01"), Some(1_740_787_200.0));
        assert_eq!(parse_timestamp("2025-03-01 10:30"), Some(1_740_825_000.0));
        assert_eq!(parse_timestamp("2025-03-01T10:30:00Z"), Some(1_740_825_000.0));
        assert_eq!(parse_timestamp("2025-03-01T12:30:00+02:00"), Some(1_740_825_000.0));
        assert_eq!(parse_timestamp("2025-03-01 05:00:00-0530"), Some(1_740_825_000.0));
        assert_eq!(parse_timestamp("2025-03-01 10:30:00.25+00"), Some(1_740_825_000.25));
        assert_eq!(parse_timestamp("2024-02-29"), Some(1_709_164_800.0));
        assert_eq!(parse_timestamp("1969-12-31"), Some(-86_400.0));
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for bad in [
            "",
            "2025-02-30",
            "2023-02-29",
            "2025-13-01",
            "25-03-01",
            "2025/03/01",
            "yesterday",
            "2025-03-01 25",
            "2025-03-01T10:30+1",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn day_of_week_is_iso_in_utc() {
        assert_eq!(DAY_NAMES[day_of_week(0.0)], "Thursday");
        assert_eq!(DAY_NAMES[day_of_week(parse_timestamp("2025-03-01").unwrap())], "Saturday");
        assert_eq!(DAY_NAMES[day_of_week(parse_timestamp("2025-03-03 23:59").unwrap())], "Monday");
        assert_eq!(DAY_NAMES[day_of_week(-1.0)], "Wednesday");
        assert_eq!(days_before(0.0, 2.0 * SECONDS_PER_DAY), 2.0);
    }

    #[test]
    fn formatting_round_trips() {
        for text in ["2025-03-01", "2024-02-29T23:59:59Z", "1969-12-31T12:00:00Z", "2000-01-01"] {
            assert_eq!(format_timestamp(parse_timestamp(text).unwrap()), text);
        }
    }
}
