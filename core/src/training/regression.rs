//! The training pipeline of a regression (`options.task = 'regression'`, a numeric label such as
//! deal value): split; fit the preprocessing and ridge regression on the training part; measure
//! RMSE, MAE and R² per part; value tiers from amounts or from quantiles of the predicted value
//! on validation. No calibration and no decision threshold: the prediction is the value itself.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core_err;
use crate::data::{assign_parts, fit_preprocessor_reporting, Part, PreprocessOptions, TrainingData};
use crate::data::{DesignMatrix, Preprocessor};
use crate::evaluation::{regression_metrics, tiers_from_quantiles, RegressionMetrics};
use crate::models::{fit_gbm, gbm_training_bytes, GbmData, GbmModel, GbmOptions};
use crate::models::{fit_linear, newton_system_bytes, Calibration, Estimator, LeadModel};
use crate::resources::{Cancel, PhaseTimes};
use crate::training::fit::{preprocess_options, probabilities, FitParams};
use crate::training::options::{default_value_tiers, regression_algorithm, Algorithm, ClassWeight, TrainOptions};
use crate::training::summary::{ClassWeights, EngineReport, PartCount, RegressionReport, ResampleReport, TrainingSummary};
use crate::training::trained::{TrainedModel, IMPORTANCE_ROWS};
use crate::CoreResult;

/// Trains a regression of `data.targets` (one finite number per row): ridge regression, or
/// boosted trees of squared error with `algorithm => 'gbm'`.
pub fn train_regression(data: &TrainingData, opts: &TrainOptions, cancel: &dyn Cancel) -> CoreResult<TrainedModel> {
    let algorithm = regression_algorithm(opts.algorithm)?;
    let mut clock = PhaseTimes::start();
    let n = data.targets.len();
    if n != data.labels.len() {
        return Err(core_err!(Internal, "a regression needs one numeric label per row ({n} for {} rows)", data.labels.len()));
    }
    let parts = assign_parts(&opts.split, &data.labels, &data.split_key)?;
    let rows_of = |part: Part| -> Vec<usize> { (0..n).filter(|&i| parts[i] == part).collect() };
    let (train, validation, test) = (rows_of(Part::Train), rows_of(Part::Validation), rows_of(Part::Test));
    if train.len() < opts.min_class_rows {
        return Err(core_err!(
            InsufficientData,
            "the training part has {} leads with a numeric label; at least {} are needed (options.min_class_rows)",
            train.len(),
            opts.min_class_rows
        ));
    }
    for (name, rows) in [("validation", &validation), ("test", &test)] {
        if rows.is_empty() {
            return Err(core_err!(InsufficientData, "the {name} part is empty; give the split more rows or larger fractions"));
        }
    }
    let preprocess = match algorithm {
        Algorithm::Gbm => preprocess_options(opts, Algorithm::Gbm),
        _ => PreprocessOptions { impute_numeric: true, ..opts.preprocess.clone() },
    };
    let (preprocessor, capped_levels) = fit_preprocessor_reporting(&data.columns, &train, &preprocess)?;
    let width = preprocessor.width();
    if algorithm != Algorithm::Gbm {
        opts.max_memory.check(newton_system_bytes(width), || format!("the normal equations of {width} inputs"))?;
    }
    opts.max_memory.check(preprocessor.design_size(train.len()).1, || {
        format!("the design matrix of {} rows x {width} inputs", train.len())
    })?;
    let x = preprocessor.transform_rows(&data.columns, &train)?;
    let y: Vec<f64> = train.iter().map(|&i| data.targets[i]).collect();
    let input_means = x.column_means();
    let (estimator, gbm) = match algorithm {
        Algorithm::Gbm => {
            let params = FitParams::from_options(opts, Algorithm::Gbm).gbm;
            let model = fit_value_trees(data, x, y, &validation, &preprocessor, &params, opts, cancel)?;
            (Estimator::Gbm(model), Some(params))
        }
        _ => {
            let fit = fit_linear(&x, &y, opts.alpha).map_err(|e| e.context("linear regression failed"))?;
            drop(x);
            (Estimator::Linear(fit), None)
        }
    };
    let model = LeadModel { preprocessor, estimator, calibration: Calibration::None, input_means, segments: None };
    clock.lap("fit");
    cancel.check("training")?;
    let predictions = probabilities(&model, data, &(0..n).collect::<Vec<_>>())?;
    clock.lap("score_rows");
    cancel.check("training")?;

    let of = |rows: &[usize]| -> (Vec<f64>, Vec<f64>) {
        (rows.iter().map(|&i| predictions[i]).collect(), rows.iter().map(|&i| data.targets[i]).collect())
    };
    let validation_predictions = of(&validation).0;
    let tiers = match (&opts.tiers, &opts.value_tiers) {
        (Some(amounts), _) => amounts.clone(),
        (None, Some(quantiles)) => tiers_from_quantiles(quantiles, &validation_predictions)?,
        (None, None) => tiers_from_quantiles(&default_value_tiers(), &validation_predictions)?,
    };
    let mut metrics = serde_json::Map::new();
    let mut summary_parts = BTreeMap::new();
    for (part, rows) in [(Part::Train, &train), (Part::Validation, &validation), (Part::Test, &test)] {
        let (p, y) = of(rows);
        let m: RegressionMetrics = regression_metrics(&p, &y);
        metrics.insert(part.as_str().into(), serde_json::to_value(m).expect("metrics serialize"));
        summary_parts.insert(part.as_str(), PartCount { rows: rows.len(), positives: 0 });
    }
    clock.lap("metrics");
    cancel.check("training")?;
    let importance = crate::explain::feature_importance(&model, &data.columns, &validation, IMPORTANCE_ROWS)?;
    clock.lap("importance");
    let summary = TrainingSummary {
        rows: n,
        parts: summary_parts,
        algorithm: model.estimator.algorithm(),
        alpha: gbm.is_none().then_some(opts.alpha),
        gbm,
        auto: None,
        class_weight: ClassWeight::None,
        class_weights: ClassWeights { negative: 1.0, positive: 1.0 },
        resample: ResampleReport { method: opts.resample, synthetic_rows: 0, dropped_rows: 0 },
        calibration: model.calibration.method(),
        iterations: 1,
        converged: true,
        inputs: width,
        capped_levels,
        cv: None,
        search: None,
        segments: None,
        engine: EngineReport::default(),
        seconds: clock.seconds(),
        outcomes: None,
        effective_options: None,
        source_fingerprint: None,
        regression: Some(RegressionReport { task: "regression", skipped_labels: 0 }),
        sample: None,
    };
    Ok(TrainedModel {
        importance,
        model,
        // A regression has no decision threshold; the catalog's column (0 to 1) holds 0.
        threshold: 0.0,
        tiers,
        metrics: Value::Object(metrics),
        summary,
        converged: true,
        iterations: 1,
        parts,
        predictions,
        labels: data.labels.clone(),
    })
}

