//! The data-quality scorecard behind `audit()` and the leakage guard behind train()'s
//! `options.leakage`. One column at a time: rows, NULLs, placeholder values, distinct values,
//! IQR outliers, min/max/mean, whether it looks like a row id, and with a label: conversion rate
//! per level, the univariate ROC AUC and the leakage verdict.
//!
//! The leakage rule (a column is a suspect when either holds, ids excepted):
//! 1. it alone separates the classes almost perfectly: univariate ROC AUC >= [`LEAKAGE_AUC`];
//! 2. it is filled in mostly for one class: the share of leads with a value is at least
//!    [`FILL_RATIO`] times higher in one class than in the other, and at least [`FILL_GAP`]
//!    higher. Sales teams fill fields such as "Lead Quality" after talking to a lead, so a value
//!    being present at all gives the outcome away.
//!
//! Univariate AUC: numbers by their value (direction-free: max(AUC, 1 - AUC)) on rows that have
//! one; text and booleans by each level's conversion rate (in-sample target encoding), with NULL
//! and placeholders one level "(missing)" and levels seen fewer than `min_level_count` times
//! pooled into "(other)", as train() encodes them.

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::core_err;
use crate::data::sort_floats;
use crate::data::PreprocessOptions;
use crate::data::{Column, ColumnData, NULL_CODE};
use crate::evaluation::{order_key, roc_auc, roc_auc_of_groups};
use crate::resources::{map_tasks, worker_threads, Cancel};
use crate::CoreResult;

/// Univariate ROC AUC at or above which a column is a leakage suspect.
pub const LEAKAGE_AUC: f64 = 0.85;
/// How many times more often one class must have a value for a column to be a suspect...
pub const FILL_RATIO: f64 = 2.0;
/// ...and by how much (difference of shares).
pub const FILL_GAP: f64 = 0.2;
/// Fewest rows for "a different value in every row" to mean an id, and for a leakage verdict.
pub const MIN_ROWS: usize = 20;
/// Levels listed in `conversion_by_level`.
pub const TOP_LEVELS: usize = 10;
const VIF_RIDGE: f64 = 1e-10;
/// VIFs above this come from exact collinearity (up to the ridge) and are reported as Infinity.
const VIF_INFINITE: f64 = 1e7;

/// What train() does with leakage suspects (`options.leakage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LeakagePolicy {
    #[default]
    Warn,
    Error,
    Ignore,
}

/// Parses `options.leakage`.
pub fn parse_leakage_policy(v: &Value) -> CoreResult<LeakagePolicy> {
    match v.as_str() {
        Some("warn") => Ok(LeakagePolicy::Warn),
        Some("error") => Ok(LeakagePolicy::Error),
        Some("ignore") => Ok(LeakagePolicy::Ignore),
        _ => Err(core_err!(InvalidArgument, "option \"leakage\" must be \"warn\", \"error\" or \"ignore\", got {v}")),
    }
}

/// The scorecard of one column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnAudit {
    pub rows: usize,
    pub nulls: usize,
    pub placeholders: usize,
    pub distinct: usize,
    pub outliers: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub id_like: bool,
    /// `[{level, leads, conversion_rate}]`, most frequent first (text, booleans, and numbers
    /// with at most [`TOP_LEVELS`] distinct values).
    pub conversion_by_level: Option<Value>,
    pub univariate_auc: Option<f64>,
    /// Share of converted / non-converted leads with a value (not NULL, not a placeholder).
    pub fill_rates: Option<(f64, f64)>,
    pub leakage_suspect: Option<bool>,
    pub reason: Option<String>,
}

