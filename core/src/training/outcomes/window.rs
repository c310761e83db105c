//! Label maturity (`mature_after`) and the data cut-off (`since`), both read from
//! `created_column`: times are seconds since 1970-01-01 UTC, as date features are read.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core_err;
use crate::data::parse_timestamp;
use crate::serving::float;
use crate::CoreResult;

/// Which rows a training reads, by when they were created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataWindow {
    pub created_column: Option<String>,
    /// As given ("30 days"), and in seconds.
    pub mature_after: Option<String>,
    pub mature_after_seconds: Option<f64>,
    /// As given, and in seconds since 1970-01-01 UTC.
    pub since: Option<String>,
    pub since_epoch: Option<f64>,
}

impl DataWindow {
    pub fn set_mature_after(&mut self, v: &Value) -> CoreResult<()> {
        let text = v.as_str().ok_or_else(|| {
            core_err!(InvalidArgument, "option \"mature_after\" must be an interval as text like \"30 days\", got {v}")
        })?;
        self.mature_after_seconds = Some(parse_interval_seconds(text)?);
        self.mature_after = Some(text.to_string());
        Ok(())
    }

    pub fn set_since(&mut self, v: &Value) -> CoreResult<()> {
        let epoch = v.as_str().and_then(parse_timestamp).ok_or_else(|| {
            core_err!(InvalidArgument, "option \"since\" must be a date or timestamp as text like \"2025-01-01\", got {v}")
        })?;
        self.since = v.as_str().map(str::to_string);
        self.since_epoch = Some(epoch);
        Ok(())
    }

    pub fn set_created_column(&mut self, v: &Value) -> CoreResult<()> {
        match v.as_str().filter(|s| !s.is_empty()) {
            Some(s) => {
                self.created_column = Some(s.to_string());
                Ok(())
            }
            None => Err(core_err!(InvalidArgument, "option \"created_column\" must be a column name, got {v}")),
        }
    }

    /// mature_after and since need created_column, and created_column needs one of them.
    pub fn check(&self) -> CoreResult<()> {
        let uses = [("mature_after", self.mature_after.is_some()), ("since", self.since.is_some())];
        match (&self.created_column, uses.iter().find(|(_, set)| *set)) {
            (None, Some((key, _))) => Err(core_err!(
                InvalidArgument,
                "option \"{key}\" needs option \"created_column\": the date or timestamp column that says when each lead was created"
            )),
            (Some(_), None) => Err(core_err!(
                InvalidArgument,
                "option \"created_column\" is only read with option \"mature_after\" or \"since\"; add one or remove it"
            )),
            _ => Ok(()),
        }
    }

    pub fn is_set(&self) -> bool {
        self.created_column.is_some()
    }

    /// Creation times from `as_of - mature_after` on are immature.
    pub fn maturity_cutoff(&self, as_of: f64) -> Option<f64> {
        self.mature_after_seconds.map(|s| as_of - s)
    }

    /// SQL: true for a row created on or after `since` (or with no creation time).
    pub fn since_sql(&self, created_epoch: &str) -> String {
        match self.since_epoch {
            Some(since) => format!("({created_epoch} IS NULL OR {created_epoch} OPERATOR(pg_catalog.>=) {})", float(since)),
            None => "true".to_string(),
        }
    }

    /// SQL: true for a row old enough to have an outcome (or with no creation time).
    pub fn mature_sql(&self, created_epoch: &str, as_of: f64) -> String {
        match self.maturity_cutoff(as_of) {
            Some(cutoff) => format!("({created_epoch} IS NULL OR {created_epoch} OPERATOR(pg_catalog.<=) {})", float(cutoff)),
            None => "true".to_string(),
        }
    }
}

