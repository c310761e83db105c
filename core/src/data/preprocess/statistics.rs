//! The preprocessing fitted from statistics of the training part instead of its rows: what
//! the aggregate engine computes with SQL aggregates over a source whose rows the core never
//! holds all of. The arithmetic is `fit`'s, so the same statistics give the same transform.

use super::fit::{imputed_mean, kept_levels, scaling_from_moments, CappedLevels};
use super::options::PreprocessOptions;
use super::preprocessor::Preprocessor;
use super::transform::FeatureTransform;
use crate::core_err;
use crate::data::values::{Column, FeatureKind};
use crate::CoreResult;

/// The first statistics of a number over the training part (log-scaled first when the model
/// says so): the training rows, how many have a value, the median and the sum of those values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumericMoments {
    pub rows: usize,
    pub present: usize,
    pub median: f64,
    pub sum: f64,
}

impl NumericMoments {
    /// The mean after imputation, around which the squared deviations are summed next.
    pub fn mean(&self) -> f64 {
        imputed_mean(self.rows, self.present, self.median, self.sum)
    }
}

/// What the preprocessing of one column needs to know of the training part.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnStatistics {
    /// A number: its moments and the sum of (x - mean)^2 over its present values.
    Numeric { moments: NumericMoments, squared_deviations: f64 },
    /// A text or boolean column: training rows per level (its text form) and the rows whose
    /// value is NULL or a placeholder (`missing_values`).
    Text { counts: Vec<(String, usize)>, missing: usize },
}

/// The preprocessing of `columns` (their names and kinds; their values are not read) from one
/// statistics entry per column, in the same order. Quantile bins, dates and interaction terms
/// need the rows and are refused.
pub fn preprocessor_from_statistics(
    columns: &[Column],
    statistics: &[ColumnStatistics],
    opts: &PreprocessOptions,
) -> CoreResult<(Preprocessor, Vec<CappedLevels>)> {
    if columns.len() != statistics.len() {
        return Err(core_err!(Internal, "{} columns but statistics of {}", columns.len(), statistics.len()));
    }
    if !opts.bins.is_empty() || !opts.interactions.is_empty() {
        return Err(core_err!(Unsupported, "quantile bins and interaction terms are fitted from the rows, not from statistics"));
    }
    let mut features = Vec::with_capacity(columns.len());
    let mut capped = Vec::new();
    for (column, stats) in columns.iter().zip(statistics) {
        let name = column.name.as_str();
        features.push(match (column.kind, stats) {
            (FeatureKind::Numeric, ColumnStatistics::Numeric { moments, squared_deviations }) => {
                if moments.present == 0 {
                    return Err(core_err!(InsufficientData, "feature \"{name}\" is NULL in every training row; exclude it"));
                }
                if !moments.sum.is_finite() || !squared_deviations.is_finite() {
                    return Err(core_err!(
                        InvalidData,
                        "feature \"{name}\" contains NaN or Infinity; NaN and Infinity are not valid feature values"
                    ));
                }
                let log = opts.log_columns.iter().any(|l| l == name);
                let m = moments;
                let scaling =
                    scaling_from_moments(m.rows, m.present, m.median, m.mean(), *squared_deviations, opts.impute_numeric);
                FeatureTransform::Numeric { name: name.to_string(), log, scaling }
            }
            (FeatureKind::Date, _) => {
                return Err(core_err!(Unsupported, "date feature \"{name}\" is fitted from the rows, not from statistics"))
            }
            (_, ColumnStatistics::Text { counts, missing }) if column.kind != FeatureKind::Numeric => {
                let (transform, cap) = kept_levels(column, counts.iter().map(|(l, k)| (l.as_str(), *k)), *missing, opts);
                capped.extend(cap);
                transform
            }
            _ => return Err(core_err!(Internal, "the statistics of feature \"{name}\" are not of its kind")),
        });
    }
    let preprocessor = Preprocessor {
        features,
        missing_values: opts.missing_values.clone(),
        impute_numeric: opts.impute_numeric,
        interactions: Vec::new(),
        level_index: Default::default(),
    };
    Ok((preprocessor, capped))
}

#[cfg(test)]
#[path = "statistics_tests.rs"]
mod tests;
