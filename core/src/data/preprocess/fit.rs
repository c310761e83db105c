//! Fitting the transform on the training part only: medians and scales of numbers, the kept
//! levels of text columns (capped at `max_levels`), quantile bin edges, interaction terms.

use serde::{Deserialize, Serialize};

use super::interactions::fit_interactions;
use super::options::PreprocessOptions;
use super::preprocessor::{signed_log1p, Preprocessor};
use super::transform::{FeatureTransform, Scaling, MISSING_LEVEL};
use crate::core_err;
use crate::data::binning::quantile_edges;
use crate::data::dates::days_before;
use crate::data::values::{Column, ColumnData, FeatureKind, NULL_CODE};
use crate::resources::{map_tasks, worker_threads};
use crate::CoreResult;

/// Checks that every column the preprocessing options name is a feature of the right kind.
fn check_named_columns(columns: &[Column], opts: &PreprocessOptions) -> CoreResult<()> {
    let find = |option: &str, name: &str| {
        columns.iter().find(|c| c.name == name).ok_or_else(|| {
            core_err!(UnknownColumn, "option \"{option}\" names \"{name}\", which is not one of the model's features")
        })
    };
    for name in &opts.log_columns {
        if find("log", name)?.kind != FeatureKind::Numeric {
            return Err(core_err!(InvalidArgument, "option \"log\" names \"{name}\", which is not numeric"));
        }
    }
    for (name, _) in &opts.bins {
        if find("bins", name)?.kind != FeatureKind::Numeric {
            return Err(core_err!(InvalidArgument, "option \"bins\" names \"{name}\", which is not numeric"));
        }
        if opts.log_columns.contains(name) {
            return Err(core_err!(
                InvalidArgument,
                "column \"{name}\" is in both \"log\" and \"bins\"; binning makes log scaling moot"
            ));
        }
    }
    // Interaction pairs are checked where they are resolved, in fit_interactions.
    Ok(())
}

/// A text column whose levels were cut to `options.max_levels`: how many were frequent enough
/// to keep (seen at least `min_level_count` times) and how many were kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CappedLevels {
    pub feature: String,
    pub frequent_levels: usize,
    pub kept_levels: usize,
}

/// Fits the transform on the training rows of `columns`.
pub fn fit_preprocessor(columns: &[Column], train_rows: &[usize], opts: &PreprocessOptions) -> CoreResult<Preprocessor> {
    fit_preprocessor_reporting(columns, train_rows, opts).map(|(p, _)| p)
}

/// [`fit_preprocessor`], also saying which text columns had their levels capped.
pub fn fit_preprocessor_reporting(
    columns: &[Column],
    train_rows: &[usize],
    opts: &PreprocessOptions,
) -> CoreResult<(Preprocessor, Vec<CappedLevels>)> {
    fit_preprocessor_checked(columns, train_rows, opts, &mut || Ok(()))
}

/// [`fit_preprocessor_reporting`], calling `before_column` before each group of columns is
/// fitted (one column a thread, each a sort of its training values, about 10 ms per 100,000
/// rows): an Err from it (a cancel) stops the fit and is returned.
pub fn fit_preprocessor_checked(
    columns: &[Column],
    train_rows: &[usize],
    opts: &PreprocessOptions,
    before_column: &mut dyn FnMut() -> CoreResult<()>,
) -> CoreResult<(Preprocessor, Vec<CappedLevels>)> {
    if train_rows.is_empty() {
        return Err(core_err!(InsufficientData, "the training part is empty"));
    }
    check_named_columns(columns, opts)?;
    // Columns are fitted side by side on worker threads (a million-row training spent 0.4 s
    // here on one), a group of as many as there are threads at a time, with `before_column`
    // asked on this thread before each group: it may call into PostgreSQL, the workers never do.
    let threads = if train_rows.len() >= PARALLEL_ROWS { worker_threads(4) } else { 1 };
    let (mut features, mut capped) = (Vec::with_capacity(columns.len()), Vec::new());
    for group in columns.chunks(threads) {
        before_column()?;
        let fitted = map_tasks(group.len(), threads, |i| fit_column(&group[i], train_rows, opts))
            .map_err(|e| core_err!(Internal, "fitting the preprocessing: {e}"))?;
        for column in fitted {
            let (transform, cap) = column?;
            features.push(transform);
            capped.extend(cap);
        }
    }
    let interactions = fit_interactions(&features, &opts.interactions)?;
    let preprocessor = Preprocessor {
        features,
        missing_values: opts.missing_values.clone(),
        impute_numeric: opts.impute_numeric,
        interactions,
        level_index: Default::default(),
    };
    Ok((preprocessor, capped))
}

/// Training rows from which columns are fitted on several threads.
pub(super) const PARALLEL_ROWS: usize = 20_000;

/// One column's transform fitted on the training rows, and whether its levels were capped.
fn fit_column(
    column: &Column,
    train_rows: &[usize],
    opts: &PreprocessOptions,
) -> CoreResult<(FeatureTransform, Option<CappedLevels>)> {
    let name = column.name.as_str();
    Ok(match &column.data {
        ColumnData::Numeric(values) if column.kind == FeatureKind::Date => {
            let as_of = opts.as_of.ok_or_else(|| core_err!(InvalidArgument, "date feature \"{name}\" needs an as-of time"))?;
            let days: Vec<Option<f64>> = train_rows.iter().map(|&r| values[r].map(|t| days_before(t, as_of))).collect();
            let scaling = fit_scaling(name, &days, opts.impute_numeric)?;
            (FeatureTransform::Date { name: name.to_string(), as_of, scaling }, None)
        }
        ColumnData::Numeric(values) => match opts.bins.iter().find(|(b, _)| b == name) {
            Some((_, bins)) => {
                let mut present = present_values(name, train_rows.iter().map(|&r| values[r]))?;
                crate::data::float_sort::sort_floats(&mut present);
                (FeatureTransform::Binned { name: name.to_string(), edges: quantile_edges(&present, *bins) }, None)
            }
            None => {
                let log = opts.log_columns.iter().any(|l| l == name);
                let train: Vec<Option<f64>> =
                    train_rows.iter().map(|&r| values[r].map(|x| if log { signed_log1p(x) } else { x })).collect();
                let scaling = fit_scaling(name, &train, opts.impute_numeric)?;
                (FeatureTransform::Numeric { name: name.to_string(), log, scaling }, None)
            }
        },
        ColumnData::Categorical { dictionary, codes } => fit_categorical(column, dictionary, codes, train_rows, opts),
    })
}