/// Linear-interpolation quantile of sorted values (as `percentile_cont`).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Audits one column. `labels` has one entry per row (NULL labels are left out of label stats).
pub fn audit_column(data: &ColumnData, labels: Option<&[Option<bool>]>, opts: &PreprocessOptions) -> ColumnAudit {
    let mut a = ColumnAudit::default();
    // Per row: the level key used for the target encoding, and whether a value is present.
    let present: Vec<bool>;
    match data {
        ColumnData::Numeric(values) => {
            a.rows = values.len();
            let mut v: Vec<f64> = values.iter().flatten().copied().collect();
            a.nulls = a.rows - v.len();
            present = values.iter().map(|x| x.is_some()).collect();
            sort_floats(&mut v);
            if !v.is_empty() {
                a.min = v.first().copied();
                a.max = v.last().copied();
                a.mean = Some(v.iter().sum::<f64>() / v.len() as f64);
                let (q1, q3) = (quantile(&v, 0.25), quantile(&v, 0.75));
                let (lo, hi) = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1));
                a.outliers = Some(v.iter().filter(|&&x| x < lo || x > hi).count());
            }
            let whole = v.iter().all(|x| x.fract() == 0.0);
            v.dedup();
            a.distinct = v.len();
            a.id_like = a.rows >= MIN_ROWS && a.nulls == 0 && whole && a.distinct == a.rows;
            if let Some(labels) = labels {
                let (s, l): (Vec<f64>, Vec<bool>) = values.iter().zip(labels).filter_map(|(x, l)| Some(((*x)?, (*l)?))).unzip();
                a.univariate_auc = roc_auc(&s, &l).map(|x| x.max(1.0 - x));
                if a.distinct <= TOP_LEVELS {
                    let keys: Vec<Option<String>> = values.iter().map(|x| x.map(|x| x.to_string())).collect();
                    a.conversion_by_level = Some(levels_json(&keys, labels));
                }
            }
        }
        ColumnData::Categorical { dictionary, codes } => {
            a.rows = codes.len();
            a.distinct = dictionary.len();
            let levels = LevelCounts::of(dictionary, codes, opts);
            a.nulls = levels.nulls;
            a.placeholders = levels.counts.iter().zip(&levels.placeholder).filter(|(_, &p)| p).map(|(n, _)| n).sum();
            present = codes.iter().map(|&c| levels.present(c)).collect();
            a.id_like = a.rows >= MIN_ROWS && a.nulls == 0 && a.distinct == a.rows;
            if let Some(labels) = labels {
                let keys: Vec<i64> = codes.iter().map(|&c| levels.key(c, opts)).collect();
                a.univariate_auc = encoded_auc(&keys, labels);
                let raw: Vec<Option<String>> =
                    codes.iter().map(|&c| (c != NULL_CODE).then(|| dictionary[c as usize].clone())).collect();
                a.conversion_by_level = Some(levels_json(&raw, labels));
            }
        }
    }
    if let Some(labels) = labels {
        judge_leakage(&mut a, &present, labels);
    }
    a
}

/// The leakage verdict of one column alone (what train() checks before fitting): the reason it
/// is a suspect, or None. Same rule and numbers as [`audit_column`], without the scorecard's
/// quantiles, outliers and per-level listings, which cost seconds on a million rows.
pub fn leakage_reason(data: &ColumnData, labels: &[Option<bool>], opts: &PreprocessOptions) -> Option<String> {
    let mut a = ColumnAudit::default();
    let present: Vec<bool> = match data {
        ColumnData::Numeric(values) => {
            a.rows = values.len();
            a.nulls = values.iter().filter(|x| x.is_none()).count();
            // Only a column whose AUC may reach the rule's bound is ranked exactly (a sort).
            if may_separate(values, labels) {
                let (s, l): (Vec<f64>, Vec<bool>) = values.iter().zip(labels).filter_map(|(x, l)| Some(((*x)?, (*l)?))).unzip();
                a.univariate_auc = roc_auc(&s, &l).map(|x| x.max(1.0 - x));
            }
            // Only whole numbers in every row can be an id, and only if no two are equal: the
            // first repeat ends the search (counts and codes repeat within a few rows).
            if a.rows >= MIN_ROWS && a.nulls == 0 && values.iter().flatten().all(|x| x.fract() == 0.0) {
                let mut seen = rustc_hash::FxHashSet::default();
                // + 0.0 makes -0.0 the same key as 0.0, as == has them.
                a.id_like = values.iter().flatten().all(|&x| seen.insert((x + 0.0).to_bits()));
            }
            values.iter().map(|x| x.is_some()).collect()
        }
        ColumnData::Categorical { dictionary, codes } => {
            a.rows = codes.len();
            let levels = LevelCounts::of(dictionary, codes, opts);
            a.nulls = levels.nulls;
            a.id_like = a.rows >= MIN_ROWS && a.nulls == 0 && dictionary.len() == a.rows;
            let keys: Vec<i64> = codes.iter().map(|&c| levels.key(c, opts)).collect();
            a.univariate_auc = encoded_auc(&keys, labels);
            codes.iter().map(|&c| levels.present(c)).collect()
        }
    };
    judge_leakage(&mut a, &present, labels);
    (a.leakage_suspect == Some(true)).then(|| a.reason.unwrap_or_default())
}

