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

/// Seconds in an interval like "30 days", "2 weeks", "1 month 15 days" or "12 hours" (a month
/// is 30 days and a year 365.25 days, as Postgres' `extract(epoch FROM interval)` counts).
pub fn parse_interval_seconds(text: &str) -> CoreResult<f64> {
    let bad = || {
        core_err!(
            InvalidArgument,
            "option \"mature_after\" must be a positive interval like \"30 days\", \"6 weeks\" or \"3 months\", got \"{text}\""
        )
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return Err(bad());
    }
    let mut seconds = 0.0;
    for pair in words.chunks(2) {
        let n: f64 = pair[0].parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0).ok_or_else(bad)?;
        let unit = match pair[1].to_ascii_lowercase().trim_end_matches('s') {
            "second" | "sec" => 1.0,
            "minute" | "min" => 60.0,
            "hour" => 3_600.0,
            "day" => 86_400.0,
            "week" => 7.0 * 86_400.0,
            "month" | "mon" => 30.0 * 86_400.0,
            "year" => 365.25 * 86_400.0,
            _ => return Err(bad()),
        };
        seconds += n * unit;
    }
    if seconds > 0.0 && seconds.is_finite() {
        Ok(seconds)
    } else {
        Err(bad())
    }
}
