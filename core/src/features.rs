//! The math behind the feature building blocks: time-decayed event counts and sums, engagement
//! velocity, intent keywords, free-mail domains, score decay and log scaling. Times are seconds
//! (any common origin); the SQL layer converts timestamps and intervals.

use crate::core_err;
use crate::CoreResult;

/// Seconds in a day.
pub const DAY: f64 = 86_400.0;
/// A month of `score_decay`, and of an interval's months: 30 days, as Postgres' `extract(epoch
/// FROM interval)` counts a month.
pub const MONTH: f64 = 30.0 * DAY;
/// A year of an interval (12 months): 365.25 days, as Postgres counts it.
pub const YEAR: f64 = 365.25 * DAY;

/// An interval's length in seconds, exactly as `extract(epoch FROM interval)` computes it:
/// whole years of 365.25 days, remaining months of 30 days, days of 24 hours.
pub fn interval_seconds(months: i32, days: i32, micros: i64) -> f64 {
    let years = (months / 12) as f64;
    let rest = (months % 12) as f64;
    years * YEAR + rest * MONTH + days as f64 * DAY + micros as f64 / 1e6
}

/// Checks a half-life or window length: a positive, finite number of seconds.
pub fn positive_duration(seconds: f64, what: &str) -> CoreResult<f64> {
    if seconds.is_finite() && seconds > 0.0 {
        Ok(seconds)
    } else {
        Err(core_err!(InvalidArgument, "{what} must be a positive interval, got {} seconds", seconds))
    }
}

/// Weight of an event `age` seconds before `as_of` with the given half-life: 1 at `as_of`, 1/2
/// one half-life earlier. Events after `as_of` (negative age) weigh 0: no leakage from the future.
pub fn decay_weight(age: f64, half_life: f64) -> f64 {
    if age < 0.0 {
        0.0
    } else {
        // exp, not 0.5.powf: LLVM rewrites pow(0.5, x) as exp2(-x) in optimized builds only,
        // and the two differ in the last bit, so release and debug builds (and the split, which
        // orders rows by their values) would disagree.
        (-(age / half_life) * std::f64::consts::LN_2).exp()
    }
}

/// Where an event falls for `engagement_velocity`: in the recent window `(as_of - window, as_of]`,
/// the window before it `(as_of - 2 window, as_of - window]`, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VelocityWindow {
    Recent,
    Prior,
    Outside,
}

pub fn velocity_window(age: f64, window: f64) -> VelocityWindow {
    if age < 0.0 || age >= 2.0 * window {
        VelocityWindow::Outside
    } else if age < window {
        VelocityWindow::Recent
    } else {
        VelocityWindow::Prior
    }
}

/// Engagement velocity: recent events over prior events, with the prior count taken as at least
/// 1, so a lead with no earlier events gets its recent count (0 with no events at all).
pub fn velocity(recent: f64, prior: f64) -> f64 {
    recent / prior.max(1.0)
}

/// The keywords (in the given order) that occur in `text`, case-insensitively, as substrings.
pub fn intent_flags<'k>(text: &str, keywords: &'k [String]) -> CoreResult<Vec<&'k str>> {
    if keywords.is_empty() {
        return Err(core_err!(InvalidArgument, "keywords must not be empty"));
    }
    if keywords.iter().any(|k| k.trim().is_empty()) {
        return Err(core_err!(InvalidArgument, "keywords must not contain empty strings"));
    }
    let haystack = text.to_lowercase();
    Ok(keywords.iter().filter(|k| haystack.contains(&k.to_lowercase())).map(|k| k.as_str()).collect())
}

/// Free-mail and consumer mailbox domains: an address there says nothing about an employer.
/// Sorted, lower case; extend it when a provider becomes common in your leads.
pub const PERSONAL_EMAIL_DOMAINS: &[&str] = &[
    "aol.com",
    "att.net",
    "bigpond.com",
    "btinternet.com",
    "comcast.net",
    "fastmail.com",
    "free.fr",
    "freenet.de",
    "gmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "googlemail.com",
    "hey.com",
    "hotmail.co.uk",
    "hotmail.com",
    "hotmail.de",
    "hotmail.fr",
    "icloud.com",
    "laposte.net",
    "libero.it",
    "live.com",
    "mac.com",
    "mail.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "naver.com",
    "orange.fr",
    "outlook.com",
    "pm.me",
    "proton.me",
    "protonmail.com",
    "qq.com",
    "rediffmail.com",
    "rocketmail.com",
    "sbcglobal.net",
    "t-online.de",
    "tutanota.com",
    "verizon.net",
    "web.de",
    "yahoo.co.in",
    "yahoo.co.uk",
    "yahoo.com",
    "yahoo.de",
    "yahoo.fr",
    "yandex.com",
    "yandex.ru",
    "ymail.com",
    "zoho.com",
];

