//! Feature building blocks in SQL, all PARALLEL SAFE. Aggregates over event rows
//! (`decayed_count`, `decayed_sum`, `engagement_velocity`) keep running sums in a float8[]
//! state with an element-wise combine function, so parallel workers (and Citus) can run them.
//! Rows with a NULL timestamp (or value) are skipped, events after `as_of` are ignored, and a
//! NULL `as_of`, half-life or window is an error. The scalars (`intent_flags`,
//! `is_personal_email`, `score_decay`, `log_scale`) are IMMUTABLE and STRICT.

use pgrx::prelude::*;

use crate::core::features;
use crate::errors::{core_ok, invalid, required};

/// Seconds since 2000-01-01 of a finite timestamp; infinite ones are an error naming the argument.
fn epoch_seconds(ts: TimestampWithTimeZone, what: &str) -> f64 {
    if !ts.is_finite() {
        invalid(format!("{what} must be a finite timestamp"));
    }
    let micros: pg_sys::TimestampTz = ts.into();
    micros as f64 / 1e6
}

fn duration(i: Option<Interval>, what: &str) -> f64 {
    let i = required(i, what);
    core_ok(features::positive_duration(features::interval_seconds(i.months(), i.days(), i.micros()), what))
}

/// The age of an event at `as_of` in seconds, or None for a NULL or infinite event time.
fn event_age(ts: Option<TimestampWithTimeZone>, as_of: Option<TimestampWithTimeZone>) -> Option<f64> {
    let as_of = epoch_seconds(required(as_of, "as_of"), "as_of");
    let ts = ts.filter(|t| t.is_finite())?;
    Some(as_of - epoch_seconds(ts, "event time"))
}

/// State function of `decayed_count`: adds the event's weight 0.5^(age / half_life).
#[pg_extern(immutable, parallel_safe)]
fn decayed_count_accum(
    mut state: Vec<f64>,
    ts: Option<TimestampWithTimeZone>,
    as_of: Option<TimestampWithTimeZone>,
    half_life: Option<Interval>,
) -> Vec<f64> {
    let half_life = duration(half_life, "half_life");
    if let Some(age) = event_age(ts, as_of) {
        state[0] += features::decay_weight(age, half_life);
    }
    state
}

/// State function of `decayed_sum`: adds value x 0.5^(age / half_life).
#[pg_extern(immutable, parallel_safe)]
fn decayed_sum_accum(
    mut state: Vec<f64>,
    value: Option<f64>,
    ts: Option<TimestampWithTimeZone>,
    as_of: Option<TimestampWithTimeZone>,
    half_life: Option<Interval>,
) -> Vec<f64> {
    let half_life = duration(half_life, "half_life");
    let age = event_age(ts, as_of);
    if let (Some(v), Some(age)) = (value, age) {
        if !v.is_finite() {
            invalid(format!("decayed_sum value {} is not a finite number", crate::core::error::sql_float(v)));
        }
        state[0] += v * features::decay_weight(age, half_life);
    }
    state
}

/// State function of `engagement_velocity`: counts events in the recent and the prior window.
#[pg_extern(immutable, parallel_safe)]
fn engagement_velocity_accum(
    mut state: Vec<f64>,
    ts: Option<TimestampWithTimeZone>,
    as_of: Option<TimestampWithTimeZone>,
    window_length: Option<Interval>,
) -> Vec<f64> {
    let window = duration(window_length, "window");
    if let Some(age) = event_age(ts, as_of) {
        match features::velocity_window(age, window) {
            features::VelocityWindow::Recent => state[0] += 1.0,
            features::VelocityWindow::Prior => state[1] += 1.0,
            features::VelocityWindow::Outside => {}
        }
    }
    state
}

/// Combine function of the feature aggregates: element-wise sum of two workers' states.
#[pg_extern(immutable, parallel_safe, strict)]
fn feature_sums_combine(a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    a.iter().zip(&b).map(|(x, y)| x + y).collect()
}

/// Final function of `decayed_count` and `decayed_sum`: the weighted sum (0 without events).
#[pg_extern(immutable, parallel_safe, strict)]
fn decayed_final(state: Vec<f64>) -> f64 {
    state[0]
}

/// Final function of `engagement_velocity`: recent / max(prior, 1).
#[pg_extern(immutable, parallel_safe, strict)]
fn engagement_velocity_final(state: Vec<f64>) -> f64 {
    features::velocity(state[0], state[1])
}

/// The keywords that occur in `text` (case-insensitive substrings), in the order given; an
/// empty array when none do. `cardinality(intent_flags(...))` counts them.
#[pg_extern(immutable, parallel_safe, strict)]
fn intent_flags(text: &str, keywords: Vec<Option<String>>) -> Vec<String> {
    let keywords: Vec<String> =
        keywords.into_iter().map(|k| k.unwrap_or_else(|| invalid("keywords must not contain NULL"))).collect();
    core_ok(features::intent_flags(text, &keywords)).into_iter().map(str::to_string).collect()
}

/// True when the email's domain is a free-mail provider (gmail.com, outlook.com, ...); NULL for
/// a value without a domain.
#[pg_extern(immutable, parallel_safe, strict)]
fn is_personal_email(email: &str) -> Option<bool> {
    features::is_personal_email(email)
}

/// `points` minus `points_per_month` for each 30 days from `last_activity` to `as_of`, toward 0
/// and never past it.
#[pg_extern(immutable, parallel_safe, strict)]
fn score_decay(points: f64, last_activity: TimestampWithTimeZone, as_of: TimestampWithTimeZone, points_per_month: f64) -> f64 {
    let inactive = epoch_seconds(as_of, "as_of") - epoch_seconds(last_activity, "last_activity");
    core_ok(features::score_decay(points, inactive, points_per_month))
}

/// sign(x) * ln(1 + |x|): log scaling for skewed counts and amounts, defined for every x.
#[pg_extern(immutable, parallel_safe, strict)]
fn log_scale(x: f64) -> f64 {
    if !x.is_finite() {
        invalid(format!("log_scale argument {} is not a finite number", crate::core::error::sql_float(x)));
    }
    features::log_scale(x)
}

pgrx::extension_sql!(
    r#"
CREATE AGGREGATE decayed_count(ts timestamptz, as_of timestamptz, half_life interval) (
    SFUNC = decayed_count_accum, STYPE = float8[], INITCOND = '{0}', FINALFUNC = decayed_final,
    COMBINEFUNC = feature_sums_combine, PARALLEL = SAFE);
CREATE AGGREGATE decayed_sum(value float8, ts timestamptz, as_of timestamptz, half_life interval) (
    SFUNC = decayed_sum_accum, STYPE = float8[], INITCOND = '{0}', FINALFUNC = decayed_final,
    COMBINEFUNC = feature_sums_combine, PARALLEL = SAFE);
CREATE AGGREGATE engagement_velocity(ts timestamptz, as_of timestamptz, "window" interval) (
    SFUNC = engagement_velocity_accum, STYPE = float8[], INITCOND = '{0,0}',
    FINALFUNC = engagement_velocity_final, COMBINEFUNC = feature_sums_combine, PARALLEL = SAFE);
"#,
    name = "feature_aggregates",
    requires = [
        decayed_count_accum,
        decayed_sum_accum,
        engagement_velocity_accum,
        feature_sums_combine,
        decayed_final,
        engagement_velocity_final
    ]
);
