//! Gradient boosted trees (log-loss objective) grown by LightGBM 4.x behind the small
//! [`TreeBooster`] interface: the pipeline, scoring and explanations do not see the engine.
//!
//! Training runs on a worker thread that never touches Postgres (signals blocked, so LightGBM's
//! OpenMP threads, started from it, inherit a blocked mask too), one tree per LightGBM call; the
//! caller's `progress` callback runs on the calling thread while it waits, so a user's cancel
//! returns at once, and the worker stops before its next tree. The fitted model is LightGBM's
//! model text; scoring and TreeSHAP walk our own copy of its trees ([`super::trees`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::models::flat_trees::FlatTrees;
use crate::models::forust_json::parse_forust_json;
use crate::models::gbm_inputs::{dataset, lightgbm_parameters, stopped};
pub use crate::models::gbm_inputs::{GbmData, GbmOptions};
use crate::models::leaf_masks::LeafMasks;
use crate::models::lightgbm_ffi::{exclusive_unless, LgbmBooster};
use crate::models::lightgbm_text::parse_model_text;
use crate::models::tree_sum::sum_trees;
use crate::models::trees::{Tree, MAX_TREES};
use crate::models::treeshap::TreeShapPlan;
use crate::resources::block_signals;
use crate::{core_err, CoreResult};

/// What the pipeline, scoring and explanations need from a tree booster.
pub trait TreeBooster {
    /// Log-odds for one row of model inputs (NaN = missing).
    fn log_odds(&self, inputs: &[f64]) -> f64;
    /// SHAP contributions (TreeSHAP) per input, written to `out`; returns the base value, so
    /// that base + sum(out) = log_odds(inputs).
    fn contributions(&self, inputs: &[f64], out: &mut [f64]) -> f64;
    /// Number of trees used for prediction.
    fn trees(&self) -> usize;
}

/// A fitted booster: the text it was stored as (what artifacts hold) and its trees in our form.
pub struct GbmModel {
    source: TreeSource,
    /// Added to the trees' sum (0 for LightGBM, whose first tree holds the starting score).
    base_score: f64,
    trees: Vec<Tree>,
    /// The same trees as scoring sums them.
    scoring: Scoring,
    /// TreeSHAP tables and constants, computed once per model, on its first explanation.
    shap: OnceLock<TreeShapPlan>,
    /// Squared-error trees of a numeric label (`options.task = 'regression'`): the sum of the
    /// trees is the predicted value, not log-odds. Read from the model text's objective.
    regression: bool,
}

/// How scoring sums the trees, the fastest form that holds them; all sum bit for bit alike.
#[derive(Debug, Clone)]
enum Scoring {
    /// Leaf masks per input bin (trees of up to 32 leaves: LightGBM's default is 31).
    Masks(LeafMasks),
    /// One flat array of nodes (trees of more leaves).
    Flat(FlatTrees),
    /// The trees themselves (forust-ml trees with missing branches of their own).
    Walk,
}

impl Scoring {
    fn of(trees: &[Tree]) -> Scoring {
        match LeafMasks::new(trees) {
            Some(masks) => Scoring::Masks(masks),
            None => FlatTrees::new(trees).map_or(Scoring::Walk, Scoring::Flat),
        }
    }
}

#[derive(Clone, PartialEq)]
enum TreeSource {
    /// LightGBM's model text.
    LightGbm(String),
    /// forust-ml's JSON, for a model trained before LightGBM (see `forust_json.rs`).
    Forust(String),
}

impl GbmModel {
    /// Reads LightGBM's model text; an error says what in it this build cannot score.
    pub fn from_model_text(text: String) -> Result<GbmModel, String> {
        let (trees, regression) = parse_model_text(&text)?;
        Ok(GbmModel { regression, ..GbmModel::of(TreeSource::LightGbm(text), 0.0, trees) })
    }

