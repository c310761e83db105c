//! Gradient boosted trees (log-loss objective) behind the small [`TreeBooster`] interface, so
//! another booster can replace forust-ml without touching the pipeline, scoring or explanations.
//!
//! Training runs on a worker thread that never touches Postgres (signals blocked), with a
//! bounded number of threads; the caller's `progress` callback runs on the calling thread while
//! it waits, so a user's cancel returns at once, and the worker stops after its current tree
//! ([`super::gbm_stop`]).

use std::sync::mpsc;
use std::time::Duration;

use forust_ml::gradientbooster::{ContributionsMethod, GrowPolicy};
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::models::gbm_stop;
use crate::models::treeshap::TreeShapPlan;
use crate::resources::block_signals;
use crate::{core_err, CoreResult};

pub const MAX_TREES: usize = 100_000;
pub const MAX_TREE_DEPTH: usize = 64;

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

/// Hyperparameters of a boosted-trees fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GbmOptions {
    pub trees: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    pub max_leaves: usize,
    pub min_child_weight: f64,
    pub subsample: f64,
    pub l2: f64,
    /// Stop when validation log loss has not improved for this many trees.
    pub early_stopping_rounds: Option<usize>,
    pub threads: usize,
    pub seed: u64,
}

impl Default for GbmOptions {
    fn default() -> Self {
        GbmOptions {
            trees: 300,
            learning_rate: 0.05,
            max_depth: 6,
            max_leaves: 31,
            min_child_weight: 1.0,
            subsample: 1.0,
            l2: 1.0,
            early_stopping_rounds: Some(30),
            threads: 1,
            seed: 42,
        }
    }
}

impl GbmOptions {
    /// The options a fit accepts.
    // Negated comparisons on purpose: NaN fails them.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn check(&self) -> CoreResult<()> {
        if self.trees == 0 || !(self.learning_rate > 0.0) || !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return Err(core_err!(InvalidArgument, "trees must be positive, learning_rate above 0 and subsample in (0, 1]"));
        }
        Ok(())
    }
}

/// A fitted forust-ml booster, stored in artifacts as forust's own JSON.
pub struct ForustModel {
    booster: GradientBooster,
    /// TreeSHAP tables and constants, computed once per model, on its first explanation.
    shap: std::sync::OnceLock<TreeShapPlan>,
}

impl ForustModel {
    fn new(booster: GradientBooster) -> ForustModel {
        ForustModel { booster, shap: std::sync::OnceLock::new() }
    }

    /// Whether the booster (read from an artifact) can score rows of `inputs` inputs safely and
    /// correctly. Each tree must be a tree: every split's children come after it (so no walk can
    /// loop) and every node but the root has exactly one parent (so every node is reached once);
    /// split features within the inputs; finite numbers; depth at most [`MAX_TREE_DEPTH`]
    /// (explanations recurse and size buffers by depth).
    pub fn check(&self, inputs: usize) -> Result<(), String> {
        let b = &self.booster;
        if !b.base_score.is_finite() {
            return Err(format!("the booster's base score is {}", b.base_score));
        }
        if b.trees.len() > MAX_TREES {
            return Err(format!("the booster has {} trees, more than {MAX_TREES}", b.trees.len()));
        }
        for (t, tree) in b.trees.iter().enumerate() {
            check_tree(tree, inputs).map_err(|e| format!("tree {t}: {e}"))?;
        }
        Ok(())
    }

    /// forust's own Shapley values (slow: for cross-checking [`TreeBooster::contributions`]).
    pub fn reference_contributions(&self, inputs: &[f64]) -> Vec<f64> {
        let m = Matrix::new(inputs, 1, inputs.len());
        self.booster.predict_contributions(&m, ContributionsMethod::Shapley, false)
    }
}

impl std::fmt::Debug for ForustModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ForustModel({} trees)", self.trees())
    }
}

impl Clone for ForustModel {
    fn clone(&self) -> Self {
        let json = self.booster.json_dump().expect("a fitted booster serializes");
        ForustModel::new(GradientBooster::from_json(&json).expect("its own JSON parses"))
    }
}

impl PartialEq for ForustModel {
    fn eq(&self, other: &Self) -> bool {
        self.booster.json_dump().ok() == other.booster.json_dump().ok()
    }
}

impl Serialize for ForustModel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let json = self.booster.json_dump().map_err(serde::ser::Error::custom)?;
        s.serialize_str(&json)
    }
}

