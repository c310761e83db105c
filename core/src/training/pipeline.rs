//! The training pipeline, from a columnar table to a model with its threshold, tiers and
//! metrics: split; optionally cross-validate or search hyperparameters on the training part;
//! fit the preprocessing and the estimator on the training part (resampled if asked); calibrate
//! and choose the threshold on validation; measure every part, the test part once. No I/O: the
//! SQL layer reads rows and writes the catalog around it.
use serde_json::{json, Value};

use crate::core_err;
use crate::data::TrainingData;
use crate::data::{assign_parts, Part};
use crate::evaluation::Tiers;
use crate::evaluation::{
    average_precision, brier, confusion, log_loss, max_f1_threshold, part_metrics_of, roc_auc, Confusion, PartMetrics,
};
use crate::models::LeadModel;
use crate::models::LogisticPasses;
use crate::models::{expected_calibration_error, ECE_BINS};
use crate::resources::{map_tasks, worker_threads, Cancel, NeverCancel, PhaseTimes};
use crate::training::fit::{calibrate, fit_on_rows, probabilities, FitParams, Fitted, Progress};
use crate::training::options::{Algorithm, CalibrationChoice, Task, TrainOptions};
use crate::training::selection::{cross_validate, search, training_folds};
use crate::training::summary::{AutoChoice, ClassWeights, EngineReport, PartCount, ResampleReport, TrainingSummary};
use crate::training::trained::{importance_rows, TrainedModel};
use crate::CoreResult;
use std::collections::BTreeMap;

/// One algorithm's fit on the training part, the parameters it used, and the cross-validation
/// and search results that chose them.
type Selected =
    (Fitted, FitParams, Option<crate::training::selection::CvReport>, Option<Vec<crate::training::selection::Candidate>>);

/// Selects hyperparameters (CV / search) and fits one algorithm on the training part.
#[allow(clippy::too_many_arguments)]
fn select_and_fit(
    data: &TrainingData,
    train: &[usize],
    validation: &[usize],
    algorithm: Algorithm,
    opts: &TrainOptions,
    passes: Option<&mut dyn LogisticPasses>,
    progress: Progress<'_>,
    cancel: &dyn Cancel,
) -> CoreResult<Selected> {
    let mut params = FitParams::from_options(opts, algorithm);
    let mut cv_report = None;
    let mut search_report = None;
    if let Some(k) = opts.cv {
        let (folds, time_ordered) = training_folds(data, train, k, opts.split.seed)?;
        match &opts.search {
            Some(spec) => {
                let (best, tried) = search(data, &folds, time_ordered, spec, &params, opts, &mut *progress, cancel)?;
                cv_report = tried.iter().find(|c| c.params == best).map(|c| c.cv.clone());
                params = best;
                search_report = Some(tried);
            }
            None => cv_report = Some(cross_validate(data, &folds, time_ordered, &params, opts, &mut *progress, cancel)?),
        }
    }
    cancel.check("training")?;
    let fitted = fit_on_rows(data, train, &params, opts, Some(validation), passes, &mut *progress, cancel)?;
    Ok((fitted, params, cv_report, search_report))
}

/// Trains a lead model with the algorithm in `opts` (logistic, gbm or auto).
pub fn train_model(data: &TrainingData, opts: &TrainOptions, progress: Progress<'_>) -> CoreResult<TrainedModel> {
    train_model_with(data, opts, None, progress, &NeverCancel)
}

