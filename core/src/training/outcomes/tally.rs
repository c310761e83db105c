//! Rows per outcome class, from the rows of each label value (counted by one aggregate query
//! over the source), and the errors when a value has no class or nothing is left to train on.

use serde::Serialize;

use super::definition::OutcomeClass;
use super::window::DataWindow;
use crate::core_err;
use crate::data::format_timestamp;
use crate::CoreResult;

/// The labelled rows of one label value (its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelValueRows {
    pub value: String,
    pub rows: u64,
    /// Created before `since` (dropped, whatever the class).
    pub before_since: u64,
    /// From `since` on, created after `as_of - mature_after`.
    pub immature: u64,
}

/// What a training read, per class: stored in the version's `training` record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutcomeCounts {
    pub converted: u64,
    pub not_converted: u64,
    /// Open leads, excluded.
    pub open: u64,
    /// Not converted and too young to have an outcome, excluded.
    pub immature: u64,
    /// Created before `since`, dropped.
    pub before_since: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mature_after: Option<String>,
    /// Rows created after this time (UTC) were immature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immature_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

impl OutcomeCounts {
    /// The NOTICE train() raises.
    pub fn notice(&self) -> String {
        let mut text = format!(
            "outcomes: {} converted, {} not converted, {} open (excluded)",
            self.converted, self.not_converted, self.open
        );
        if let Some(after) = &self.immature_after {
            text.push_str(&format!(", {} immature (excluded: not converted and created after {after})", self.immature));
        }
        if let Some(since) = &self.since {
            text.push_str(&format!(", {} created before {since} (dropped)", self.before_since));
        }
        text
    }
}

/// Counts the rows per class; `class_of` gives a value's class (None: in no list). A value in
/// no list, no row left, or no mature not-converted row left is an error.
pub fn tally_outcomes(
    values: &[LabelValueRows],
    class_of: impl Fn(&str) -> Option<OutcomeClass>,
    window: &DataWindow,
    as_of: f64,
    label: &str,
) -> CoreResult<OutcomeCounts> {
    let cutoff = window.maturity_cutoff(as_of);
    let mut counts = OutcomeCounts {
        created_column: window.created_column.clone(),
        mature_after: window.mature_after.clone(),
        immature_after: cutoff.map(format_timestamp),
        since: window.since.clone(),
        ..OutcomeCounts::default()
    };
    let mut unlisted: Vec<&LabelValueRows> = Vec::new();
    for v in values {
        counts.before_since += v.before_since;
        let in_window = v.rows - v.before_since;
        match class_of(&v.value) {
            Some(OutcomeClass::Converted) => counts.converted += in_window,
            Some(OutcomeClass::NotConverted) => {
                counts.not_converted += in_window - v.immature;
                counts.immature += v.immature;
            }
            Some(OutcomeClass::Open) => counts.open += in_window,
            None if in_window > 0 => unlisted.push(v),
            None => {}
        }
    }
    if !unlisted.is_empty() {
        unlisted.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.value.cmp(&b.value)));
        let shown: Vec<String> =
            unlisted.iter().take(10).map(|v| format!("'{}' ({} rows)", v.value, v.rows - v.before_since)).collect();
        let more = if unlisted.len() > 10 { format!(" and {} more", unlisted.len() - 10) } else { String::new() };
        return Err(core_err!(
            InvalidArgument,
            "label column \"{label}\" has values in no list of options.outcomes: {}{more}; add them to \"converted\", \"not_converted\" or \"open\", or set \"unlisted\": \"open\" or \"not_converted\"",
            shown.join(", ")
        ));
    }
    let total: u64 = values.iter().map(|v| v.rows).sum();
    if counts.converted + counts.not_converted + counts.open + counts.immature == 0 && counts.before_since > 0 {
        return Err(core_err!(
            InvalidArgument,
            "options.since ({}) leaves no rows: all {total} labelled rows were created before it",
            window.since.as_deref().unwrap_or_default()
        ));
    }
    if counts.not_converted == 0 && counts.immature > 0 {
        return Err(core_err!(
            InvalidArgument,
            "all {} not-converted rows are immature: created after {} (options.as_of minus options.mature_after {}); lower mature_after or set an earlier as_of",
            counts.immature,
            counts.immature_after.as_deref().unwrap_or_default(),
            window.mature_after.as_deref().unwrap_or_default()
        ));
    }
    if counts.converted + counts.not_converted == 0 && counts.open > 0 {
        return Err(core_err!(
            InvalidArgument,
            "all {} labelled rows are open (options.outcomes.open); no row has an outcome to train on",
            counts.open
        ));
    }
    Ok(counts)
}
