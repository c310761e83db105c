//! Fitting one model on given rows: preprocessing fitted on those rows, resampling, the
//! estimator (in memory or by aggregate passes), calibration, and the model's probabilities of
//! any rows through the path score() uses. Search, segments and the pipeline all fit through here.

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::data::row_values;
use crate::data::DesignMatrix;
use crate::data::Preprocessor;
use crate::data::TrainingData;
use crate::data::{fit_preprocessor_checked, CappedLevels, PreprocessOptions};
use crate::data::{resample, Resample};
use crate::models::fit_logistic_by_passes;
use crate::models::gbm_training_bytes;
use crate::models::LogisticPasses;
use crate::models::{fit_gbm, GbmData, GbmOptions};
use crate::models::{fit_isotonic, fit_platt, Calibration};
use crate::models::{fit_logistic_rows, newton_system_bytes, LogisticOptions};
use crate::models::{Estimator, LeadModel};
use crate::resources::{map_tasks, worker_threads, Cancel};
use crate::training::options::{Algorithm, CalibrationChoice, ClassWeight, TrainOptions};
use crate::{CoreError, CoreResult};

/// Hyperparameters of one fit (what a search varies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitParams {
    /// Logistic or Gbm (never Auto: auto fits one of each).
    pub algorithm: Algorithm,
    pub alpha: f64,
    pub class_weight: ClassWeight,
    pub gbm: GbmOptions,
}

impl FitParams {
    pub fn from_options(opts: &TrainOptions, algorithm: Algorithm) -> FitParams {
        FitParams { algorithm, alpha: opts.alpha, class_weight: opts.class_weight, gbm: opts.gbm }
    }
}

/// One fitted (uncalibrated) model and how the fit went.
pub struct Fitted {
    pub model: LeadModel,
    pub converged: bool,
    pub iterations: usize,
    pub class_weights: (f64, f64),
    pub synthetic_rows: usize,
    pub dropped_rows: usize,
    /// Text columns whose levels `options.max_levels` cut.
    pub capped_levels: Vec<CappedLevels>,
}

/// Called once per optimizer iteration with (iteration, objective); an Err cancels training.
pub type Progress<'a> = &'a mut dyn FnMut(usize, f64) -> Result<(), String>;

/// Preprocessing for an algorithm: trees route missing numbers themselves (NaN) and split text
/// columns as categories (one input of level codes each, LightGBM's categorical features),
/// except after SMOTE, which interpolates between rows and so needs complete numbers and
/// one-hot levels.
pub(crate) fn preprocess_options(opts: &TrainOptions, algorithm: Algorithm) -> PreprocessOptions {
    let native_missing = algorithm == Algorithm::Gbm && !matches!(opts.resample, Resample::Smote { .. });
    PreprocessOptions { impute_numeric: !native_missing, text_codes: native_missing, ..opts.preprocess.clone() }
}

/// Asks `progress` (with no iteration yet) whether to go on: the cancel check between the
/// steps that come before the optimizer's own iterations.
fn go_on(progress: &mut dyn FnMut(usize, f64) -> Result<(), String>) -> CoreResult<()> {
    progress(0, f64::NAN).map_err(|m| crate::core_err!(Canceled, "{m}"))
}