    /// Reads a forust-ml booster's JSON (artifacts written before LightGBM).
    pub fn from_forust_json(json: String) -> Result<GbmModel, String> {
        let (base_score, trees) = parse_forust_json(&json)?;
        Ok(GbmModel::of(TreeSource::Forust(json), base_score, trees))
    }

    fn of(source: TreeSource, base_score: f64, trees: Vec<Tree>) -> GbmModel {
        let scoring = Scoring::of(&trees);
        GbmModel { source, base_score, trees, scoring, shap: OnceLock::new(), regression: false }
    }

    /// LightGBM's model text, or forust's JSON for a model trained before LightGBM.
    pub fn model_text(&self) -> &str {
        match &self.source {
            TreeSource::LightGbm(t) | TreeSource::Forust(t) => t,
        }
    }

    /// Whether the trees came from forust-ml (stored as such again).
    pub fn is_forust(&self) -> bool {
        matches!(self.source, TreeSource::Forust(_))
    }

    /// Whether the trees predict a value (squared error) rather than log-odds.
    pub fn is_regression(&self) -> bool {
        self.regression
    }

    /// TreeSHAP's form of the trees, prepared on the first explanation.
    fn treeshap_plan(&self) -> &TreeShapPlan {
        self.shap.get_or_init(|| TreeShapPlan::new(&self.trees))
    }

    /// Bytes explanations keep for this model besides its trees (prepared if not yet).
    pub fn treeshap_bytes(&self) -> usize {
        self.treeshap_plan().bytes()
    }

    /// The trees used for prediction, in boosting order.
    pub fn tree_list(&self) -> &[Tree] {
        &self.trees
    }

    /// The leaf masks scoring sums the trees with, when the trees fit them: a scoring plan
    /// finds a lead's bins for them straight from its raw values (`serving/tree_plan.rs`).
    pub fn leaf_masks(&self) -> Option<&LeafMasks> {
        match &self.scoring {
            Scoring::Masks(masks) => Some(masks),
            _ => None,
        }
    }

    /// Log-odds of a lead whose bins among `masks` (this model's [`GbmModel::leaf_masks`]) start
    /// at `at`: the same bits as [`TreeBooster::log_odds`] of its model inputs.
    #[inline]
    pub fn log_odds_of_bins(&self, masks: &LeafMasks, at: &[u32]) -> f64 {
        self.base_score + masks.sum_of_bins(at)
    }

    /// [`Self::log_odds_of_bins`] of several leads into `out`, their bin starts one lead after
    /// the other in `at` (see [`LeafMasks::sums_of_bins`]).
    pub fn log_odds_of_bin_rows(&self, masks: &LeafMasks, at: &[u32], out: &mut [f64]) {
        masks.sums_of_bins(at, out);
        // sum + base equals base + sum to the bit (IEEE addition commutes).
        out.iter_mut().for_each(|sum| *sum += self.base_score);
    }

    /// Whether the booster (read from an artifact) can score rows of `inputs` inputs safely and
    /// correctly (see [`Tree::check`]).
    pub fn check(&self, inputs: usize) -> Result<(), String> {
        if !self.base_score.is_finite() {
            return Err(format!("the booster's base score is {}", self.base_score));
        }
        if self.trees.len() > MAX_TREES {
            return Err(format!("the booster has {} trees, more than {MAX_TREES}", self.trees.len()));
        }
        for (t, tree) in self.trees.iter().enumerate() {
            tree.check(inputs).map_err(|e| format!("tree {t}: {e}"))?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for GbmModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GbmModel({} trees)", self.trees())
    }
}

impl Clone for GbmModel {
    fn clone(&self) -> Self {
        let (source, base_score, trees, scoring) =
            (self.source.clone(), self.base_score, self.trees.clone(), self.scoring.clone());
        GbmModel { source, base_score, trees, scoring, shap: OnceLock::new(), regression: self.regression }
    }
}

impl PartialEq for GbmModel {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for GbmModel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.model_text())
    }
}