/// Seconds in an interval as Postgres writes one: number-unit pairs ("30 days", "2 weeks",
/// "1 month 15 days", "12 hours 30 mins", "1.5 days", the unit glued on or abbreviated as
/// "30d", "36h", "90 min", "2w", "1y"), a clock time ("1 day 02:30", "36:00:00"), or ISO 8601
/// ("P30D", "P1M15D", "PT36H", "P2W"). A month is 30 days and a year 365.25 days, as Postgres'
/// `extract(epoch FROM interval)` counts.
pub fn parse_interval_seconds(text: &str) -> CoreResult<f64> {
    let bad = || {
        core_err!(
            InvalidArgument,
            "option \"mature_after\" must be a positive interval like \"30 days\", \"6 weeks\", \"3 months\", \"1 day 12:00\" or \"P30D\", got \"{text}\""
        )
    };
    let trimmed = text.trim();
    let seconds = match trimmed.strip_prefix(['P', 'p']) {
        Some(iso) => iso_8601_seconds(iso),
        None => postgres_interval_seconds(trimmed),
    }
    .ok_or_else(bad)?;
    if seconds > 0.0 && seconds.is_finite() {
        Ok(seconds)
    } else {
        Err(bad())
    }
}

/// Seconds per unit name (singular, plural or abbreviated, any case), as Postgres reads them.
fn unit_seconds(unit: &str) -> Option<f64> {
    let unit = unit.to_ascii_lowercase();
    let unit = if unit.len() > 1 { unit.trim_end_matches('s') } else { unit.as_str() };
    Some(match unit {
        "second" | "sec" | "s" => 1.0,
        "minute" | "min" | "m" => 60.0,
        "hour" | "hr" | "h" => 3_600.0,
        "day" | "d" => 86_400.0,
        "week" | "w" => 7.0 * 86_400.0,
        "month" | "mon" => 30.0 * 86_400.0,
        "year" | "yr" | "y" => 365.25 * 86_400.0,
        _ => return None,
    })
}

/// A non-negative finite number.
fn amount(text: &str) -> Option<f64> {
    text.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)
}

/// "H:MM" or "H:MM:SS" (hours may exceed 24).
fn clock_seconds(token: &str) -> Option<f64> {
    let parts: Vec<&str> = token.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let factors = [3_600.0, 60.0, 1.0];
    parts.iter().zip(factors).map(|(p, f)| amount(p).map(|v| v * f)).sum()
}

fn postgres_interval_seconds(text: &str) -> Option<f64> {
    let mut tokens = text.split_whitespace().peekable();
    let (mut seconds, mut any) = (0.0, false);
    while let Some(token) = tokens.next() {
        any = true;
        if token.contains(':') {
            seconds += clock_seconds(token)?;
            continue;
        }
        let split = token.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(token.len());
        let (number, glued) = token.split_at(split);
        let n = amount(number)?;
        let unit = if glued.is_empty() { tokens.next()? } else { glued };
        seconds += n * unit_seconds(unit)?;
    }
    any.then_some(seconds)
}

/// The part after "P" of an ISO 8601 duration: nY nM nW nD, then after "T" nH nM nS.
fn iso_8601_seconds(text: &str) -> Option<f64> {
    let (date, time) = match text.split_once(['T', 't']) {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (text, None),
    };
    let designators = |part: &str, units: &[(char, f64)]| -> Option<f64> {
        let (mut total, mut number) = (0.0, String::new());
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                number.push(if c == ',' { '.' } else { c });
            } else {
                let (_, f) = units.iter().find(|(u, _)| u.eq_ignore_ascii_case(&c))?;
                total += amount(&number)? * f;
                number.clear();
            }
        }
        number.is_empty().then_some(total)
    };
    let day = 86_400.0;
    let date_units = [('Y', 365.25 * day), ('M', 30.0 * day), ('W', 7.0 * day), ('D', day)];
    let time_units = [('H', 3_600.0), ('M', 60.0), ('S', 1.0)];
    let seconds = designators(date, &date_units)? + time.map_or(Some(0.0), |t| designators(t, &time_units))?;
    (!date.is_empty() || time.is_some()).then_some(seconds)
}