impl<'de> Deserialize<'de> for ForustModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = String::deserialize(d)?;
        let booster = GradientBooster::from_json(&json).map_err(serde::de::Error::custom)?;
        Ok(ForustModel::new(booster))
    }
}

impl TreeBooster for ForustModel {
    fn log_odds(&self, inputs: &[f64]) -> f64 {
        let n = self.trees();
        self.booster.base_score
            + self.booster.trees[..n].iter().map(|t| t.predict_row_from_row_slice(inputs, &self.booster.missing)).sum::<f64>()
    }

    fn contributions(&self, inputs: &[f64], out: &mut [f64]) -> f64 {
        let trees = &self.booster.trees[..self.trees()];
        let plan = self.shap.get_or_init(|| TreeShapPlan::new(trees));
        out.fill(0.0);
        self.booster.base_score + plan.contributions(trees, inputs, &self.booster.missing, out)
    }

    fn trees(&self) -> usize {
        self.booster.prediction_iteration.unwrap_or(self.booster.trees.len()).min(self.booster.trees.len())
    }
}

fn check_tree(tree: &forust_ml::tree::Tree, inputs: usize) -> Result<(), String> {
    let n = tree.nodes.len();
    if n == 0 {
        return Err("it has no nodes".into());
    }
    let mut parents = vec![0u8; n];
    let mut depth = vec![0usize; n];
    for (i, node) in tree.nodes.iter().enumerate() {
        if !node.weight_value.is_finite() || !node.hessian_sum.is_finite() || node.hessian_sum < 0.0 {
            return Err(format!("node {i} has weight {} and cover {}", node.weight_value, node.hessian_sum));
        }
        if i > 0 && parents[i] != 1 {
            return Err(format!("node {i} has {} parents", parents[i]));
        }
        if node.is_leaf {
            continue;
        }
        if node.split_feature >= inputs || node.split_value.is_nan() {
            return Err(format!(
                "node {i} splits input {} at {} (the model has {inputs} inputs)",
                node.split_feature, node.split_value
            ));
        }
        let mut children = vec![node.left_child, node.right_child];
        if node.missing_node != node.left_child && node.missing_node != node.right_child {
            children.push(node.missing_node);
        }
        if node.left_child == node.right_child {
            return Err(format!("node {i} has the same left and right child"));
        }
        for c in children {
            if c <= i || c >= n {
                return Err(format!("node {i} points to node {c} (children come after their parent, {n} nodes)"));
            }
            parents[c] = parents[c].saturating_add(1);
            depth[c] = depth[i] + 1;
            if depth[c] > MAX_TREE_DEPTH {
                return Err(format!("it is deeper than {MAX_TREE_DEPTH} levels"));
            }
        }
    }
    Ok(())
}

/// Row-major training inputs owned by the worker thread.
pub struct GbmData {
    pub x: Vec<f64>,
    pub rows: usize,
    pub cols: usize,
    pub y: Vec<bool>,
    pub weights: Vec<f64>,
}

/// Histogram bins per input forust cuts numbers into (its default).
const HISTOGRAM_BINS: u64 = 256;

/// Bytes a boosted-trees fit holds at its peak, None if too many to count: the row-major inputs
/// and forust's column-major copy (8 bytes each per input), its bin indexes (2), the validation
/// inputs twice, and a histogram (8 bytes per bin) for every leaf still open to splitting.
pub fn gbm_training_bytes(rows: usize, validation_rows: usize, inputs: usize, opts: &GbmOptions) -> Option<u64> {
    let cells = (rows as u64).checked_mul(inputs as u64)?;
    let valid_cells = (validation_rows as u64).checked_mul(inputs as u64)?;
    // A tree has at most max_leaves leaves, 2^max_depth, and one per training row.
    let open_leaves = (opts.max_leaves as u64).min(1u64 << opts.max_depth.min(63)).min(rows.max(1) as u64);
    let histograms = open_leaves.checked_mul(inputs as u64)?.checked_mul(HISTOGRAM_BINS * 8)?;
    cells.checked_mul(18)?.checked_add(valid_cells.checked_mul(16)?)?.checked_add(histograms)
}