/// Buckets of [`may_separate`]: the top bits of a value's order key (sign, exponent and the
/// first 4 bits of the fraction, so whole numbers below 32 each have their own).
const AUC_BUCKET_BITS: u32 = 16;
/// Rows from which [`may_separate`] counts buckets before sorting.
const MAY_SEPARATE_MIN_ROWS: usize = 20_000;

/// Whether a number column's univariate ROC AUC (either direction) may reach [`LEAKAGE_AUC`],
/// from counts of each class per bucket of values without sorting them: pairs of leads in
/// different buckets are ordered by their buckets, pairs in one bucket may go either way, so
/// the AUC lies between the share of pairs ordered positive-above-negative by their buckets and
/// that plus the share in one bucket. True when the bounds cannot rule the rule out (NaN values
/// included), so the exact AUC decides.
fn may_separate(values: &[Option<f64>], labels: &[Option<bool>]) -> bool {
    if values.len() < MAY_SEPARATE_MIN_ROWS {
        return true; // a sort of a few rows costs less than the buckets
    }
    let mut counts = vec![[0u64; 2]; 1 << AUC_BUCKET_BITS];
    for (x, l) in values.iter().zip(labels) {
        if let (Some(x), Some(l)) = (x, l) {
            if x.is_nan() {
                return true;
            }
            // The key roc_auc ranks by: buckets ordered as its ranks, -0.0 and 0.0 one value.
            counts[(order_key(*x) >> (64 - AUC_BUCKET_BITS)) as usize][*l as usize] += 1;
        }
    }
    let (mut below_neg, mut ordered, mut within, mut pos, mut neg) = (0u128, 0u128, 0u128, 0u128, 0u128);
    for [n, p] in counts {
        let (n, p) = (n as u128, p as u128);
        ordered += p * below_neg;
        within += p * n;
        below_neg += n;
        (pos, neg) = (pos + p, neg + n);
    }
    if pos == 0 || neg == 0 {
        return false; // no AUC at all
    }
    let pairs = (pos * neg) as f64;
    let (lo, hi) = (ordered as f64 / pairs, (ordered + within) as f64 / pairs);
    // A margin for the rounding of the two divisions.
    hi.max(1.0 - lo) >= LEAKAGE_AUC - 1e-9
}

/// [`leakage_reason`] of every column, the columns spread over worker threads (each is
/// independent and pure computation); in column order.
pub fn leakage_reasons(columns: &[Column], labels: &[Option<bool>], opts: &PreprocessOptions) -> CoreResult<Vec<Option<String>>> {
    let threads = if labels.len() >= 100_000 { worker_threads(4) } else { 1 };
    map_tasks(columns.len(), threads, |i| leakage_reason(&columns[i].data, labels, opts))
        .map_err(|e| core_err!(Internal, "leakage check: {e}"))
}

/// A text column's rows per level, which levels are placeholders, and its NULLs.
struct LevelCounts {
    placeholder: Vec<bool>,
    counts: Vec<usize>,
    nulls: usize,
}

