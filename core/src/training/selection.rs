//! Model selection without touching the test part: k-fold cross-validation on the training
//! part (stratified, or expanding windows in time order for a time split) and grid or random
//! search over hyperparameters scored by cross-validated ROC AUC.

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::data::row_values;
use crate::data::TrainingData;
use crate::data::{SeededRng, SplitKey};
use crate::evaluation::{average_precision, brier, log_loss, roc_auc};
use crate::evaluation::{expanding_window_folds, stratified_k_fold, summarize, MetricSummary};
use crate::resources::Cancel;
use crate::training::fit::{fit_on_rows, FitParams, Progress};
use crate::training::options::{AlphaSpace, ClassWeight, SearchSpec, TrainOptions};
use crate::CoreResult;

/// Cross-validated metrics of one set of hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    pub folds: usize,
    pub time_ordered: bool,
    pub roc_auc: MetricSummary,
    pub pr_auc: MetricSummary,
    pub log_loss: MetricSummary,
    pub brier: MetricSummary,
}

/// One candidate of a search and how it scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub params: FitParams,
    pub cv: CvReport,
}

/// The (training rows, held-out rows) of one cross-validation fold.
pub type Fold = (Vec<usize>, Vec<usize>);

/// Folds over the training rows (row ids of `data`): expanding windows in time order when the
/// split is by time, stratified otherwise.
pub fn training_folds(data: &TrainingData, train: &[usize], k: usize, seed: u64) -> CoreResult<(Vec<Fold>, bool)> {
    let (folds, time_ordered) = match &data.split_key {
        SplitKey::Time(times) => {
            let mut order: Vec<usize> = (0..train.len()).collect();
            order.sort_by(|&a, &b| {
                times[train[a]]
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&times[train[b]].unwrap_or(f64::NEG_INFINITY))
                    .then(a.cmp(&b))
            });
            (expanding_window_folds(&order, k), true)
        }
        _ => {
            let labels: Vec<bool> = train.iter().map(|&r| data.labels[r]).collect();
            (stratified_k_fold(&labels, k, seed), false)
        }
    };
    let folds = folds.map_err(|e| core_err!(InsufficientData, "cross-validation: {e}"))?;
    let to_rows = |idx: &[usize]| idx.iter().map(|&i| train[i]).collect::<Vec<_>>();
    Ok((folds.iter().map(|f| (to_rows(&f.train), to_rows(&f.validation))).collect(), time_ordered))
}

/// Fits on each fold's training rows and measures on its held-out rows (before calibration).
pub fn cross_validate(
    data: &TrainingData,
    folds: &[(Vec<usize>, Vec<usize>)],
    time_ordered: bool,
    params: &FitParams,
    opts: &TrainOptions,
    progress: Progress<'_>,
    cancel: &dyn Cancel,
) -> CoreResult<CvReport> {
    let (mut auc, mut ap, mut ll, mut br) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut raw = Vec::with_capacity(data.columns.len());
    let mut scratch = Vec::new();
    for (fold_train, fold_valid) in folds {
        cancel.check("cross-validation")?;
        let fitted = fit_on_rows(data, fold_train, params, opts, None, None, &mut *progress, cancel)?;
        let mut scores = Vec::with_capacity(fold_valid.len());
        for &r in fold_valid {
            row_values(&data.columns, r, &mut raw);
            scores.push(fitted.model.probability(&raw, &mut scratch)?);
        }
        let labels: Vec<bool> = fold_valid.iter().map(|&r| data.labels[r]).collect();
        // A fold without both classes has no AUC; it still counts for log loss and Brier.
        if let Some(a) = roc_auc(&scores, &labels) {
            auc.push(a);
        }
        if let Some(a) = average_precision(&scores, &labels) {
            ap.push(a);
        }
        ll.push(log_loss(&scores, &labels));
        br.push(brier(&scores, &labels));
    }
    if auc.is_empty() {
        return Err(core_err!(InsufficientData, "cross-validation: no fold has both converted and non-converted leads"));
    }
    Ok(CvReport {
        folds: folds.len(),
        time_ordered,
        roc_auc: summarize(&auc),
        pr_auc: summarize(&ap),
        log_loss: summarize(&ll),
        brier: summarize(&br),
    })
}

