//! Input and score drift: the reference distributions stored with a model at training, and the
//! population stability index (PSI) of new rows against them.
//!
//! Numeric features are binned at the deciles of their training-part values (`percentile_disc`
//! semantics, equal edges merged), plus a bin for missing values; categorical and boolean
//! features by level (NULL is the level "(missing)"); the score at the deciles of the validation
//! part's scores. PSI = sum over bins of (new share - reference share) * ln(new / reference).

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::data::Part;
use crate::data::MISSING_LEVEL;
use crate::data::{from_total_order_key, total_order_key};
use crate::data::{Column, ColumnData, NULL_CODE};
use crate::resources::{map_tasks, worker_threads};
use crate::CoreResult;

/// A bin that is empty on one side counts as this share (0.01%) so PSI stays finite; the value
/// is the usual choice in credit-scoring practice.
pub const PSI_EPSILON: f64 = 1e-4;
/// Quantile bins per numeric feature and for the score.
pub const QUANTILE_BINS: usize = 10;
/// Levels kept per categorical feature; rarer ones are pooled as "(other)".
pub const MAX_REFERENCE_LEVELS: usize = 1000;
/// Where unseen levels are pooled when the reference has more than [`MAX_REFERENCE_LEVELS`].
pub const OTHER_LEVELS: &str = "(other)";
/// Default PSI thresholds (common practice: below 0.1 stable, 0.1 to 0.25 moderate shift).
pub const DEFAULT_WARN: f64 = 0.1;
pub const DEFAULT_ALERT: f64 = 0.25;

/// Quantile bins: `x <= edges[0]` is bin 0, `edges[i-1] < x <= edges[i]` bin i, above the last
/// edge the last bin; `shares` has `edges.len() + 1` entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bins {
    pub edges: Vec<f64>,
    pub shares: Vec<f64>,
    /// Mean of the non-missing values (for the detail text).
    pub mean: Option<f64>,
}

/// One level's share of the reference rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelShare {
    pub level: String,
    pub share: f64,
}

/// The reference distribution of one feature on the training part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureReference {
    pub name: String,
    /// "numeric", "categorical" or "boolean".
    pub kind: String,
    pub rows: u64,
    /// Numeric features: shares of all rows per bin (they and `missing_share` sum to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bins: Option<Bins>,
    pub missing_share: f64,
    /// Categorical and boolean features, most frequent first, "(missing)" included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<LevelShare>>,
    /// Share of the levels beyond [`MAX_REFERENCE_LEVELS`].
    #[serde(default)]
    pub other_share: f64,
}

/// Everything drift() compares against, stored in `models.reference`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub features: Vec<FeatureReference>,
    /// The validation part's scores.
    pub score: Bins,
    pub score_rows: u64,
}

/// ok / warn / alert, ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Alert,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Alert => "alert",
        }
    }

    /// `alert` at or above `alert`, `warn` at or above `warn`, else `ok`.
    pub fn of_psi(psi: f64, warn: f64, alert: f64) -> Status {
        if psi >= alert {
            Status::Alert
        } else if psi >= warn {
            Status::Warn
        } else {
            Status::Ok
        }
    }
}

/// One row of a drift report. The score's row is named "(score)".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftRow {
    pub feature: String,
    pub psi: f64,
    pub status: Status,
    pub detail: String,
}

/// Name of the score's row in a drift report.
pub const SCORE_ROW: &str = "(score)";

/// Checks user-given thresholds: finite, positive, warn <= alert.
pub fn check_thresholds(warn: f64, alert: f64) -> CoreResult<()> {
    if !(warn.is_finite() && alert.is_finite() && warn > 0.0 && alert > 0.0) {
        return Err(core_err!(
            InvalidArgument,
            "warn and alert must be positive numbers, got warn {} and alert {}",
            crate::error::sql_float(warn),
            crate::error::sql_float(alert)
        ));
    }
    if warn > alert {
        return Err(core_err!(InvalidArgument, "warn ({warn}) must not be greater than alert ({alert})"));
    }
    Ok(())
}