impl LevelCounts {
    fn of(dictionary: &[String], codes: &[u32], opts: &PreprocessOptions) -> LevelCounts {
        let placeholder: Vec<bool> = dictionary.iter().map(|d| opts.missing_values.contains(d)).collect();
        let (mut counts, mut nulls) = (vec![0usize; dictionary.len()], 0);
        for &c in codes {
            match c {
                NULL_CODE => nulls += 1,
                c => counts[c as usize] += 1,
            }
        }
        LevelCounts { placeholder, counts, nulls }
    }

    /// Whether a row has a real value (not NULL, not a placeholder).
    fn present(&self, c: u32) -> bool {
        c != NULL_CODE && !self.placeholder[c as usize]
    }

    /// A row's level as train() encodes it: -1 "(missing)" (NULL or a placeholder), -2
    /// "(other)" (seen fewer than min_level_count times), else the level's code.
    fn key(&self, c: u32, opts: &PreprocessOptions) -> i64 {
        if !self.present(c) {
            -1
        } else if self.counts[c as usize] < opts.min_level_count {
            -2
        } else {
            c as i64
        }
    }
}

/// ROC AUC of each row's level conversion rate (in-sample target encoding), from the counts
/// per level: no per-row scores and no sort of rows.
fn encoded_auc(keys: &[i64], labels: &[Option<bool>]) -> Option<f64> {
    let mut counts: FxHashMap<i64, (u64, u64)> = FxHashMap::default();
    for (k, l) in keys.iter().zip(labels) {
        if let Some(l) = l {
            let e = counts.entry(*k).or_default();
            if *l {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    let mut groups: Vec<(f64, u64, u64)> =
        counts.into_values().map(|(pos, neg)| (pos as f64 / (pos + neg) as f64, pos, neg)).collect();
    roc_auc_of_groups(&mut groups)
}

/// The most frequent levels with their lead counts and conversion rates.
fn levels_json(keys: &[Option<String>], labels: &[Option<bool>]) -> Value {
    let mut by_level: FxHashMap<Option<&str>, (usize, usize, usize)> = FxHashMap::default();
    for (k, l) in keys.iter().zip(labels) {
        let e = by_level.entry(k.as_deref()).or_default();
        e.0 += 1;
        if let Some(l) = l {
            e.1 += 1;
            e.2 += *l as usize;
        }
    }
    let mut levels: Vec<_> = by_level.into_iter().collect();
    levels.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
    Value::Array(
        levels
            .into_iter()
            .take(TOP_LEVELS)
            .map(|(level, (leads, labelled, conv))| {
                let rate = (labelled > 0).then(|| conv as f64 / labelled as f64);
                json!({"level": level, "leads": leads, "conversion_rate": rate})
            })
            .collect(),
    )
}

/// Applies the leakage rule of the module documentation.
fn judge_leakage(a: &mut ColumnAudit, present: &[bool], labels: &[Option<bool>]) {
    let mut n = [0usize; 2];
    let mut filled = [0usize; 2];
    for (p, l) in present.iter().zip(labels) {
        if let Some(l) = l {
            n[*l as usize] += 1;
            filled[*l as usize] += *p as usize;
        }
    }
    if n[0] == 0 || n[1] == 0 {
        return;
    }
    let (fill_pos, fill_neg) = (filled[1] as f64 / n[1] as f64, filled[0] as f64 / n[0] as f64);
    a.fill_rates = Some((fill_pos, fill_neg));
    if a.id_like {
        a.leakage_suspect = Some(false);
        a.reason = Some("a different value in every row: looks like a row id, not a feature".to_string());
        return;
    }
    if n[0] + n[1] < MIN_ROWS {
        a.leakage_suspect = Some(false);
        return;
    }
    let mut reasons = Vec::new();
    if let Some(auc) = a.univariate_auc.filter(|&x| x >= LEAKAGE_AUC) {
        reasons.push(format!(
            "alone it separates converted from other leads almost perfectly (univariate ROC AUC {auc:.3} >= {LEAKAGE_AUC})"
        ));
    }
    let (hi, lo) = (fill_pos.max(fill_neg), fill_pos.min(fill_neg));
    if hi - lo >= FILL_GAP && hi >= FILL_RATIO * lo {
        reasons.push(format!(
            "filled in for {:.0}% of converted leads but {:.0}% of the others, as if recorded after the outcome",
            100.0 * fill_pos,
            100.0 * fill_neg
        ));
    }
    a.leakage_suspect = Some(!reasons.is_empty());
    if !reasons.is_empty() {
        a.reason = Some(reasons.join("; "));
    }
}

/// Pearson correlations and variance inflation factors of numeric columns, missing values
/// replaced by the column's median (as train() imputes). Constant columns get NULL.
pub struct FeatureReport {
    pub correlations: Vec<Vec<Option<f64>>>,
    /// VIF_j = 1 / (1 - R²_j) of column j regressed on the others; Infinity when it is an exact
    /// linear combination of them.
    pub vif: Vec<Option<f64>>,
}

/// `cancel` is asked once per column, per column pair and per elimination step: the work grows
/// with the square (pairs) and cube (inversion) of the column count, so a wide table must stay
/// cancellable (the extension answers from statement_timeout and pg_cancel_backend).
pub fn feature_report(columns: &[Vec<Option<f64>>], cancel: &dyn Cancel) -> CoreResult<FeatureReport> {
    let k = columns.len();
    let standardized: Vec<Option<Vec<f64>>> = columns
        .iter()
        .map(|c| {
            cancel.check("feature_report")?;
            let mut v: Vec<f64> = c.iter().flatten().copied().collect();
            if v.is_empty() {
                return Ok(None);
            }
            sort_floats(&mut v);
            let median = quantile(&v, 0.5);
            let x: Vec<f64> = c.iter().map(|x| x.unwrap_or(median)).collect();
            let mean = x.iter().sum::<f64>() / x.len() as f64;
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
            Ok((sd > 1e-12 * mean.abs().max(1.0)).then(|| x.iter().map(|v| (v - mean) / sd).collect()))
        })
        .collect::<CoreResult<_>>()?;
    let n = columns.first().map_or(0, |c| c.len()) as f64;
    let mut corr = vec![vec![None; k]; k];
    // The matrix is symmetric: each pair is computed once.
    for i in 0..k {
        for j in i..k {
            cancel.check("feature_report")?;
            if let (Some(a), Some(b)) = (&standardized[i], &standardized[j]) {
                let r = if i == j { 1.0 } else { (a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / n).clamp(-1.0, 1.0) };
                corr[i][j] = Some(r);
                corr[j][i] = Some(r);
            }
        }
    }
    // VIFs are the diagonal of the inverse correlation matrix of the non-constant columns,
    // inverted with a tiny ridge so exact collinearity shows as a huge value, reported as Infinity.
    let idx: Vec<usize> = (0..k).filter(|&i| standardized[i].is_some()).collect();
    let m = idx.len();
    let mut aug: Vec<Vec<f64>> = idx
        .iter()
        .enumerate()
        .map(|(r, &i)| {
            let mut row: Vec<f64> = idx.iter().map(|&j| corr[i][j].unwrap()).collect();
            row[r] += VIF_RIDGE;
            row.extend((0..m).map(|c| (c == r) as u8 as f64));
            row
        })
        .collect();
    for col in 0..m {
        cancel.check("feature_report")?;
        let pivot = aug[col][col];
        aug[col].iter_mut().for_each(|v| *v /= pivot);
        let pivot_row = aug[col].clone();
        for (r, row) in aug.iter_mut().enumerate() {
            let f = row[col];
            if r != col && f != 0.0 {
                row.iter_mut().zip(&pivot_row).for_each(|(v, p)| *v -= f * p);
            }
        }
    }
    let mut vif = vec![None; k];
    for (r, &i) in idx.iter().enumerate() {
        let v = aug[r][m + r];
        vif[i] = Some(if v > VIF_INFINITE { f64::INFINITY } else { v.max(1.0) });
    }
    Ok(FeatureReport { correlations: corr, vif })
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