/// The candidates a search tries, deterministic for the seed. Logistic models vary alpha and
/// class weight; boosted trees vary learning rate, depth, leaves and class weight.
pub fn candidates(spec: &SearchSpec, base: &FitParams, seed: u64) -> Vec<FitParams> {
    let or_base = |v: &[ClassWeight]| if v.is_empty() { vec![base.class_weight] } else { v.to_vec() };
    let weights = or_base(&spec.class_weights);
    let is_gbm = base.algorithm == crate::training::options::Algorithm::Gbm;
    let list_or = |v: &Vec<f64>, d: f64| if v.is_empty() { vec![d] } else { v.clone() };
    let ulist_or = |v: &Vec<usize>, d: usize| if v.is_empty() { vec![d] } else { v.clone() };
    let (lrs, depths, leaves) = (
        list_or(&spec.learning_rates, base.gbm.learning_rate),
        ulist_or(&spec.max_depths, base.gbm.max_depth),
        ulist_or(&spec.max_leaves, base.gbm.max_leaves),
    );
    let alphas_list = match (&spec.alphas, is_gbm) {
        (_, true) => vec![base.alpha],
        (AlphaSpace::List(a), false) => a.clone(),
        (AlphaSpace::LogRange { .. }, false) => vec![],
    };
    let make = |alpha: f64, class_weight: ClassWeight, lr: f64, depth: usize, leaf: usize| {
        let mut p = base.clone();
        p.alpha = alpha;
        p.class_weight = class_weight;
        if is_gbm {
            p.gbm.learning_rate = lr;
            p.gbm.max_depth = depth;
            p.gbm.max_leaves = leaf;
        }
        p
    };
    match spec.random_iterations {
        None => {
            let mut out = Vec::new();
            for &alpha in &alphas_list {
                for &w in &weights {
                    for &lr in &lrs {
                        for &d in &depths {
                            for &l in &leaves {
                                out.push(make(alpha, w, lr, d, l));
                            }
                        }
                    }
                }
            }
            out
        }
        Some(n) => {
            let mut rng = SeededRng::new(seed ^ 0x5EA7C4);
            let unit = |rng: &mut SeededRng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            (0..n)
                .map(|_| {
                    let alpha = match (&spec.alphas, is_gbm) {
                        (_, true) => base.alpha,
                        (AlphaSpace::List(a), false) => a[rng.below(a.len())],
                        (AlphaSpace::LogRange { min, max }, false) => (min.ln() + unit(&mut rng) * (max.ln() - min.ln())).exp(),
                    };
                    let w = weights[rng.below(weights.len())];
                    let lr = lrs[rng.below(lrs.len())];
                    let d = depths[rng.below(depths.len())];
                    let l = leaves[rng.below(leaves.len())];
                    make(alpha, w, lr, d, l)
                })
                .collect()
        }
    }
}

/// Runs the search; returns the winner (highest mean CV ROC AUC; on a tie the larger alpha,
/// i.e. the simpler model) and every candidate's scores.
#[allow(clippy::too_many_arguments)]
pub fn search(
    data: &TrainingData,
    folds: &[(Vec<usize>, Vec<usize>)],
    time_ordered: bool,
    spec: &SearchSpec,
    base: &FitParams,
    opts: &TrainOptions,
    progress: Progress<'_>,
    cancel: &dyn Cancel,
) -> CoreResult<(FitParams, Vec<Candidate>)> {
    let mut tried = Vec::new();
    for params in candidates(spec, base, opts.split.seed) {
        cancel.check("the hyperparameter search")?;
        let cv = cross_validate(data, folds, time_ordered, &params, opts, &mut *progress, cancel)?;
        tried.push(Candidate { params, cv });
    }
    let best = tried
        .iter()
        // On a tie, the simpler model: larger alpha, or smaller learning rate and depth.
        .max_by(|a, b| {
            a.cv.roc_auc
                .mean
                .total_cmp(&b.cv.roc_auc.mean)
                .then(a.params.alpha.total_cmp(&b.params.alpha))
                .then(b.params.gbm.max_depth.cmp(&a.params.gbm.max_depth))
        })
        .ok_or_else(|| core_err!(InvalidArgument, "the search has no candidates"))?
        .params
        .clone();
    Ok((best, tried))
}