/// Fits preprocessing and an estimator on `rows` only (resampling them first if asked). Trees
/// stop early on `early_stopping_rows` when given. Every large buffer is sized against
/// `opts.max_memory` before it is built.
#[allow(clippy::too_many_arguments)]
pub fn fit_on_rows(
    data: &TrainingData,
    rows: &[usize],
    params: &FitParams,
    opts: &TrainOptions,
    early_stopping_rows: Option<&[usize]>,
    passes: Option<&mut dyn LogisticPasses>,
    progress: Progress<'_>,
    cancel: &dyn Cancel,
) -> CoreResult<Fitted> {
    let mut passes = passes.filter(|_| params.algorithm == Algorithm::Logistic);
    let popts = preprocess_options(opts, params.algorithm);
    let full = match passes.as_deref_mut() {
        Some(p) => p.full_preprocessor(&data.columns, &popts)?,
        None => None,
    };
    let (preprocessor, capped_levels) = match full {
        Some(fitted) => fitted,
        None => fit_preprocessor_checked(&data.columns, rows, &popts, &mut || go_on(progress))?,
    };
    let limit = &opts.max_memory;
    let width = preprocessor.width();
    if params.algorithm == Algorithm::Logistic {
        limit.check(newton_system_bytes(width), || {
            format!("the logistic fit's Newton system of {width} inputs ({})", widest_inputs(&preprocessor))
        })?;
    }
    if let Some(passes) = passes {
        // The aggregate engine fits from passes over the source, no design matrix.
        let mut fitted = fit_by_passes(data, rows, preprocessor, params, opts, passes, progress)?;
        fitted.capped_levels = capped_levels;
        return Ok(fitted);
    }
    let design_bytes = |rows: usize| preprocessor.design_size(rows).1;
    limit.check(design_bytes(rows.len()), || {
        format!("the design matrix of {} rows x {width} inputs ({})", rows.len(), widest_inputs(&preprocessor))
    })?;
    go_on(progress)?;
    let x = preprocessor.transform_rows(&data.columns, rows)?;
    go_on(progress)?;
    let input_means = x.column_means();
    let y: Vec<bool> = rows.iter().map(|&i| data.labels[i]).collect();
    // Resampling sees the training rows and nothing else.
    // Without resampling the matrix is moved, not copied (one design matrix at a time).
    let resampled = if opts.resample == Resample::None {
        TrainingRows { x, y, synthetic_rows: 0, dropped_rows: 0 }
    } else {
        // The resampled rows (at most twice the rows) and SMOTE's copy of the minority rows.
        let dense = crate::data::Storage::Dense.bytes(rows.len(), width, 0);
        limit.check(dense.and_then(|b| b.checked_mul(4)), || format!("resampling {} rows x {width} inputs", rows.len()))?;
        let x = x.into_dense(limit, "resampling")?;
        let r = resample(x.view(), &y, &opts.resample, opts.split.seed).map_err(|e| e.context("resampling"))?;
        TrainingRows { x: DesignMatrix::Dense(r.x), y: r.y, synthetic_rows: r.synthetic_rows, dropped_rows: r.dropped_rows }
    };
    let positives = resampled.y.iter().filter(|&&l| l).count();
    let (w_neg, w_pos) = params.class_weight.weights(resampled.y.len() - positives, positives);
    let weights: Vec<f64> = resampled.y.iter().map(|&l| if l { w_pos } else { w_neg }).collect();
    let (estimator, converged, iterations) = match params.algorithm {
        Algorithm::Gbm => {
            let valid_rows = early_stopping_rows.filter(|_| params.gbm.early_stopping_rounds.is_some());
            let needed = gbm_training_bytes(resampled.x.nrows(), valid_rows.map_or(0, <[usize]>::len), width, &params.gbm);
            limit.check(needed, || {
                format!(
                    "boosted trees on {} rows x {width} inputs with max_leaves {} ({})",
                    resampled.x.nrows(),
                    params.gbm.max_leaves,
                    widest_inputs(&preprocessor)
                )
            })?;
            let valid = match valid_rows {
                Some(v) => {
                    let vx = preprocessor.transform_rows(&data.columns, v)?.into_dense(limit, "boosted trees")?;
                    go_on(progress)?;
                    let vy: Vec<bool> = v.iter().map(|&i| data.labels[i]).collect();
                    let vw = vy.iter().map(|&l| if l { w_pos } else { w_neg }).collect();
                    let (rows, cols, x) = (vx.nrows(), vx.ncols(), vx.into_raw_vec_and_offset().0);
                    Some(GbmData { rows, cols, x, y: vy, weights: vw, categorical: Vec::new(), targets: None })
                }
                None => None,
            };
            let x = resampled.x.into_dense(limit, "boosted trees")?;
            go_on(progress)?;
            let (rows_n, cols_n) = x.dim();
            let categorical = preprocessor.code_inputs();
            let train = GbmData {
                x: x.into_raw_vec_and_offset().0,
                rows: rows_n,
                cols: cols_n,
                y: resampled.y,
                weights,
                categorical,
                targets: None,
            };
            let model = fit_gbm(train, valid, &params.gbm, &mut *progress).map_err(|e| e.context("gradient boosting failed"))?;
            let trees = crate::models::TreeBooster::trees(&model);
            (Estimator::Gbm(model), true, trees)
        }
        _ => {
            let lopts = LogisticOptions { alpha: params.alpha, max_iter: opts.max_iter, tol: opts.tol };
            let fit = fit_logistic_rows(resampled.x.rows(), &resampled.y, &weights, &lopts, None, cancel, progress)
                .map_err(|e| CoreError::from(e).context("logistic regression failed"))?;
            let (c, i) = (fit.converged, fit.iterations);
            (Estimator::Logistic(fit), c, i)
        }
    };
    Ok(Fitted {
        converged,
        iterations,
        class_weights: (w_neg, w_pos),
        synthetic_rows: resampled.synthetic_rows,
        dropped_rows: resampled.dropped_rows,
        capped_levels,
        model: LeadModel { preprocessor, estimator, calibration: Calibration::None, input_means, segments: None },
    })
}