impl<'de> Deserialize<'de> for GbmModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        GbmModel::from_model_text(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TreeBooster for GbmModel {
    #[inline]
    fn log_odds(&self, inputs: &[f64]) -> f64 {
        // The base plus the trees' sum, in this order: forust's models score bit for bit.
        match &self.scoring {
            Scoring::Masks(masks) => self.base_score + masks.sum(inputs),
            Scoring::Flat(flat) => self.base_score + flat.sum(inputs),
            Scoring::Walk => self.base_score + walked_sum(&self.trees, inputs),
        }
    }

    fn contributions(&self, inputs: &[f64], out: &mut [f64]) -> f64 {
        let plan = self.treeshap_plan();
        out.fill(0.0);
        self.base_score + plan.contributions(inputs, out)
    }

    fn trees(&self) -> usize {
        self.trees.len()
    }
}

/// The trees' outputs for `inputs` by walking each tree (`Tree::predict`), added in the canonical
/// order (`tree_sum.rs`): the reference the faster forms are tested against.
pub fn walked_sum(trees: &[Tree], inputs: &[f64]) -> f64 {
    sum_trees(trees.len(), |t| trees[t].predict(inputs))
}

/// Histogram bins per input LightGBM cuts numbers into (its default `max_bin`).
const HISTOGRAM_BINS: u64 = 256;

/// Bytes a boosted-trees fit holds at its peak, None if too many to count: the row-major inputs
/// (8 bytes each) and LightGBM's binned copy (up to 4 bytes per bin index with its row-wise
/// copy), for the training and validation rows; per training row the scores, gradients and
/// hessians (16); and a histogram (gradient and hessian sums, 16 bytes per bin) for every leaf
/// still open to splitting.
pub fn gbm_training_bytes(rows: usize, validation_rows: usize, inputs: usize, opts: &GbmOptions) -> Option<u64> {
    let cells = (rows as u64).checked_add(validation_rows as u64)?.checked_mul(inputs as u64)?;
    // A tree has at most max_leaves leaves, 2^max_depth, and one per training row.
    let open_leaves = (opts.max_leaves as u64).min(1u64 << opts.max_depth.min(63)).min(rows.max(1) as u64);
    let histograms = open_leaves.checked_mul(inputs as u64)?.checked_mul(HISTOGRAM_BINS * 16)?;
    cells.checked_mul(12)?.checked_add((rows as u64).checked_mul(16)?)?.checked_add(histograms)
}

/// What the worker tells the waiting thread: a tree grown (trees so far, validation log loss,
/// NaN without validation), then the result.
enum Report {
    Grown(usize, f64),
    Done(Box<CoreResult<GbmModel>>),
}

fn fit_blocking(
    train: GbmData,
    valid: Option<GbmData>,
    opts: GbmOptions,
    stop: &AtomicBool,
    report: &mpsc::Sender<Report>,
) -> CoreResult<GbmModel> {
    let lightgbm = |e: String| core_err!(FitFailed, "LightGBM: {e}");
    let Some(_alone) = exclusive_unless(stop) else { return Err(core_err!(Canceled, "the fit was stopped")) };
    let rounds = opts.early_stopping_rounds.filter(|_| valid.is_some());
    let regression = train.targets.is_some();
    let params = lightgbm_parameters(&opts, rounds.is_some(), train.rows, train.cols, &train.categorical, regression);
    let train_set = dataset(&train, &params, None, stop)?;
    // LightGBM has its binned copy: the row-major inputs are not needed any more.
    drop(train);
    let valid_set = match valid.filter(|_| rounds.is_some()) {
        Some(v) => Some(dataset(&v, &params, Some(&train_set), stop)?),
        None => None,
    };
    stopped(stop)?;
    let mut booster = LgbmBooster::new(&train_set, &params).map_err(lightgbm)?;
    if let Some(v) = &valid_set {
        booster.add_validation(v).map_err(lightgbm)?;
    }
    let (mut best_trees, mut best_loss, mut trees) = (0usize, f64::INFINITY, 0usize);
    while trees < opts.trees {
        stopped(stop)?;
        let finished = booster.grow_one_tree().map_err(lightgbm)?;
        if finished {
            break; // no split left worth making: LightGBM added no tree
        }
        trees += 1;
        let loss = match rounds {
            Some(_) => booster.evaluate(1).map_err(lightgbm)?.first().copied().unwrap_or(f64::NAN),
            None => f64::NAN,
        };
        let _ = report.send(Report::Grown(trees, loss));
        if let Some(rounds) = rounds {
            if loss < best_loss {
                (best_loss, best_trees) = (loss, trees);
            } else if trees - best_trees >= rounds {
                break;
            }
        }
    }
    // With early stopping the model keeps the trees up to the best validation loss.
    let keep = if rounds.is_some() { best_trees.max(1) } else { 0 };
    let text = booster.model_text(keep).map_err(lightgbm)?;
    GbmModel::from_model_text(text).map_err(|e| core_err!(Internal, "LightGBM's model text does not read back: {e}"))
}

/// A fit that was canceled and had not stopped a second later: the next fit waits for it, so
/// at most one abandoned fit ever runs.
static ABANDONED: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

/// Fits boosted trees on a worker thread, calling `progress(trees grown, validation log loss)`
/// on this thread after each tree and at least every 50 ms; an Err from it stops the fit before its next tree and is
/// returned as [`crate::ErrorKind::Canceled`].
pub fn fit_gbm(
    train: GbmData,
    valid: Option<GbmData>,
    opts: &GbmOptions,
    progress: &mut dyn FnMut(usize, f64) -> Result<(), String>,
) -> CoreResult<GbmModel> {
    if train.rows == 0 || train.x.len() != train.rows * train.cols {
        return Err(core_err!(InsufficientData, "boosted trees need a non-empty training matrix"));
    }
    opts.check()?;
    if let Some(earlier) = ABANDONED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = earlier.join();
    }
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let (opts_owned, worker_stop) = (*opts, stop.clone());
    let handle = std::thread::Builder::new()
        .name("lead_scoring_gbm".into())
        .spawn(move || {
            block_signals();
            let fit = || fit_blocking(train, valid, opts_owned, &worker_stop, &tx);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(fit))
                .unwrap_or_else(|_| Err(core_err!(Internal, "the booster panicked")));
            let _ = tx.send(Report::Done(Box::new(r)));
        })
        .map_err(|e| core_err!(Internal, "cannot start a training thread: {e}"))?;
    let (mut trees, mut loss) = (0, f64::NAN);
    loop {
        let asked = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Report::Done(r)) => {
                let _ = handle.join();
                return *r;
            }
            Ok(Report::Grown(t, l)) => {
                (trees, loss) = (t, l);
                progress(trees, loss)
            }
            Err(mpsc::RecvTimeoutError::Timeout) => progress(trees, loss),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = handle.join();
                return Err(core_err!(Internal, "the training thread stopped unexpectedly"));
            }
        };
        if let Err(m) = asked {
            // Stop before the next tree and wait for that (up to a second), so the cancel
            // leaves no thread running.
            stop.store(true, Ordering::Relaxed);
            let deadline = std::time::Instant::now() + Duration::from_secs(1);
            let finished = loop {
                match rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
                    Ok(Report::Grown(..)) => continue,
                    Ok(Report::Done(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => break true,
                    Err(mpsc::RecvTimeoutError::Timeout) => break false,
                }
            };
            if finished {
                let _ = handle.join();
            } else {
                *ABANDONED.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
            }
            return Err(core_err!(Canceled, "{m}"));
        }
    }
}

/// Whether an abandoned fit's thread is still running (for tests: a cancel must leave none).
#[cfg(test)]
pub fn abandoned_fit_running() -> bool {
    ABANDONED.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|h| !h.is_finished())
}

#[cfg(test)]
#[path = "gbm_tests.rs"]
mod tests;