/// [`train_model`], with the final logistic fit (not the CV folds) done by aggregate `passes`
/// over the training part when given (the aggregate engine). `cancel` is asked between phases,
/// folds and search candidates (`progress` inside each fit): once it says stop, training
/// returns [`crate::ErrorKind::Canceled`] at the next of them.
pub fn train_model_with(
    data: &TrainingData,
    opts: &TrainOptions,
    mut passes: Option<&mut dyn LogisticPasses>,
    progress: Progress<'_>,
    cancel: &dyn Cancel,
) -> CoreResult<TrainedModel> {
    if opts.task == Task::Regression {
        return crate::training::regression::train_regression(data, opts, cancel);
    }
    let mut clock = PhaseTimes::start();
    let n = data.labels.len();
    let parts = assign_parts(&opts.split, &data.labels, &data.split_key)?;
    let rows_of = |part: Part| -> Vec<usize> { (0..n).filter(|&i| parts[i] == part).collect() };
    let (train, validation, test) = (rows_of(Part::Train), rows_of(Part::Validation), rows_of(Part::Test));
    let positives = |rows: &[usize]| rows.iter().filter(|&&i| data.labels[i]).count();
    let train_pos = positives(&train);
    let train_neg = train.len() - train_pos;
    if train_pos < opts.min_class_rows || train_neg < opts.min_class_rows {
        return Err(core_err!(
            InsufficientData,
            "the training part has {train_pos} converted and {train_neg} non-converted leads; at least {} of each are needed (options.min_class_rows)",
            opts.min_class_rows
        ));
    }
    for (name, rows) in [("validation", &validation), ("test", &test)] {
        if rows.is_empty() {
            return Err(core_err!(InsufficientData, "the {name} part is empty; give the split more rows or larger fractions"));
        }
    }

    // Model selection on the training part only; `auto` fits both and compares them on
    // validation, keeping logistic unless gbm is better by more than min_gain.
    let validation_labels: Vec<bool> = validation.iter().map(|&r| data.labels[r]).collect();
    let (fitted, params, cv_report, search_report, auto_report) = match opts.algorithm {
        Algorithm::Auto => {
            let logistic =
                select_and_fit(data, &train, &validation, Algorithm::Logistic, opts, passes.take(), &mut *progress, cancel)?;
            let gbm = select_and_fit(data, &train, &validation, Algorithm::Gbm, opts, None, &mut *progress, cancel)?;
            let auc = |f: &Fitted| -> CoreResult<Option<f64>> {
                Ok(roc_auc(&probabilities(&f.model, data, &validation)?, &validation_labels))
            };
            let (la, ga) = (auc(&logistic.0)?, auc(&gbm.0)?);
            let gain = ga.unwrap_or(0.0) - la.unwrap_or(0.0);
            let choose_gbm = gain > opts.min_gain;
            let reason = if choose_gbm {
                format!("gbm beats logistic on validation ROC AUC by {gain:.4}, more than min_gain {}", opts.min_gain)
            } else {
                format!("logistic kept: gbm's validation ROC AUC gain {gain:.4} is not more than min_gain {}", opts.min_gain)
            };
            let report = AutoChoice {
                logistic_validation_roc_auc: la,
                gbm_validation_roc_auc: ga,
                min_gain: opts.min_gain,
                chosen: if choose_gbm { "gbm" } else { "logistic" },
                reason,
            };
            let (f, p, c, s) = if choose_gbm { gbm } else { logistic };
            (f, p, c, s, Some(report))
        }
        algorithm => {
            let (f, p, c, s) = select_and_fit(data, &train, &validation, algorithm, opts, passes.take(), &mut *progress, cancel)?;
            (f, p, c, s, None)
        }
    };
    let mut model = fitted.model;
    clock.lap("fit");
    cancel.check("training")?;

    // Calibrate on validation, then score every row through the path score() uses.
    let calibration_choice = opts.effective_calibration();
    if calibration_choice != CalibrationChoice::None {
        let scores = probabilities(&model, data, &validation)?;
        let labels: Vec<bool> = validation.iter().map(|&r| data.labels[r]).collect();
        model.calibration = calibrate(calibration_choice, &scores, &labels)?;
    }
    // Segment models (options.segment_by) join before anything is measured, so metrics,
    // threshold and tiers are those of the routed model score() uses.
    let segments_report = match &opts.segment_by {
        Some(_) => {
            let (segments, report) = crate::training::segments::fit_segments(
                data,
                &train,
                &validation,
                &model,
                &params,
                opts,
                &mut *progress,
                cancel,
            )?;
            model.segments = Some(segments);
            Some(report)
        }
        None => None,
    };
    clock.lap("calibrate");
    cancel.check("training")?;
    let predictions = probabilities(&model, data, &(0..n).collect::<Vec<_>>())?;
    clock.lap("score_rows");
    cancel.check("training")?;

    let scores_labels = |rows: &[usize]| -> (Vec<f64>, Vec<bool>) {
        (rows.iter().map(|&i| predictions[i]).collect(), rows.iter().map(|&i| data.labels[i]).collect())
    };
    let base_rate = train_pos as f64 / train.len() as f64;
    let (vs, vl) = scores_labels(&validation);
    let threshold = match opts.threshold {
        Some(t) => t,
        // No converted lead in validation: fall back to the training base rate.
        None => max_f1_threshold(&vs, &vl).map_or(base_rate, |(t, _)| t),
    };
    let tiers = opts.tiers.clone().unwrap_or_else(|| Tiers::default_for(threshold, base_rate));

    let mut metrics = serde_json::Map::new();
    let mut summary_parts = BTreeMap::new();
    let parts_rows = [(Part::Train, &train[..]), (Part::Validation, &validation[..]), (Part::Test, &test[..])];
    let measured = measure_parts(&parts_rows.map(|(_, rows)| scores_labels(rows)), threshold)?;
    for ((part, rows), (part_metrics, ece)) in parts_rows.into_iter().zip(measured) {
        let mut m = serde_json::to_value(part_metrics).expect("metrics serialize");
        m["ece"] = json!(ece);
        metrics.insert(part.as_str().into(), m);
        summary_parts.insert(part.as_str(), PartCount { rows: rows.len(), positives: positives(rows) });
    }
    if let Some(cv) = &cv_report {
        metrics.insert("cv".into(), serde_json::to_value(cv).expect("cv serializes"));
    }
    let (w_neg, w_pos) = fitted.class_weights;
    clock.lap("metrics");
    let mut summary = TrainingSummary {
        rows: n,
        parts: summary_parts,
        algorithm: model.estimator.algorithm(),
        alpha: (params.algorithm == Algorithm::Logistic).then_some(params.alpha),
        gbm: (params.algorithm == Algorithm::Gbm).then_some(params.gbm),
        auto: auto_report,
        class_weight: params.class_weight,
        class_weights: ClassWeights { negative: w_neg, positive: w_pos },
        resample: ResampleReport {
            method: opts.resample,
            synthetic_rows: fitted.synthetic_rows,
            dropped_rows: fitted.dropped_rows,
        },
        calibration: model.calibration.method(),
        iterations: fitted.iterations,
        converged: fitted.converged,
        inputs: model.preprocessor.width(),
        capped_levels: fitted.capped_levels,
        cv: cv_report,
        search: search_report,
        segments: segments_report,
        engine: EngineReport::default(),
        seconds: BTreeMap::new(),
        outcomes: None,
        effective_options: None,
        source_fingerprint: None,
        regression: None,
        sample: None,
    };
    cancel.check("training")?;
    // A segmented version's importance is its global model's alone, so the importance, the
    // direction and the coefficients all describe one model; each segment model's importance is
    // in its entry of training.segments.
    let global_only = model.segments.is_some().then(|| LeadModel { segments: None, ..model.clone() });
    let explained = global_only.as_ref().unwrap_or(&model);
    let importance = crate::explain::feature_importance(explained, &data.columns, &validation, importance_rows(explained))?;
    clock.lap("importance");
    summary.seconds = clock.seconds();
    Ok(TrainedModel {
        importance,
        model,
        threshold,
        tiers,
        metrics: Value::Object(metrics),
        summary,
        converged: fitted.converged,
        iterations: fitted.iterations,
        parts,
        predictions,
        labels: data.labels.clone(),
    })
}