/// Boosted trees of squared error on the training rows `x` (targets `y`), stopping early on the
/// validation rows' squared error; a cancel stops them between trees.
#[allow(clippy::too_many_arguments)]
fn fit_value_trees(
    data: &TrainingData,
    x: DesignMatrix,
    y: Vec<f64>,
    validation: &[usize],
    preprocessor: &Preprocessor,
    params: &GbmOptions,
    opts: &TrainOptions,
    cancel: &dyn Cancel,
) -> CoreResult<GbmModel> {
    let limit = &opts.max_memory;
    let valid_rows = params.early_stopping_rounds.map(|_| validation);
    let needed = gbm_training_bytes(x.nrows(), valid_rows.map_or(0, <[usize]>::len), preprocessor.width(), params);
    limit.check(needed, || format!("boosted trees on {} rows x {} inputs", x.nrows(), preprocessor.width()))?;
    let categorical = preprocessor.code_inputs();
    let data_of = |x: DesignMatrix, targets: Vec<f64>| -> CoreResult<GbmData> {
        let x = x.into_dense(limit, "boosted trees")?;
        let (rows, cols) = x.dim();
        Ok(GbmData {
            x: x.into_raw_vec_and_offset().0,
            rows,
            cols,
            y: vec![false; rows],
            weights: vec![1.0; rows],
            categorical: categorical.clone(),
            targets: Some(targets),
        })
    };
    let valid = match valid_rows {
        Some(v) => Some(data_of(preprocessor.transform_rows(&data.columns, v)?, v.iter().map(|&i| data.targets[i]).collect())?),
        None => None,
    };
    let train = data_of(x, y)?;
    let mut stop_on_cancel =
        |_: usize, _: f64| if cancel.requested() { Err("training was canceled".to_string()) } else { Ok(()) };
    fit_gbm(train, valid, params, &mut stop_on_cancel).map_err(|e| e.context("gradient boosting failed"))
}

#[cfg(test)]
#[path = "regression_tests.rs"]
mod tests;