/// The rows an estimator is fitted on: the training part, resampled if asked.
struct TrainingRows {
    x: DesignMatrix,
    y: Vec<bool>,
    synthetic_rows: usize,
    dropped_rows: usize,
}

/// The columns with the most inputs, for memory errors: "inputs from "company" (1001), "city" (240)".
fn widest_inputs(preprocessor: &crate::data::Preprocessor) -> String {
    let mut widths: Vec<(usize, &str)> = preprocessor.features.iter().map(|f| (f.width(), f.name())).collect();
    widths.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let named: Vec<String> = widths.iter().take(3).map(|(w, n)| format!("\"{n}\" {w}")).collect();
    let advice = if preprocessor.features.iter().any(|f| matches!(f, crate::data::FeatureTransform::Categorical { .. })) {
        "; options.max_levels caps a text column's inputs"
    } else {
        ""
    };
    format!("most inputs from {}{advice}", named.join(", "))
}

/// Rows scored per task when scoring many rows on worker threads.
pub(crate) const SCORE_CHUNK: usize = 32_768;
/// Rows scored per task at least (fewer rows are scored on the calling thread).
const SCORE_CHUNK_MIN: usize = 4_096;
/// Bytes of one task's design matrix at most: wide models score fewer rows per task.
const SCORE_CHUNK_BYTES: usize = 64 << 20;