/// Population stability index of `actual` against `expected` shares (same bins), each share
/// floored at [`PSI_EPSILON`].
pub fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    debug_assert_eq!(expected.len(), actual.len());
    expected
        .iter()
        .zip(actual)
        .map(|(&e, &a)| {
            let (e, a) = (e.max(PSI_EPSILON), a.max(PSI_EPSILON));
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// Decile edges of `values` (no NaN, any order) as `percentile_disc(k / 10)` gives them, equal
/// edges merged. Each edge's value is selected rather than the values sorted: on the training
/// part of a million leads that is several times faster, and every edge is the value a sort
/// would put at its rank (`f64::total_cmp`'s order).
pub fn quantile_edges(values: &[f64], bins: usize) -> Vec<f64> {
    let n = values.len();
    let mut edges: Vec<f64> = Vec::with_capacity(bins);
    if n == 0 {
        return edges;
    }
    let mut keys: Vec<u64> = values.iter().map(|&x| total_order_key(x)).collect();
    // keys[..placed] hold the `placed` smallest values, each at its rank.
    let mut placed = 0;
    for k in 1..bins {
        // percentile_disc(f): the first value whose cumulative share reaches f.
        let idx = ((k * n).div_ceil(bins)).max(1) - 1;
        if idx >= placed {
            keys[placed..].select_nth_unstable(idx - placed);
            placed = idx + 1;
        }
        let v = from_total_order_key(keys[idx]);
        if edges.last() != Some(&v) {
            edges.push(v);
        }
    }
    edges
}

/// The bin of `x` under `edges` (see [`Bins`]).
pub fn bin_of(x: f64, edges: &[f64]) -> usize {
    edges.partition_point(|&e| e < x)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Shares of `values` per bin of `edges`, over `total` rows (missing rows excluded by the caller).
fn bin_shares(values: &[f64], edges: &[f64], total: usize) -> Vec<f64> {
    let mut counts = vec![0u64; edges.len() + 1];
    for &v in values {
        counts[bin_of(v, edges)] += 1;
    }
    counts.iter().map(|&c| if total == 0 { 0.0 } else { c as f64 / total as f64 }).collect()
}

/// Decile bins of scores (no missing values).
pub fn score_bins(scores: &[f64]) -> Bins {
    let scores: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
    let edges = quantile_edges(&scores, QUANTILE_BINS);
    Bins { shares: bin_shares(&scores, &edges, scores.len()), edges, mean: mean(&scores) }
}

fn numeric_values(column: &Column, rows: &[usize]) -> Option<Vec<f64>> {
    match &column.data {
        ColumnData::Numeric(v) => Some(rows.iter().filter_map(|&r| v[r]).collect()),
        ColumnData::Categorical { .. } => None,
    }
}

/// Level counts of the given rows, "(missing)" for NULL.
fn level_counts(column: &Column, rows: &[usize]) -> Vec<(String, u64)> {
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    match &column.data {
        ColumnData::Categorical { dictionary, codes } => {
            let mut by_code = vec![0u64; dictionary.len()];
            let mut missing = 0u64;
            for &r in rows {
                match codes[r] {
                    NULL_CODE => missing += 1,
                    c => by_code[c as usize] += 1,
                }
            }
            for (level, &c) in dictionary.iter().zip(&by_code).filter(|(_, c)| **c > 0) {
                *counts.entry(level.clone()).or_default() += c;
            }
            if missing > 0 {
                *counts.entry(MISSING_LEVEL.to_string()).or_default() += missing;
            }
        }
        ColumnData::Numeric(_) => {}
    }
    let mut out: Vec<(String, u64)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// The reference distribution of one column over `rows`.
pub fn feature_reference(column: &Column, rows: &[usize]) -> FeatureReference {
    let n = rows.len();
    let share = |c: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
    let base = FeatureReference {
        name: column.name.clone(),
        kind: column.kind.as_str().to_string(),
        rows: n as u64,
        bins: None,
        missing_share: 0.0,
        levels: None,
        other_share: 0.0,
    };
    match numeric_values(column, rows) {
        Some(values) => {
            let edges = quantile_edges(&values, QUANTILE_BINS);
            let missing = (n - values.len()) as u64;
            FeatureReference {
                bins: Some(Bins { shares: bin_shares(&values, &edges, n), edges, mean: mean(&values) }),
                missing_share: share(missing),
                ..base
            }
        }
        None => {
            let counts = level_counts(column, rows);
            let other: u64 = counts.iter().skip(MAX_REFERENCE_LEVELS).map(|c| c.1).sum();
            let missing = counts.iter().find(|c| c.0 == MISSING_LEVEL).map_or(0, |c| c.1);
            let levels = counts
                .iter()
                .take(MAX_REFERENCE_LEVELS)
                .map(|(l, c)| LevelShare { level: l.clone(), share: share(*c) })
                .collect();
            FeatureReference { levels: Some(levels), missing_share: share(missing), other_share: share(other), ..base }
        }
    }
}

/// The reference stored at training: every feature on the training part, the score on the
/// validation part. `parts` and `scores` are per row of `columns`.
/// Columns are summarised on worker threads (independent, pure computation), in column order.
pub fn build_reference(columns: &[&Column], parts: &[Part], scores: &[f64]) -> Reference {
    let train: Vec<usize> = (0..parts.len()).filter(|&i| parts[i] == Part::Train).collect();
    let validation: Vec<f64> = (0..parts.len()).filter(|&i| parts[i] == Part::Validation).map(|i| scores[i]).collect();
    let threads = if train.len() >= 100_000 { worker_threads(4) } else { 1 };
    let features = map_tasks(columns.len(), threads, |i| feature_reference(columns[i], &train))
        .unwrap_or_else(|e| panic!("building the drift reference: {e}"));
    Reference { features, score: score_bins(&validation), score_rows: validation.len() as u64 }
}

/// A number for detail text: at most 4 decimals, trailing zeros dropped.
fn num(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn bin_label(edges: &[f64], i: usize) -> String {
    match (i, edges.len()) {
        (_, 0) => "all values".to_string(),
        (0, _) => format!("<= {}", num(edges[0])),
        (i, n) if i == n => format!("> {}", num(edges[n - 1])),
        (i, _) => format!("({}, {}]", num(edges[i - 1]), num(edges[i])),
    }
}

/// PSI of (label, expected, actual) bins, and the text naming the bin that moved most.
fn compare_bins(bins: &[(String, f64, f64)]) -> (f64, String) {
    let expected: Vec<f64> = bins.iter().map(|b| b.1).collect();
    let actual: Vec<f64> = bins.iter().map(|b| b.2).collect();
    let value = psi(&expected, &actual);
    let moved = bins.iter().max_by(|a, b| (a.2 - a.1).abs().total_cmp(&(b.2 - b.1).abs()));
    let text = match moved {
        Some((label, e, a)) if (a - e).abs() > 0.0 => format!("largest change {label}: {} -> {}", pct(*e), pct(*a)),
        _ => "no change".to_string(),
    };
    (value, text)
}

fn numeric_drift(bins: &Bins, missing_share: f64, values: &[f64], total: usize) -> (f64, String) {
    let actual = bin_shares(values, &bins.edges, total);
    let mut labelled: Vec<(String, f64, f64)> =
        (0..bins.shares.len()).map(|i| (bin_label(&bins.edges, i), bins.shares[i], actual[i])).collect();
    let actual_missing = if total == 0 { 0.0 } else { (total - values.len()) as f64 / total as f64 };
    labelled.push((MISSING_LEVEL.to_string(), missing_share, actual_missing));
    let (value, moved) = compare_bins(&labelled);
    let means = match (bins.mean, mean(values)) {
        (Some(e), Some(a)) => format!("mean {} -> {}; ", num(e), num(a)),
        _ => String::new(),
    };
    (value, format!("{means}{moved}"))
}

fn categorical_drift(
    reference: &FeatureReference,
    levels: &[LevelShare],
    counts: &[(String, u64)],
    total: usize,
) -> (f64, String) {
    let share = |c: u64| if total == 0 { 0.0 } else { c as f64 / total as f64 };
    let known = |l: &str| levels.iter().any(|x| x.level == l);
    let mut bins: Vec<(String, f64, f64)> = levels
        .iter()
        .map(|l| {
            let c = counts.iter().find(|c| c.0 == l.level).map_or(0, |c| c.1);
            (format!("'{}'", l.level), l.share, share(c))
        })
        .collect();
    let unseen: Vec<&(String, u64)> = counts.iter().filter(|c| !known(&c.0)).collect();
    let unseen_share = share(unseen.iter().map(|c| c.1).sum());
    // With a truncated reference, unseen levels may be rare old ones: pool them as "(other)".
    let truncated = reference.other_share > 0.0;
    let pool = if truncated { OTHER_LEVELS } else { "new levels" };
    bins.push((pool.to_string(), reference.other_share, unseen_share));
    let (value, moved) = compare_bins(&bins);
    if unseen.is_empty() || truncated {
        return (value, moved);
    }
    const NAMED: usize = 5;
    let mut names: Vec<String> = unseen.iter().take(NAMED).map(|(l, c)| format!("'{l}' ({})", pct(share(*c)))).collect();
    if unseen.len() > NAMED {
        names.push(format!("and {} more", unseen.len() - NAMED));
    }
    (value, format!("new levels: {}; {moved}", names.join(", ")))
}

/// PSI and detail of one feature's rows (all rows of `column`) against its reference.
pub fn feature_drift(reference: &FeatureReference, column: &Column) -> CoreResult<(f64, String)> {
    let rows: Vec<usize> = (0..column.len()).collect();
    match (&reference.bins, &reference.levels, &column.data) {
        (Some(bins), _, ColumnData::Numeric(_)) => {
            let values = numeric_values(column, &rows).unwrap_or_default();
            Ok(numeric_drift(bins, reference.missing_share, &values, rows.len()))
        }
        (None, Some(levels), ColumnData::Categorical { .. }) => {
            Ok(categorical_drift(reference, levels, &level_counts(column, &rows), rows.len()))
        }
        _ => Err(core_err!(
            InvalidData,
            "feature \"{}\" was {} at training but is read as {} now",
            reference.name,
            reference.kind,
            column.kind.as_str()
        )),
    }
}

/// The drift report: one row per reference feature (in model order), then the score's row.
pub fn drift_report(
    reference: &Reference,
    columns: &[Column],
    scores: &[f64],
    warn: f64,
    alert: f64,
) -> CoreResult<Vec<DriftRow>> {
    check_thresholds(warn, alert)?;
    if scores.is_empty() {
        return Err(core_err!(InsufficientData, "there are no rows to compare with the reference"));
    }
    let mut out = Vec::with_capacity(reference.features.len() + 1);
    for f in &reference.features {
        let column = columns
            .iter()
            .find(|c| c.name == f.name)
            .ok_or_else(|| core_err!(UnknownColumn, "feature \"{}\" was not read", f.name))?;
        let (value, detail) = feature_drift(f, column)?;
        out.push(DriftRow { feature: f.name.clone(), psi: value, status: Status::of_psi(value, warn, alert), detail });
    }
    let finite: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
    let (value, detail) = numeric_drift(&reference.score, 0.0, &finite, finite.len());
    out.push(DriftRow { feature: SCORE_ROW.to_string(), psi: value, status: Status::of_psi(value, warn, alert), detail });
    Ok(out)
}

#[cfg(test)]
#[path = "drift_tests.rs"]
mod tests;
