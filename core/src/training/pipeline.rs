//! The training pipeline, from a columnar table to a model with its threshold, tiers and
//! metrics: split; optionally cross-validate or search hyperparameters on the training part;
//! fit the preprocessing and the estimator on the training part (resampled if asked); calibrate
//! and choose the threshold on validation; measure every part, the test part once. No I/O: the
//! SQL layer reads rows and writes the catalog around it.
use serde_json::{json, Value};

use crate::models::LogisticPasses;
use crate::models::{expected_calibration_error, ECE_BINS};
use crate::data::TrainingData;
use crate::evaluation::{max_f1_threshold, part_metrics, roc_auc};
use crate::models::LeadModel;
use crate::resources::PhaseTimes;
use crate::training::options::{Algorithm, CalibrationChoice, TrainOptions};
use crate::training::selection::{cross_validate, search, training_folds};
use crate::data::{assign_parts, Part};
use crate::evaluation::Tiers;
use crate::CoreResult;
use crate::training::summary::{AutoChoice, ClassWeights, EngineReport, PartCount, ResampleReport, TrainingSummary};
use std::collections::BTreeMap;
use crate::training::fit::{calibrate, fit_on_rows, probabilities, FitParams, Fitted, Progress};
use crate::core_err;

/// What training produced, ready to be stored.
pub struct TrainedModel {
    pub model: LeadModel,
    pub threshold: f64,
    pub tiers: Tiers,
    /// Metrics per part: {"train": {...}, "validation": {...}, "test": {...}}.
    pub metrics: Value,
    /// Rows and positives per part, class weights, convergence, CV and search results.
    pub summary: TrainingSummary,
    pub converged: bool,
    pub iterations: usize,
    /// Each row's part, predicted probability and label, in row order.
    pub parts: Vec<Part>,
    pub predictions: Vec<f64>,
    pub labels: Vec<bool>,
    /// Global importance (mean |SHAP|) on the validation part.
    pub importance: Vec<crate::explain::Importance>,
}

/// Validation rows used for global importance at most (evenly spaced), to bound training time.
pub const IMPORTANCE_ROWS: usize = 2000;

/// Selects hyperparameters (CV / search) and fits one algorithm on the training part.
fn select_and_fit(
    data: &TrainingData,
    train: &[usize],
    validation: &[usize],
    algorithm: Algorithm,
    opts: &TrainOptions,
    passes: Option<&mut dyn LogisticPasses>,
    progress: Progress<'_>,
) -> CoreResult<(Fitted, FitParams, Option<crate::training::selection::CvReport>, Option<Vec<crate::training::selection::Candidate>>)> {
    let mut params = FitParams::from_options(opts, algorithm);
    let mut cv_report = None;
    let mut search_report = None;
    if let Some(k) = opts.cv {
        let (folds, time_ordered) = training_folds(data, train, k, opts.split.seed)?;
        match &opts.search {
            Some(spec) => {
                let (best, tried) = search(data, &folds, time_ordered, spec, &params, opts, &mut *progress)?;
                cv_report = tried.iter().find(|c| c.params == best).map(|c| c.cv.clone());
                params = best;
                search_report = Some(tried);
            }
            None => cv_report = Some(cross_validate(data, &folds, time_ordered, &params, opts, &mut *progress)?),
        }
    }
    let fitted = fit_on_rows(data, train, &params, opts, Some(validation), passes, &mut *progress)?;
    Ok((fitted, params, cv_report, search_report))
}

/// Trains a lead model with the algorithm in `opts` (logistic, gbm or auto).
pub fn train_model(data: &TrainingData, opts: &TrainOptions, progress: Progress<'_>) -> CoreResult<TrainedModel> {
    train_model_with(data, opts, None, progress)
}