/// Each part's metrics at `threshold` and its expected calibration error, from its (scores,
/// labels): what [`crate::evaluation::part_metrics`] and [`expected_calibration_error`] give, with the ROC AUC and
/// the rest of each part measured on worker threads (sorting the scores of a large training
/// part twice is most of the time).
fn measure_parts(parts: &[(Vec<f64>, Vec<bool>)], threshold: f64) -> CoreResult<Vec<(PartMetrics, f64)>> {
    enum Measured {
        RocAuc(Option<f64>),
        Rest { pr_auc: Option<f64>, losses: (f64, f64), confusion: Confusion, ece: f64 },
    }
    let threads = if parts.iter().map(|p| p.0.len()).sum::<usize>() >= PARALLEL_METRICS_ROWS { worker_threads(4) } else { 1 };
    // Task 2k measures part k's ROC AUC, task 2k + 1 the rest of it.
    let measured = map_tasks(2 * parts.len(), threads, |t| {
        let (s, l) = &parts[t / 2];
        if t % 2 == 0 {
            return Measured::RocAuc(roc_auc(s, l));
        }
        Measured::Rest {
            pr_auc: average_precision(s, l),
            losses: (log_loss(s, l), brier(s, l)),
            confusion: confusion(s, l, threshold),
            ece: expected_calibration_error(s, l, ECE_BINS),
        }
    })
    .map_err(|e| core_err!(Internal, "measuring the parts: {e}"))?;
    let mut it = measured.into_iter();
    let mut out = Vec::with_capacity(parts.len());
    while let (Some(Measured::RocAuc(roc)), Some(Measured::Rest { pr_auc, losses, confusion, ece })) = (it.next(), it.next()) {
        out.push((part_metrics_of(confusion, threshold, (roc, pr_auc), losses), ece));
    }
    Ok(out)
}

/// Scores in all parts together from which the parts are measured on worker threads.
const PARALLEL_METRICS_ROWS: usize = 100_000;

#[cfg(test)]
#[path = "pipeline_tests.rs"]
pub(crate) mod tests;