fn column_major(d: &GbmData) -> CoreResult<Vec<f64>> {
    let mut out = crate::resources::filled_vec(d.x.len(), 0.0, "the boosted trees' column-major inputs")?;
    for r in 0..d.rows {
        for c in 0..d.cols {
            out[c * d.rows + r] = d.x[r * d.cols + c];
        }
    }
    Ok(out)
}

fn booster(opts: &GbmOptions, early_stopping: bool) -> CoreResult<GradientBooster> {
    let threads = opts.threads.max(1);
    let mut b = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(opts.trees)
        .set_learning_rate(opts.learning_rate as f32)
        .set_max_depth(opts.max_depth)
        .set_max_leaves(opts.max_leaves)
        .set_min_leaf_weight(opts.min_child_weight as f32)
        .set_subsample(opts.subsample as f32)
        .set_l2(opts.l2 as f32)
        .set_seed(opts.seed)
        .set_parallel(threads > 1)
        .set_num_threads(Some(threads));
    // A log record after every tree: the point where a cancelled fit stops (gbm_stop.rs).
    b.log_iterations = 1;
    // Leaf-wise growth, as LightGBM: max_leaves bounds each tree, max_depth caps it.
    b.grow_policy = GrowPolicy::LossGuide;
    Ok(if early_stopping {
        b.set_evaluation_metric(Some(Metric::LogLoss)).set_early_stopping_rounds(opts.early_stopping_rounds)
    } else {
        b
    })
}

fn fit_blocking(train: GbmData, valid: Option<GbmData>, opts: GbmOptions) -> CoreResult<ForustModel> {
    let early = valid.is_some() && opts.early_stopping_rounds.is_some();
    let mut b = booster(&opts, early)?;
    let xcm = column_major(&train)?;
    // The row-major copy is not needed once forust has its own layout.
    let train = GbmData { x: Vec::new(), ..train };
    let y: Vec<f64> = train.y.iter().map(|&l| l as u8 as f64).collect();
    let m = Matrix::new(&xcm, train.rows, train.cols);
    match valid.filter(|_| early) {
        Some(v) => {
            let vcm = column_major(&v)?;
            let vy: Vec<f64> = v.y.iter().map(|&l| l as u8 as f64).collect();
            let vm = Matrix::new(&vcm, v.rows, v.cols);
            b.fit(&m, &y, &train.weights, Some(vec![(vm, &vy, &v.weights)]))
        }
        None => b.fit(&m, &y, &train.weights, None),
    }
    .map_err(|e| core_err!(FitFailed, "{e}"))?;
    Ok(ForustModel::new(b))
}

/// Fits boosted trees on a worker thread, calling `progress(0, elapsed_seconds)` every 50 ms
/// on this thread; an Err from it abandons the fit and is returned as [`crate::ErrorKind::Canceled`].
pub fn fit_gbm(
    train: GbmData,
    valid: Option<GbmData>,
    opts: &GbmOptions,
    progress: &mut dyn FnMut(usize, f64) -> Result<(), String>,
) -> CoreResult<ForustModel> {
    if train.rows == 0 || train.x.len() != train.rows * train.cols {
        return Err(core_err!(InsufficientData, "boosted trees need a non-empty training matrix"));
    }
    opts.check()?;
    let _turn = gbm_stop::begin_fit();
    let (tx, rx) = mpsc::channel();
    let opts_owned = *opts;
    let handle = std::thread::Builder::new()
        .name("lead_scoring_gbm".into())
        .spawn(move || {
            block_signals();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fit_blocking(train, valid, opts_owned)))
                .unwrap_or_else(|_| Err(core_err!(Internal, "the booster panicked")));
            let _ = tx.send(r);
        })
        .map_err(|e| core_err!(Internal, "cannot start a training thread: {e}"))?;
    let started = std::time::Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(r) => {
                let _ = handle.join();
                return r;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(m) = progress(0, started.elapsed().as_secs_f64()) {
                    // Stop the fit after its current tree and wait for that (up to a second),
                    // so the cancel leaves no thread running.
                    gbm_stop::stop_fit();
                    match rx.recv_timeout(Duration::from_secs(1)) {
                        Ok(_) => {
                            let _ = handle.join();
                        }
                        Err(_) => gbm_stop::abandon(handle),
                    }
                    return Err(core_err!(Canceled, "{m}"));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = handle.join();
                return Err(core_err!(Internal, "the training thread stopped unexpectedly"));
            }
        }
    }
}

#[cfg(test)]
#[path = "gbm_tests.rs"]
mod tests;