/// The model's probabilities of `rows` (uncalibrated while the model has no calibration yet),
/// through the path score() uses. Many rows are scored in chunks on worker threads (pure
/// computation, no Postgres calls); the result is the same whatever the thread count.
pub fn probabilities(model: &LeadModel, data: &TrainingData, rows: &[usize]) -> CoreResult<Vec<f64>> {
    let width = model.preprocessor.width().max(1);
    let threads = if rows.len() > SCORE_CHUNK_MIN { worker_threads(4) } else { 1 };
    // Several chunks per thread, so that no thread is left with one more whole chunk to do.
    let balanced = rows.len().div_ceil(4 * threads).max(SCORE_CHUNK_MIN);
    let chunk_rows = (SCORE_CHUNK_BYTES / (8 * width)).min(balanced).clamp(64, SCORE_CHUNK);
    let chunks: Vec<&[usize]> = rows.chunks(chunk_rows).collect();
    // Boosted trees go from the columns straight to their bins, as score() goes from a row.
    let plan = crate::serving::TreePlan::new(model);
    let scored = map_tasks(chunks.len(), threads, |c| -> CoreResult<Vec<f64>> {
        if let Some(plan) = &plan {
            let mut log_odds = Vec::new();
            plan.log_odds_of_rows(model, &data.columns, chunks[c], &mut log_odds)?;
            return Ok(log_odds.into_iter().map(|z| model.probability_from_log_odds(z)).collect());
        }
        if model.segments.is_none() {
            // A chunk's inputs at once: text levels resolved per dictionary entry, not per row.
            let x = model.preprocessor.transform_rows(&data.columns, chunks[c])?;
            let mut scratch = Vec::new();
            return Ok((0..x.nrows())
                .map(|i| model.probability_from_log_odds(model.estimator.log_odds_of_design_row(&x, i, &mut scratch)))
                .collect());
        }
        let mut raw = Vec::with_capacity(data.columns.len());
        let mut scratch = Vec::new();
        chunks[c]
            .iter()
            .map(|&r| {
                row_values(&data.columns, r, &mut raw);
                model.probability(&raw, &mut scratch)
            })
            .collect()
    })
    .map_err(|e| core_err!(Internal, "scoring the rows: {e}"))?;
    let mut out = Vec::with_capacity(rows.len());
    for part in scored {
        out.extend(part?);
    }
    Ok(out)
}

/// The pipeline's fit of a logistic model with the aggregate engine: preprocessing is the one
/// fitted in memory, the class weights and the starting intercept come from the training
/// labels, and the estimator from passes. Resampling needs the rows in memory, so it is refused.
pub fn fit_by_passes(
    data: &TrainingData,
    rows: &[usize],
    preprocessor: Preprocessor,
    params: &FitParams,
    opts: &TrainOptions,
    passes: &mut dyn LogisticPasses,
    progress: Progress<'_>,
) -> CoreResult<Fitted> {
    if opts.resample != Resample::None {
        return Err(core_err!(
            InvalidArgument,
            "options.engine 'aggregate' cannot resample the training rows; drop options.resample or use engine 'memory'"
        ));
    }
    let (rows_n, positives) =
        passes.training_counts().unwrap_or_else(|| (rows.len(), rows.iter().filter(|&&r| data.labels[r]).count()));
    let (w_neg, w_pos) = params.class_weight.weights(rows_n - positives, positives);
    passes.prepare(&preprocessor, (w_neg, w_pos))?;
    let (sw_pos, sw) = (w_pos * positives as f64, w_pos * positives as f64 + w_neg * (rows_n - positives) as f64);
    let rate = if sw > 0.0 { sw_pos / sw } else { 0.0 };
    let intercept0 = if rate > 0.0 && rate < 1.0 { (rate / (1.0 - rate)).ln() } else { 0.0 };
    let lopts = LogisticOptions { alpha: params.alpha, max_iter: opts.max_iter, tol: opts.tol };
    let (fit, input_means) = fit_logistic_by_passes(preprocessor.width(), intercept0, &lopts, passes, progress)
        .map_err(|e| CoreError::from(e).context("logistic regression failed"))?;
    Ok(Fitted {
        converged: fit.converged,
        iterations: fit.iterations,
        class_weights: (w_neg, w_pos),
        synthetic_rows: 0,
        dropped_rows: 0,
        capped_levels: Vec::new(),
        model: LeadModel {
            preprocessor,
            estimator: Estimator::Logistic(fit),
            calibration: Calibration::None,
            input_means,
            segments: None,
        },
    })
}

pub fn calibrate(choice: CalibrationChoice, scores: &[f64], labels: &[bool]) -> CoreResult<Calibration> {
    let fitted = match choice {
        CalibrationChoice::None | CalibrationChoice::Auto => return Ok(Calibration::None),
        CalibrationChoice::Platt => fit_platt(scores, labels),
        CalibrationChoice::Isotonic => fit_isotonic(scores, labels),
    };
    fitted.map_err(|e| core_err!(InsufficientData, "calibration on the validation part failed: {e}"))
}