/// True when the address's domain is a free-mail provider; `None` when there is no domain.
pub fn is_personal_email(email: &str) -> Option<bool> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return None;
    }
    Some(PERSONAL_EMAIL_DOMAINS.binary_search(&domain.as_str()).is_ok())
}

/// Points that lose `points_per_month` for every month (30 days) without activity before `as_of`,
/// moving toward 0 and never past it. Activity after `as_of` means no decay.
pub fn score_decay(points: f64, inactive_seconds: f64, points_per_month: f64) -> CoreResult<f64> {
    if !points_per_month.is_finite() || points_per_month < 0.0 {
        return Err(core_err!(
            InvalidArgument,
            "points_per_month must be a finite number >= 0, got {}",
            crate::error::sql_float(points_per_month)
        ));
    }
    if !points.is_finite() {
        return Err(core_err!(InvalidArgument, "points must be a finite number, got {}", crate::error::sql_float(points)));
    }
    let lost = points_per_month * inactive_seconds.max(0.0) / MONTH;
    Ok(if points >= 0.0 { (points - lost).max(0.0) } else { (points + lost).min(0.0) })
}

/// Signed log scaling for skewed counts and amounts: sign(x) * ln(1 + |x|), defined for every x.
pub fn log_scale(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_count_like_postgres() {
        assert_eq!(interval_seconds(0, 1, 0), DAY);
        assert_eq!(interval_seconds(1, 0, 0), 30.0 * DAY);
        assert_eq!(interval_seconds(12, 0, 0), 365.25 * DAY);
        assert_eq!(interval_seconds(13, 2, 1_500_000), 365.25 * DAY + 30.0 * DAY + 2.0 * DAY + 1.5);
        assert!(positive_duration(0.0, "half_life").is_err());
        assert!(positive_duration(-DAY, "half_life").is_err());
    }

    #[test]
    fn decay_halves_each_half_life_and_ignores_the_future() {
        assert_eq!(decay_weight(0.0, 7.0), 1.0);
        assert!((decay_weight(14.0, 7.0) - 0.25).abs() < 1e-15);
        assert_eq!(decay_weight(-1.0, 7.0), 0.0);
    }

    #[test]
    fn velocity_windows_and_empty_prior() {
        assert_eq!(velocity_window(0.0, 10.0), VelocityWindow::Recent);
        assert_eq!(velocity_window(9.9, 10.0), VelocityWindow::Recent);
        assert_eq!(velocity_window(10.0, 10.0), VelocityWindow::Prior);
        assert_eq!(velocity_window(20.0, 10.0), VelocityWindow::Outside);
        assert_eq!(velocity_window(-1.0, 10.0), VelocityWindow::Outside);
        assert_eq!(velocity(6.0, 3.0), 2.0);
        assert_eq!(velocity(4.0, 0.0), 4.0);
        assert_eq!(velocity(0.0, 0.0), 0.0);
    }

    #[test]
    fn intent_keywords_case_insensitive() {
        let k = vec!["Pricing".to_string(), "demo".to_string(), "api".to_string()];
        assert_eq!(intent_flags("Asked for a DEMO and pricing", &k).unwrap(), vec!["Pricing", "demo"]);
        assert!(intent_flags("nothing", &k).unwrap().is_empty());
        assert!(intent_flags("x", &[]).is_err());
        assert!(intent_flags("x", &[" ".to_string()]).is_err());
    }

    #[test]
    fn personal_email_domains() {
        let mut sorted = PERSONAL_EMAIL_DOMAINS.to_vec();
        sorted.sort();
        assert_eq!(sorted, PERSONAL_EMAIL_DOMAINS, "the list must stay sorted for binary search");
        assert_eq!(is_personal_email("Ann@GMail.com"), Some(true));
        assert_eq!(is_personal_email("ann@acme.io"), Some(false));
        assert_eq!(is_personal_email("no-domain"), None);
        assert_eq!(is_personal_email("x@"), None);
    }

    #[test]
    fn score_decay_moves_toward_zero() {
        assert_eq!(score_decay(50.0, 2.0 * MONTH, 10.0).unwrap(), 30.0);
        assert_eq!(score_decay(50.0, 12.0 * MONTH, 10.0).unwrap(), 0.0);
        assert_eq!(score_decay(-20.0, MONTH, 5.0).unwrap(), -15.0);
        assert_eq!(score_decay(50.0, -MONTH, 10.0).unwrap(), 50.0);
        assert!(score_decay(50.0, MONTH, -1.0).is_err());
    }

    #[test]
    fn log_scale_is_signed_log1p() {
        assert_eq!(log_scale(0.0), 0.0);
        assert!((log_scale(std::f64::consts::E - 1.0) - 1.0).abs() < 1e-15);
        assert_eq!(log_scale(-3.0), -log_scale(3.0));
    }
}