/// The non-missing training values of a column; an error for NaN or when every value is missing.
fn present_values(name: &str, values: impl Iterator<Item = Option<f64>>) -> CoreResult<Vec<f64>> {
    let mut present = Vec::new();
    for x in values.flatten() {
        if !x.is_finite() {
            return Err(core_err!(
                InvalidData,
                "feature \"{name}\" contains {}; NaN and Infinity are not valid feature values",
                crate::error::sql_float(x)
            ));
        }
        present.push(x);
    }
    if present.is_empty() {
        return Err(core_err!(InsufficientData, "feature \"{name}\" is NULL in every training row; exclude it"));
    }
    Ok(present)
}

fn fit_scaling(name: &str, train: &[Option<f64>], impute: bool) -> CoreResult<Scaling> {
    let mut present = present_values(name, train.iter().copied())?;
    crate::data::float_sort::sort_floats(&mut present);
    let m = present.len();
    let median = if m % 2 == 1 { present[m / 2] } else { (present[m / 2 - 1] + present[m / 2]) / 2.0 };
    let mean = imputed_mean(train.len(), m, median, present.iter().sum::<f64>());
    let squared_deviations: f64 = present.iter().map(|x| (x - mean).powi(2)).sum();
    Ok(scaling_from_moments(train.len(), m, median, mean, squared_deviations, impute))
}

/// The mean of a column after its missing values are imputed with the median: `sum` is the
/// sum of the `present` values among `rows`.
pub(super) fn imputed_mean(rows: usize, present: usize, median: f64, sum: f64) -> f64 {
    (sum + median * (rows - present) as f64) / rows as f64
}

/// The scaling of a column from its moments: `squared_deviations` is the sum of (x - mean)^2
/// over the present values, `mean` the [`imputed_mean`]. Scaling statistics are taken after
/// imputation, as a scikit-learn imputer-then-scaler pipeline does.
pub(super) fn scaling_from_moments(
    rows: usize,
    present: usize,
    median: f64,
    mean: f64,
    squared_deviations: f64,
    impute: bool,
) -> Scaling {
    let missing = rows - present;
    let sq = squared_deviations + (median - mean).powi(2) * missing as f64;
    let std = (sq / rows as f64).sqrt();
    // A constant column keeps scale 1 (it then carries no signal, and no division by zero).
    let scale = if std > 1e-12 * mean.abs().max(1.0) { std } else { 1.0 };
    Scaling { median, mean, scale, indicator: impute && missing > 0 }
}

fn fit_categorical(
    column: &Column,
    dictionary: &[String],
    codes: &[u32],
    train_rows: &[usize],
    opts: &PreprocessOptions,
) -> (FeatureTransform, Option<CappedLevels>) {
    let mut counts = vec![0usize; dictionary.len()];
    let mut nulls = 0usize;
    for &r in train_rows {
        match codes[r] {
            NULL_CODE => nulls += 1,
            c => counts[c as usize] += 1,
        }
    }
    // A placeholder's rows are missing rows: each dictionary entry is compared once, not per row.
    let mut missing = nulls;
    for (level, count) in dictionary.iter().zip(counts.iter_mut()) {
        if opts.missing_values.iter().any(|m| m == level) {
            missing += std::mem::take(count);
        }
    }
    let counted = counts.iter().enumerate().map(|(c, &k)| (dictionary[c].as_str(), k));
    kept_levels(column, counted, missing, opts)
}

/// The one-hot (or code) transform of a text column from its training rows per level and its
/// missing rows: the levels seen at least `min_level_count` times, most frequent first, at most
/// `max_levels` of them.
pub(super) fn kept_levels<'a>(
    column: &Column,
    counts: impl Iterator<Item = (&'a str, usize)>,
    missing: usize,
    opts: &PreprocessOptions,
) -> (FeatureTransform, Option<CappedLevels>) {
    let mut kept: Vec<(usize, &str)> =
        counts.filter(|&(_, k)| k >= opts.min_level_count.max(1)).map(|(level, k)| (k, level)).collect();
    if missing >= opts.min_level_count.max(1) {
        kept.push((missing, MISSING_LEVEL));
    }
    // Most frequent first; ties by name so the order never depends on the row order.
    kept.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let frequent = kept.len();
    let cap = opts.max_levels.max(1);
    kept.truncate(cap);
    let (name, kind) = (column.name.clone(), column.kind);
    let levels = kept.into_iter().map(|(_, l)| l.to_string()).collect();
    let in_interaction = opts.interactions.iter().any(|(a, b)| *a == name || *b == name);
    let transform = if opts.text_codes && !in_interaction {
        FeatureTransform::TextCodes { name, kind, levels }
    } else {
        FeatureTransform::Categorical { name, kind, levels }
    };
    let capped =
        (frequent > cap).then(|| CappedLevels { feature: column.name.clone(), frequent_levels: frequent, kept_levels: cap });
    (transform, capped)
}
