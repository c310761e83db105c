//! Cross-validation folds and the summary of a metric across folds.
//!
//! Folds are lists of indices into the rows the caller passes (normally the training part
//! only), so the same rows can be re-fitted fold by fold. Deterministic for a seed.

use serde::{Deserialize, Serialize};

use crate::data::SeededRng;

/// One cross-validation fold: indices into the rows given to the fold function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Rows to fit on (ascending for stratified folds, oldest first for time folds).
    pub train: Vec<usize>,
    /// Rows to evaluate on (same ordering convention as `train`).
    pub validation: Vec<usize>,
}

/// Stratified k-fold: each class is shuffled with the seed (class `false` with `seed`, class
/// `true` with `seed + 1`) and dealt round-robin into the `k` folds; the deal continues
/// across classes, so fold sizes differ by at most 1 overall and per class. Every row is in
/// exactly one validation fold and in the training rows of the other `k - 1` folds.
/// Indices in each fold are ascending.
///
/// Errors: `k < 2`, or `k` larger than the number of rows of the rarer class (a fold
/// would then have no row of that class, and AUC would be undefined on it).
pub fn stratified_k_fold(labels: &[bool], k: usize, seed: u64) -> Result<Vec<Fold>, String> {
    if k < 2 {
        return Err(format!("cross-validation needs at least 2 folds, got {k}"));
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let rarer = positives.min(labels.len() - positives);
    if k > rarer {
        return Err(format!(
            "stratified {k}-fold cross-validation needs at least {k} rows of each class; the rarer class has {rarer}"
        ));
    }
    let mut fold_of = vec![0usize; labels.len()];
    let mut next = 0usize;
    for class in [false, true] {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        SeededRng::new(seed.wrapping_add(class as u64)).shuffle(&mut idx);
        for i in idx {
            fold_of[i] = next;
            next = (next + 1) % k;
        }
    }
    Ok((0..k)
        .map(|f| {
            let (validation, train) = (0..labels.len()).partition(|&i| fold_of[i] == f);
            Fold { train, validation }
        })
        .collect())
}

/// Expanding-window (time-series) folds, as scikit-learn's `TimeSeriesSplit(n_splits=k)`.
///
/// `order` holds row indices sorted oldest first. It is cut into `k + 1` consecutive blocks:
/// each validation block has `n / (k + 1)` rows (integer division) and the first block takes
/// the remainder, exactly as `TimeSeriesSplit` sizes them. Fold `i` trains on blocks
/// `0..=i` and validates on block `i + 1`, so validation rows are always later in `order`
/// than every training row. Indices come back in `order`'s order. Rows with equal times
/// may fall on both sides of a cut; the caller decides their order.
///
/// Errors: `k < 2`, or `k > n / 2` (so the first training block has at least as many rows
/// as a validation block and each block has at least one row).
pub fn expanding_window_folds(order: &[usize], k: usize) -> Result<Vec<Fold>, String> {
    let n = order.len();
    if k < 2 {
        return Err(format!("cross-validation needs at least 2 folds, got {k}"));
    }
    if k > n / 2 {
        return Err(format!("time-ordered {k}-fold cross-validation needs at least {} rows, got {n}", 2 * k));
    }
    let block = n / (k + 1);
    let first = n - k * block;
    Ok((0..k)
        .map(|i| {
            let start = first + i * block;
            Fold { train: order[..start].to_vec(), validation: order[start..start + block].to_vec() }
        })
        .collect())
}

/// Mean and spread of one metric over the folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// Arithmetic mean of `values`.
    pub mean: f64,
    /// Sample standard deviation (ddof = 1, like pandas' `std()`; numpy's default is
    /// ddof = 0). Zero with a single value.
    pub std: f64,
    /// The per-fold values in fold order.
    pub values: Vec<f64>,
}

