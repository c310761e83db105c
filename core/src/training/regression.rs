//! The training pipeline of a regression (`options.task = 'regression'`, a numeric label such as
//! deal value): split; fit the preprocessing and ridge regression on the training part; measure
//! RMSE, MAE and R² per part; value tiers from amounts or from quantiles of the predicted value
//! on validation. No calibration and no decision threshold: the prediction is the value itself.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core_err;
use crate::data::{assign_parts, fit_preprocessor_reporting, Part, PreprocessOptions, TrainingData};
use crate::evaluation::{regression_metrics, tiers_from_quantiles, RegressionMetrics};
use crate::models::{fit_linear, newton_system_bytes, Calibration, Estimator, LeadModel};
use crate::resources::{Cancel, PhaseTimes};
use crate::training::fit::probabilities;
use crate::training::options::{default_value_tiers, regression_algorithm, ClassWeight, TrainOptions};
use crate::training::summary::{ClassWeights, EngineReport, PartCount, RegressionReport, ResampleReport, TrainingSummary};
use crate::training::trained::{TrainedModel, IMPORTANCE_ROWS};
use crate::CoreResult;

/// Trains a ridge regression of `data.targets` (one finite number per row).
pub fn train_regression(data: &TrainingData, opts: &TrainOptions, cancel: &dyn Cancel) -> CoreResult<TrainedModel> {
    regression_algorithm(opts.algorithm)?;
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
    let preprocess = PreprocessOptions { impute_numeric: true, ..opts.preprocess.clone() };
    let (preprocessor, capped_levels) = fit_preprocessor_reporting(&data.columns, &train, &preprocess)?;
    let width = preprocessor.width();
    opts.max_memory.check(newton_system_bytes(width), || format!("the normal equations of {width} inputs"))?;
    opts.max_memory.check(preprocessor.design_size(train.len()).1, || {
        format!("the design matrix of {} rows x {width} inputs", train.len())
    })?;
    let x = preprocessor.transform_rows(&data.columns, &train)?;
    let y: Vec<f64> = train.iter().map(|&i| data.targets[i]).collect();
    let fit = fit_linear(&x, &y, opts.alpha).map_err(|e| e.context("linear regression failed"))?;
    let input_means = x.column_means();
    drop(x);
    let model = LeadModel {
        preprocessor,
        estimator: Estimator::Linear(fit),
        calibration: Calibration::None,
        input_means,
        segments: None,
    };
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
        alpha: Some(opts.alpha),
        gbm: None,
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

#[cfg(test)]
#[path = "regression_tests.rs"]
mod tests;
