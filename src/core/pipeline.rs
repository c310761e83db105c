//! The training pipeline, from a columnar table to a model with its threshold, tiers and
//! metrics: split, fit the preprocessing on the training part, fit the estimator, choose the
//! threshold on validation, measure every part. No I/O: the SQL layer reads rows and writes
//! the catalog around it.

use serde_json::{json, Value};

use super::logistic::{fit_logistic, LogisticOptions};
use super::metrics::{max_f1_threshold, part_metrics};
use super::model::{Estimator, LeadModel};
use super::options::TrainOptions;
use super::preprocess::fit_preprocessor;
use super::split::{assign_parts, Part, SplitKey};
use super::tiers::Tiers;
use super::values::{row_values, Column};
use super::CoreResult;
use crate::core_err;

/// The table a model learns from: feature columns, one label per row, and the split key.
pub struct TrainingData {
    pub columns: Vec<Column>,
    pub labels: Vec<bool>,
    pub split_key: SplitKey,
}

/// What training produced, ready to be stored.
pub struct TrainedModel {
    pub model: LeadModel,
    pub threshold: f64,
    pub tiers: Tiers,
    /// Metrics per part: {"train": {...}, "validation": {...}, "test": {...}}.
    pub metrics: Value,
    /// Rows and positives per part, class weights, convergence.
    pub summary: Value,
    pub converged: bool,
    pub iterations: usize,
    /// Each row's part and predicted probability, in row order (for tests and evaluation).
    pub parts: Vec<Part>,
    pub predictions: Vec<f64>,
}

/// Called once per optimizer iteration with (iteration, objective); an Err cancels training.
pub type Progress<'a> = &'a mut dyn FnMut(usize, f64) -> Result<(), String>;