/// Summarises per-fold metric values. With no values, `mean` and `std` are NaN
/// (serialised by serde_json as `null`); a NaN value makes both NaN.
pub fn summarize(values: &[f64]) -> MetricSummary {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let std = match n {
        0 => f64::NAN,
        1 => 0.0 * mean, // NaN stays NaN
        _ => (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt(),
    };
    MetricSummary { mean, std, values: values.to_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize, every: usize) -> Vec<bool> {
        (0..n).map(|i| i % every == 0).collect()
    }

    /// Every row is validated exactly once, and trains in every other fold.
    fn assert_partition(folds: &[Fold], n: usize) {
        let mut seen = vec![0usize; n];
        for f in folds {
            let mut all: Vec<usize> = f.train.iter().chain(&f.validation).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>(), "train and validation cover all rows once");
            for &i in &f.validation {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
    }

    #[test]
    fn stratified_folds_partition_and_stratify() {
        for (n, every, k) in [(103, 4, 5), (50, 2, 2), (37, 7, 5), (10, 3, 3)] {
            let y = labels(n, every);
            let folds = stratified_k_fold(&y, k, 42).unwrap();
            assert_eq!(folds.len(), k);
            assert_partition(&folds, n);
            for class in [false, true] {
                let counts: Vec<usize> = folds.iter().map(|f| f.validation.iter().filter(|&&i| y[i] == class).count()).collect();
                let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
                assert!(hi - lo <= 1 && *lo >= 1, "class {class} counts {counts:?}");
            }
            let sizes: Vec<usize> = folds.iter().map(|f| f.validation.len()).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
            assert!(folds.iter().all(|f| f.train.windows(2).all(|w| w[0] < w[1])));
            assert!(folds.iter().all(|f| f.validation.windows(2).all(|w| w[0] < w[1])));
        }
    }

    #[test]
    fn stratified_folds_are_deterministic_for_a_seed() {
        let y = labels(200, 3);
        let a = stratified_k_fold(&y, 5, 7).unwrap();
        assert_eq!(a, stratified_k_fold(&y, 5, 7).unwrap());
        assert_ne!(a, stratified_k_fold(&y, 5, 8).unwrap());
    }

    #[test]
    fn stratified_errors() {
        assert!(stratified_k_fold(&labels(20, 2), 1, 0).unwrap_err().contains("at least 2 folds"));
        let y = labels(20, 5); // 4 positives
        assert!(stratified_k_fold(&y, 4, 0).is_ok());
        assert!(stratified_k_fold(&y, 5, 0).unwrap_err().contains("rarer class has 4"));
        assert!(stratified_k_fold(&[true; 10], 2, 0).is_err());
        assert!(stratified_k_fold(&[], 2, 0).is_err());
    }

    /// sklearn.model_selection.TimeSeriesSplit(n_splits=k).split(range(n)), hand-checked
    /// against its source: test_size = n // (k + 1), test starts at n - k * test_size.
    #[test]
    fn expanding_folds_match_time_series_split() {
        let ident = |n: usize| (0..n).collect::<Vec<_>>();
        let r = |a: usize, b: usize| (a..b).collect::<Vec<_>>();
        // n = 10, k = 3: test_size 2, first test at 4.
        let f = expanding_window_folds(&ident(10), 3).unwrap();
        let want = [(r(0, 4), r(4, 6)), (r(0, 6), r(6, 8)), (r(0, 8), r(8, 10))];
        assert_eq!(f.iter().map(|f| (f.train.clone(), f.validation.clone())).collect::<Vec<_>>(), want);
        // n = 7, k = 2: test_size 2, first test at 3.
        let f = expanding_window_folds(&ident(7), 2).unwrap();
        assert_eq!((f[0].train.clone(), f[0].validation.clone()), (r(0, 3), r(3, 5)));
        assert_eq!((f[1].train.clone(), f[1].validation.clone()), (r(0, 5), r(5, 7)));
        // n = 12, k = 5: test_size 2, first test at 2.
        let f = expanding_window_folds(&ident(12), 5).unwrap();
        assert_eq!(f.iter().map(|f| f.train.len()).collect::<Vec<_>>(), [2, 4, 6, 8, 10]);
        assert!(f.iter().all(|f| f.validation.len() == 2));
        // n = 23, k = 4: test_size 4, first test at 7.
        let f = expanding_window_folds(&ident(23), 4).unwrap();
        assert_eq!(f.iter().map(|f| f.validation[0]).collect::<Vec<_>>(), [7, 11, 15, 19]);
        assert_eq!(f[3].validation, r(19, 23));
    }

    #[test]
    fn expanding_folds_never_validate_on_older_rows() {
        // Row ids in time order: newest row first in the table.
        let order: Vec<usize> = (0..50).rev().collect();
        let pos: Vec<usize> = {
            let mut p = vec![0; 50];
            order.iter().enumerate().for_each(|(rank, &row)| p[row] = rank);
            p
        };
        let folds = expanding_window_folds(&order, 4).unwrap();
        for f in &folds {
            let newest_train = f.train.iter().map(|&i| pos[i]).max().unwrap();
            assert!(f.validation.iter().all(|&i| pos[i] > newest_train));
        }
        let mut validated: Vec<usize> = folds.iter().flat_map(|f| f.validation.clone()).collect();
        validated.sort_unstable();
        validated.dedup();
        assert_eq!(validated.len(), 4 * 10, "validation blocks never overlap");
    }

    #[test]
    fn expanding_errors() {
        assert!(expanding_window_folds(&[0, 1, 2, 3], 1).is_err());
        assert!(expanding_window_folds(&[0, 1, 2, 3], 2).is_ok());
        assert!(expanding_window_folds(&[0, 1, 2, 3, 4], 3).unwrap_err().contains("at least 6 rows"));
    }

    #[test]
    fn summary_uses_sample_std() {
        let s = summarize(&[0.7, 0.8, 0.9]);
        assert!((s.mean - 0.8).abs() < 1e-15 && (s.std - 0.1).abs() < 1e-15);
        assert_eq!(s.values, vec![0.7, 0.8, 0.9]);
        assert_eq!((summarize(&[0.5]).mean, summarize(&[0.5]).std), (0.5, 0.0));
        let e = summarize(&[]);
        assert!(e.mean.is_nan() && e.std.is_nan());
        assert!(summarize(&[f64::NAN]).std.is_nan());
        let json = serde_json::to_value(summarize(&[1.0, 3.0])).unwrap();
        assert_eq!(json, serde_json::json!({"mean": 2.0, "std": 2f64.sqrt(), "values": [1.0, 3.0]}));
    }
}