/// [`train_model`], with the final logistic fit (not the CV folds) done by aggregate `passes`
/// over the training part when given (the aggregate engine).
pub fn train_model_with(
    data: &TrainingData,
    opts: &TrainOptions,
    mut passes: Option<&mut dyn LogisticPasses>,
    progress: Progress<'_>,
) -> CoreResult<TrainedModel> {
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
            let logistic = select_and_fit(data, &train, &validation, Algorithm::Logistic, opts, passes.take(), &mut *progress)?;
            let gbm = select_and_fit(data, &train, &validation, Algorithm::Gbm, opts, None, &mut *progress)?;
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
            let (f, p, c, s) = select_and_fit(data, &train, &validation, algorithm, opts, passes.take(), &mut *progress)?;
            (f, p, c, s, None)
        }
    };
    let mut model = fitted.model;
    clock.lap("fit");

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
            let (segments, report) = crate::training::segments::fit_segments(data, &train, &validation, &model, &params, opts, &mut *progress)?;
            model.segments = Some(segments);
            Some(report)
        }
        None => None,
    };
    clock.lap("calibrate");
    let predictions = probabilities(&model, data, &(0..n).collect::<Vec<_>>())?;
    clock.lap("score_rows");

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
    for (part, rows) in [(Part::Train, &train), (Part::Validation, &validation), (Part::Test, &test)] {
        let (s, l) = scores_labels(rows);
        let mut m = serde_json::to_value(part_metrics(&s, &l, threshold)).expect("metrics serialize");
        m["ece"] = json!(expected_calibration_error(&s, &l, ECE_BINS));
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
        resample: ResampleReport { method: opts.resample.clone(), synthetic_rows: fitted.synthetic_rows, dropped_rows: fitted.dropped_rows },
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
        effective_options: None,
    };
    let importance = crate::explain::feature_importance(&model, &data.columns, &validation, IMPORTANCE_ROWS)?;
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::evaluation::roc_auc;
    use crate::data::row_values;
    use crate::training::fit::SCORE_CHUNK;
    use crate::data::SeededRng;
    use crate::data::SplitKey;
    use crate::data::{CategoricalBuilder, Column, ColumnData, FeatureKind};

    /// Leads whose conversion depends on visits and source, with a known ground truth.
    pub(crate) fn synthetic(n: usize, seed: u64) -> TrainingData {
        let mut rng = SeededRng::new(seed);
        let mut visits = Vec::with_capacity(n);
        let mut source = CategoricalBuilder::default();
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let u = rng.next_u64() as f64 / u64::MAX as f64;
            let v = (u * 10.0).floor();
            let s = ["Google", "Reference", "Olark Chat"][rng.below(3)];
            let z = -3.5 + 0.4 * v + if s == "Reference" { 1.5 } else { 0.0 };
            let p = 1.0 / (1.0 + (-z).exp());
            labels.push((rng.next_u64() as f64 / u64::MAX as f64) < p);
            visits.push(if rng.below(20) == 0 { None } else { Some(v) });
            source.push(Some(s));
        }
        TrainingData {
            columns: vec![
                Column { name: "visits".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(visits) },
                Column { name: "source".into(), kind: FeatureKind::Categorical, data: source.finish() },
            ],
            labels,
            split_key: SplitKey::None,
        }
    }

    #[test]
    fn rows_in_another_order_train_the_same_model_once_in_content_order() {
        let data = synthetic(3000, 5);
        let mut reversed = TrainingData {
            columns: data
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.clone(),
                    kind: c.kind,
                    data: match &c.data {
                        ColumnData::Numeric(v) => ColumnData::Numeric(v.iter().rev().copied().collect()),
                        ColumnData::Categorical { dictionary, codes } => {
                            // Codes as a reader would give them: numbered by first appearance.
                            let mut b = CategoricalBuilder::default();
                            for &c in codes.iter().rev() {
                                b.push((c != crate::data::NULL_CODE).then(|| dictionary[c as usize].as_str()));
                            }
                            b.finish()
                        }
                    },
                })
                .collect(),
            labels: data.labels.iter().rev().copied().collect(),
            split_key: SplitKey::None,
        };
        let mut data = data;
        let before = train_model(&reversed, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        assert_ne!(before.metrics, train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap().metrics, "row order changes a random split");
        crate::data::put_in_content_order(&mut data);
        crate::data::put_in_content_order(&mut reversed);
        let a = train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        let b = train_model(&reversed, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        assert_eq!(a.metrics, b.metrics);
        assert_eq!(a.model.coefficients(), b.model.coefficients());
    }

    #[test]
    fn learns_the_planted_signal_and_reports_every_part() {
        let data = synthetic(4000, 1);
        let out = train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        assert!(out.converged);
        let test_auc = out.metrics["test"]["roc_auc"].as_f64().unwrap();
        assert!(test_auc > 0.7, "test AUC {test_auc}");
        let coefs = out.model.coefficients();
        let visits = coefs.iter().find(|(n, _)| n == "visits").unwrap().1;
        let reference = coefs.iter().find(|(n, _)| n == "source = Reference").unwrap().1;
        assert!(visits > 0.5 && reference > 0.5, "{coefs:?}");
        assert_eq!(out.summary.parts["test"].rows, 400);
        // The stored predictions are what the model gives for each row.
        let test_rows: Vec<usize> = (0..4000).filter(|&i| out.parts[i] == Part::Test).collect();
        let s: Vec<f64> = test_rows.iter().map(|&i| out.predictions[i]).collect();
        let l: Vec<bool> = test_rows.iter().map(|&i| data.labels[i]).collect();
        assert!((roc_auc(&s, &l).unwrap() - test_auc).abs() < 1e-12);
        assert_eq!(out.tiers.top(), "hot");
    }

    #[test]
    fn scoring_rows_on_threads_equals_scoring_them_one_by_one() {
        let data = synthetic(2 * SCORE_CHUNK + 1234, 5);
        let out = train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        let mut raw = Vec::new();
        let mut scratch = Vec::new();
        for (row, &p) in out.predictions.iter().enumerate() {
            row_values(&data.columns, row, &mut raw);
            assert_eq!(p.to_bits(), out.model.probability(&raw, &mut scratch).unwrap().to_bits(), "row {row}");
        }
        let some: Vec<usize> = (0..data.labels.len()).rev().step_by(3).collect();
        let p = probabilities(&out.model, &data, &some).unwrap();
        assert!(some.iter().zip(&p).all(|(&r, q)| q.to_bits() == out.predictions[r].to_bits()));
    }

    /// Leads with a text column of `levels` companies (each seen equally often) and a number;
    /// conversion depends on the company's index.
    fn many_companies(n: usize, levels: usize) -> TrainingData {
        let mut company = CategoricalBuilder::default();
        let (mut n7, mut labels) = (Vec::new(), Vec::new());
        for g in 0..n {
            let c = g % levels;
            company.push(Some(&format!("company {c}")));
            n7.push(Some((g % 7) as f64));
            labels.push((c * 7919 + g / levels) % 10 < 3);
        }
        TrainingData {
            columns: vec![
                Column { name: "company".into(), kind: FeatureKind::Categorical, data: company.finish() },
                Column { name: "n".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(n7) },
            ],
            labels,
            split_key: SplitKey::None,
        }
    }

    #[test]
    fn a_high_cardinality_column_is_capped_stored_sparse_and_trains() {
        let data = many_companies(60_000, 3000);
        let mut opts = TrainOptions::default();
        opts.preprocess.max_levels = 500;
        let out = train_model(&data, &opts, &mut |_, _| Ok(())).unwrap();
        let capped = &out.summary.to_json()["capped_levels"][0];
        assert_eq!((capped["feature"].as_str(), capped["kept_levels"].as_u64()), (Some("company"), Some(500)), "{capped}");
        assert!(capped["frequent_levels"].as_u64().unwrap() > 2000);
        let p = &out.model.preprocessor;
        assert_eq!(p.width(), 502);
        assert_eq!(p.design_size(1000).0, crate::data::Storage::Sparse);
        // The stored predictions are the scores of each row one by one (score()'s path).
        let (mut raw, mut scratch) = (Vec::new(), Vec::new());
        for row in (0..data.labels.len()).step_by(997) {
            row_values(&data.columns, row, &mut raw);
            assert_eq!(out.predictions[row].to_bits(), out.model.probability(&raw, &mut scratch).unwrap().to_bits());
        }
    }

    #[test]
    fn training_past_the_memory_limit_is_an_error_naming_the_limit() {
        let data = many_companies(60_000, 3000);
        let mut opts = TrainOptions::default();
        opts.max_memory = crate::resources::MemoryLimit { bytes: 4 << 20, origin: crate::resources::LimitOrigin::Option };
        let err = train_model(&data, &opts, &mut |_, _| Ok(())).err().unwrap();
        assert_eq!(err.kind, crate::ErrorKind::MemoryLimit, "{err}");
        let err = err.message;
        // 1,000 kept levels: the Newton system of about 1,000 inputs is past 4 MB.
        assert!(err.contains("Newton system") && err.contains("options.max_memory") && err.contains("\"company\" 1001"), "{err}");
        assert!(err.contains("options.max_levels"), "{err}");
        opts.algorithm = Algorithm::Gbm;
        let err = train_model(&data, &opts, &mut |_, _| Ok(())).err().unwrap().message;
        assert!(err.contains("boosted trees") && err.contains("4.0 MB"), "{err}");
    }

    #[test]
    fn a_tolerance_below_floating_point_stops_once_the_objective_stalls() {
        let data = synthetic(3000, 8);
        let opts = TrainOptions { tol: 1e-300, alpha: 0.0, max_iter: 10_000, ..Default::default() };
        let out = train_model(&data, &opts, &mut |_, _| Ok(())).unwrap();
        assert!(!out.converged && out.iterations < 100, "{} iterations", out.iterations);
    }

    #[test]
    fn too_few_of_a_class_is_an_error() {
        let mut data = synthetic(200, 2);
        for (i, l) in data.labels.iter_mut().enumerate() {
            *l = i < 5;
        }
        let err = train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).err().unwrap();
        assert!(err.message.contains("at least 10"), "{err}");
        assert_eq!(err.kind, crate::ErrorKind::InsufficientData);
    }

    #[test]
    fn a_one_class_label_is_insufficient_data() {
        let mut data = synthetic(200, 2);
        data.labels.iter_mut().for_each(|l| *l = false);
        let err = train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).err().unwrap();
        assert_eq!(err.kind, crate::ErrorKind::InsufficientData, "{err}");
    }

    #[test]
    fn cancel_from_progress_stops_training() {
        let data = synthetic(1000, 3);
        let err = train_model(&data, &TrainOptions::default(), &mut |_, _| Err("canceled".into())).err().unwrap();
        assert!(err.message.contains("canceled"), "{err}");
        assert_eq!(err.kind, crate::ErrorKind::Canceled);
    }

    #[test]
    fn balanced_class_weight_raises_scores_of_the_minority() {
        let data = synthetic(3000, 4);
        let plain = train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        // Without calibration: Platt (the default with class weights) would undo the shift on purpose.
        let opts = TrainOptions {
            class_weight: crate::training::options::ClassWeight::Balanced,
            calibration: crate::training::options::CalibrationChoice::None,
            ..Default::default()
        };
        let balanced = train_model(&data, &opts, &mut |_, _| Ok(())).unwrap();
        let mean = |p: &[f64]| p.iter().sum::<f64>() / p.len() as f64;
        let base = data.labels.iter().filter(|&&l| l).count() as f64 / data.labels.len() as f64;
        assert!(base < 0.5);
        assert!(mean(&balanced.predictions) > mean(&plain.predictions));
    }
}