/// Trains a logistic lead model.
pub fn train_logistic(data: &TrainingData, opts: &TrainOptions, progress: Progress<'_>) -> CoreResult<TrainedModel> {
    let n = data.labels.len();
    let parts = assign_parts(&opts.split, &data.labels, &data.split_key)?;
    let rows_of = |part: Part| -> Vec<usize> { (0..n).filter(|&i| parts[i] == part).collect() };
    let (train, validation, test) = (rows_of(Part::Train), rows_of(Part::Validation), rows_of(Part::Test));
    let positives = |rows: &[usize]| rows.iter().filter(|&&i| data.labels[i]).count();
    let train_pos = positives(&train);
    let train_neg = train.len() - train_pos;
    if train_pos < opts.min_class_rows || train_neg < opts.min_class_rows {
        return Err(core_err!(
            "the training part has {train_pos} converted and {train_neg} non-converted leads; at least {} of each are needed (options.min_class_rows)",
            opts.min_class_rows
        ));
    }
    for (name, rows) in [("validation", &validation), ("test", &test)] {
        if rows.is_empty() {
            return Err(core_err!("the {name} part is empty; give the split more rows or larger fractions"));
        }
    }

    let preprocessor = fit_preprocessor(&data.columns, &train, &opts.preprocess)?;
    let x = preprocessor.transform_rows(&data.columns, &train)?;
    let y: Vec<bool> = train.iter().map(|&i| data.labels[i]).collect();
    let (w_neg, w_pos) = opts.class_weight.weights(train_neg, train_pos);
    let weights: Vec<f64> = y.iter().map(|&l| if l { w_pos } else { w_neg }).collect();
    let lopts = LogisticOptions { alpha: opts.alpha, max_iter: opts.max_iter, tol: opts.tol };
    let fit = fit_logistic(x.view(), &y, &weights, &lopts, progress).map_err(|e| core_err!("logistic regression failed: {e}"))?;
    drop(x);
    let (converged, iterations) = (fit.converged, fit.iterations);
    let model = LeadModel { preprocessor, estimator: Estimator::Logistic(fit) };

    // Every row is scored through the same path score() uses.
    let mut predictions = Vec::with_capacity(n);
    let mut raw = Vec::with_capacity(data.columns.len());
    let mut scratch = Vec::new();
    for row in 0..n {
        row_values(&data.columns, row, &mut raw);
        predictions.push(model.probability(&raw, &mut scratch)?);
    }

    let scores_labels = |rows: &[usize]| -> (Vec<f64>, Vec<bool>) {
        (rows.iter().map(|&i| predictions[i]).collect(), rows.iter().map(|&i| data.labels[i]).collect())
    };
    let (vs, vl) = scores_labels(&validation);
    let threshold = match opts.threshold {
        Some(t) => t,
        // No converted lead in validation: fall back to the training base rate.
        None => max_f1_threshold(&vs, &vl).map_or(train_pos as f64 / train.len() as f64, |(t, _)| t),
    };
    let base_rate = train_pos as f64 / train.len() as f64;
    let tiers = opts.tiers.clone().unwrap_or_else(|| Tiers::default_for(threshold, base_rate));

    let mut metrics = serde_json::Map::new();
    let mut summary_parts = serde_json::Map::new();
    for (part, rows) in [(Part::Train, &train), (Part::Validation, &validation), (Part::Test, &test)] {
        let (s, l) = scores_labels(rows);
        metrics.insert(part.as_str().into(), serde_json::to_value(part_metrics(&s, &l, threshold)).expect("metrics serialize"));
        summary_parts.insert(part.as_str().into(), json!({"rows": rows.len(), "positives": positives(rows)}));
    }
    let summary = json!({
        "rows": n,
        "parts": summary_parts,
        "class_weights": {"negative": w_neg, "positive": w_pos},
        "iterations": iterations,
        "converged": converged,
        "inputs": model.preprocessor.width(),
    });
    Ok(TrainedModel {
        model,
        threshold,
        tiers,
        metrics: Value::Object(metrics),
        summary,
        converged,
        iterations,
        parts,
        predictions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::metrics::roc_auc;
    use crate::core::split::SeededRng;
    use crate::core::values::{CategoricalBuilder, ColumnData, FeatureKind};

    /// Leads whose conversion depends on visits and source, with a known ground truth.
    fn synthetic(n: usize, seed: u64) -> TrainingData {
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
    fn learns_the_planted_signal_and_reports_every_part() {
        let data = synthetic(4000, 1);
        let out = train_logistic(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        assert!(out.converged);
        let test_auc = out.metrics["test"]["roc_auc"].as_f64().unwrap();
        assert!(test_auc > 0.7, "test AUC {test_auc}");
        let coefs = out.model.coefficients();
        let visits = coefs.iter().find(|(n, _)| n == "visits").unwrap().1;
        let reference = coefs.iter().find(|(n, _)| n == "source = Reference").unwrap().1;
        assert!(visits > 0.5 && reference > 0.5, "{coefs:?}");
        assert_eq!(out.summary["parts"]["test"]["rows"], 400);
        // The stored predictions are what the model gives for each row.
        let test_rows: Vec<usize> = (0..4000).filter(|&i| out.parts[i] == Part::Test).collect();
        let s: Vec<f64> = test_rows.iter().map(|&i| out.predictions[i]).collect();
        let l: Vec<bool> = test_rows.iter().map(|&i| data.labels[i]).collect();
        assert!((roc_auc(&s, &l).unwrap() - test_auc).abs() < 1e-12);
        assert_eq!(out.tiers.top(), "hot");
    }

    #[test]
    fn too_few_of_a_class_is_an_error() {
        let mut data = synthetic(200, 2);
        for (i, l) in data.labels.iter_mut().enumerate() {
            *l = i < 5;
        }
        let err = train_logistic(&data, &TrainOptions::default(), &mut |_, _| Ok(())).err().unwrap();
        assert!(err.0.contains("at least 10"), "{err}");
    }

    #[test]
    fn cancel_from_progress_stops_training() {
        let data = synthetic(1000, 3);
        let err = train_logistic(&data, &TrainOptions::default(), &mut |_, _| Err("canceled".into())).err().unwrap();
        assert!(err.0.contains("canceled"), "{err}");
    }

    #[test]
    fn balanced_class_weight_raises_scores_of_the_minority() {
        let data = synthetic(3000, 4);
        let plain = train_logistic(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        let opts = TrainOptions { class_weight: crate::core::options::ClassWeight::Balanced, ..Default::default() };
        let balanced = train_logistic(&data, &opts, &mut |_, _| Ok(())).unwrap();
        let mean = |p: &[f64]| p.iter().sum::<f64>() / p.len() as f64;
        let base = data.labels.iter().filter(|&&l| l).count() as f64 / data.labels.len() as f64;
        assert!(base < 0.5);
        assert!(mean(&balanced.predictions) > mean(&plain.predictions));
    }
}
