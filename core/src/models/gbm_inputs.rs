//! What a boosted-trees fit is given (its options and rows) and how LightGBM gets them: its
//! parameters for our options, and its datasets, built in parts with the stop flag read
//! between them (so a cancel never waits for a whole large dataset).

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::models::lightgbm_ffi::LgbmDataset;
use crate::models::trees::ZERO_THRESHOLD;
use crate::{core_err, CoreResult};

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

/// Row-major training inputs owned by the worker thread.
pub struct GbmData {
    pub x: Vec<f64>,
    pub rows: usize,
    pub cols: usize,
    pub y: Vec<bool>,
    pub weights: Vec<f64>,
    /// The inputs that are category codes (whole numbers from 0; LightGBM's categorical
    /// features); the training data's list holds for its validation data too.
    pub categorical: Vec<usize>,
    /// A regression's numeric label per row (`options.task = 'regression'`): then the trees fit
    /// squared error to these and `y` is not read.
    pub targets: Option<Vec<f64>>,
}

/// LightGBM's rows per leaf at least (its default `min_data_in_leaf`).
const MIN_ROWS_PER_LEAF: usize = 20;

/// Sampled values LightGBM finds an input's bins from, at most, over all inputs: its default
/// sample of 200,000 rows for up to 15 inputs, fewer rows for more inputs, so the one call that
/// finds the bins (which a cancel cannot stop) stays near 0.25 s. At least 50,000 rows: 255
/// bins of 200 sampled rows each or more.
const SAMPLE_VALUES: usize = 3_000_000;
const SAMPLE_ROWS: (usize, usize) = (50_000, 200_000);

/// LightGBM's parameters for these options (the same for the datasets and the booster).
/// Deterministic: the same rows, options and seed give the same trees, whatever the timing.
/// LightGBM allocates a histogram for each of `num_leaves` leaves up front, so the leaves are
/// capped at what `rows` rows can fill (MIN_ROWS_PER_LEAF each) and `max_depth` allows: the same
/// trees, with memory bounded by the rows (as [`gbm_training_bytes`] counts it).
pub(crate) fn lightgbm_parameters(
    opts: &GbmOptions,
    validation: bool,
    rows: usize,
    inputs: usize,
    categorical: &[usize],
    regression: bool,
) -> String {
    let categorical = if categorical.is_empty() {
        String::new()
    } else {
        format!(" categorical_feature={}", categorical.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(","))
    };
    let sample = (SAMPLE_VALUES / inputs.max(1)).clamp(SAMPLE_ROWS.0, SAMPLE_ROWS.1);
    let reachable = (rows / MIN_ROWS_PER_LEAF).min(1usize << opts.max_depth.clamp(1, 62)).max(2);
    let bagging =
        if opts.subsample < 1.0 { format!(" bagging_fraction={} bagging_freq=1", opts.subsample) } else { String::new() };
    format!(
        "objective={} metric={} verbosity=-1 num_threads={} seed={} deterministic=true force_row_wise=true \
         num_iterations={} learning_rate={} num_leaves={} max_depth={} min_data_in_leaf={MIN_ROWS_PER_LEAF} \
         min_sum_hessian_in_leaf={} lambda_l2={} bin_construct_sample_cnt={sample}{bagging}{categorical}",
        if regression { "regression" } else { "binary" },
        match (validation, regression) {
            (false, _) => "none",
            (true, false) => "binary_logloss",
            (true, true) => "l2",
        },
        opts.threads.max(1),
        opts.seed % (i32::MAX as u64),
        opts.trees,
        opts.learning_rate,
        opts.max_leaves.min(reachable),
        if opts.max_depth == 0 { -1 } else { opts.max_depth as i64 },
        opts.min_child_weight,
        opts.l2,
    )
}

/// Rows binned per LightGBM call while a dataset is built: the stop flag is read between
/// calls, so a cancel never waits for a whole large dataset (about 0.1 s per part at 40 inputs).
const PUSH_ROWS: usize = 32_768;

pub(crate) fn stopped(stop: &AtomicBool) -> CoreResult<()> {
    if stop.load(Ordering::Relaxed) {
        return Err(core_err!(Canceled, "the fit was stopped"));
    }
    Ok(())
}

/// LightGBM's dataset of `d`, built as `LGBM_DatasetCreateFromMat` builds it (the same sample
/// for the bins, so the same trees) but in parts, with the stop flag read between them: the
/// bins from LightGBM's own sample of the rows (or the training set's, for a validation set),
/// then the rows PUSH_ROWS at a time.
pub(crate) fn dataset(d: &GbmData, params: &str, reference: Option<&LgbmDataset>, stop: &AtomicBool) -> CoreResult<LgbmDataset> {
    let lightgbm = |e: String| core_err!(FitFailed, "LightGBM: {e}");
    let mut set = match reference {
        Some(r) => LgbmDataset::by_reference(r, d.rows).map_err(lightgbm)?,
        None => {
            let sample = LgbmDataset::sample_rows(d.rows, params).map_err(lightgbm)?;
            let (mut values, mut positions) = (vec![Vec::new(); d.cols], vec![Vec::new(); d.cols]);
            for (k, &row) in sample.iter().enumerate() {
                if k % PUSH_ROWS == 0 {
                    stopped(stop)?;
                }
                for (j, &x) in d.x[row * d.cols..(row + 1) * d.cols].iter().enumerate() {
                    // What LightGBM's sampling keeps: values not zero (kZeroThreshold), and NaN.
                    if x.abs() > ZERO_THRESHOLD || x.is_nan() {
                        values[j].push(x);
                        positions[j].push(k as i32);
                    }
                }
            }
            stopped(stop)?;
            LgbmDataset::from_sample(&values, &positions, sample.len(), d.rows, params).map_err(lightgbm)?
        }
    };
    for (part, rows) in d.x.chunks(PUSH_ROWS * d.cols.max(1)).enumerate() {
        stopped(stop)?;
        set.push_rows(rows, d.cols, part * PUSH_ROWS).map_err(lightgbm)?;
    }
    let labels: Vec<f32> = match &d.targets {
        Some(t) => t.iter().map(|&v| v as f32).collect(),
        None => d.y.iter().map(|&l| l as u8 as f32).collect(),
    };
    set.set_field("label", &labels).map_err(lightgbm)?;
    let weights: Vec<f32> = d.weights.iter().map(|&w| w as f32).collect();
    set.set_field("weight", &weights).map_err(lightgbm)?;
    Ok(set)
}
