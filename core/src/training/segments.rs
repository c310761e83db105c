//! Segment models (`options.segment_by`): one model per value of a column such as lead source,
//! trained on that segment's rows of the same split and with the same hyperparameters as the
//! global model, which stays as the fallback for segments too small to train and for values
//! never seen in training.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::core_err;
use crate::data::value_text;
use crate::data::TrainingData;
use crate::evaluation::{max_f1_threshold, roc_auc, Tiers};
use crate::models::{LeadModel, Segments};
use crate::resources::Cancel;
use crate::training::fit::{calibrate, fit_on_rows, probabilities, FitParams, Progress};
use crate::training::options::TrainOptions;
use crate::CoreResult;

/// Most segment models one training may fit (each is a full fit, stored in the artifact).
pub const MAX_SEGMENT_MODELS: usize = 1_000;

/// Rows of one part, grouped by segment value (rows whose value is missing belong to none).
fn by_segment(data: &TrainingData, column: usize, rows: &[usize], missing_values: &[String]) -> BTreeMap<String, Vec<usize>> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &r in rows {
        if let Some(v) = value_text(&data.columns[column].value(r), missing_values) {
            groups.entry(v).or_default().push(r);
        }
    }
    groups
}

/// Fits the segment models. `parts` are the global split's (train, validation) rows; returns
/// the segments and a report per segment (trained or why not, and validation ROC AUC of the
/// segment model against the global one on the same rows).
#[allow(clippy::too_many_arguments)]
pub fn fit_segments(
    data: &TrainingData,
    train: &[usize],
    validation: &[usize],
    global: &LeadModel,
    params: &FitParams,
    opts: &TrainOptions,
    progress: Progress<'_>,
    cancel: &dyn Cancel,
) -> CoreResult<(Segments, Value)> {
    let name = opts.segment_by.as_deref().expect("called with options.segment_by");
    let column = data.columns.iter().position(|c| c.name == name).ok_or_else(|| {
        core_err!(UnknownColumn, "option \"segment_by\" names \"{name}\", which is not one of the model's features")
    })?;
    let missing = &global.preprocessor.missing_values;
    let train_groups = by_segment(data, column, train, missing);
    let validation_groups = by_segment(data, column, validation, missing);
    let trainable = train_groups
        .iter()
        .filter(|(_, rows)| {
            let positives = rows.iter().filter(|&&r| data.labels[r]).count();
            positives >= opts.min_class_rows && rows.len() - positives >= opts.min_class_rows
        })
        .count();
    if trainable > MAX_SEGMENT_MODELS {
        return Err(core_err!(
            InvalidArgument,
            "option \"segment_by\": column \"{name}\" has {trainable} segments large enough for a model of their own; at most {MAX_SEGMENT_MODELS} are allowed (raise options.min_class_rows or segment by a coarser column)"
        ));
    }
    let mut models = Vec::new();
    let mut report = Vec::new();
    for (segment, seg_train) in &train_groups {
        let seg_validation = validation_groups.get(segment).map_or(&[][..], Vec::as_slice);
        let positives = seg_train.iter().filter(|&&r| data.labels[r]).count();
        let negatives = seg_train.len() - positives;
        let mut entry = json!({"segment": segment, "training_rows": seg_train.len(), "training_positives": positives,
                               "validation_rows": seg_validation.len()});
        let too_small = positives < opts.min_class_rows || negatives < opts.min_class_rows || seg_validation.is_empty();
        if too_small {
            entry["model"] = json!("global");
            entry["reason"] = json!(format!(
                "{positives} converted and {negatives} non-converted training leads, {} validation leads; a segment model needs {} of each class and validation rows",
                seg_validation.len(),
                opts.min_class_rows
            ));
            report.push(entry);
            continue;
        }
        let fitted = fit_on_rows(data, seg_train, params, opts, Some(seg_validation), None, &mut *progress, cancel)?;
        let mut model = fitted.model;
        let labels: Vec<bool> = seg_validation.iter().map(|&r| data.labels[r]).collect();
        let calibrated = match opts.effective_calibration() {
            crate::training::options::CalibrationChoice::None => Ok(()),
            choice => {
                let scores = probabilities(&model, data, seg_validation)?;
                calibrate(choice, &scores, &labels).map(|c| model.calibration = c)
            }
        };
        if let Err(e) = calibrated {
            entry["model"] = json!("global");
            entry["reason"] = json!(format!("calibration failed on the segment's validation rows: {e}"));
            report.push(entry);
            continue;
        }
        let segment_scores = probabilities(&model, data, seg_validation)?;
        let segment_auc = roc_auc(&segment_scores, &labels);
        let global_auc = roc_auc(&probabilities(global, data, seg_validation)?, &labels);
        entry["validation_roc_auc"] = json!(segment_auc);
        entry["global_validation_roc_auc"] = json!(global_auc);
        if keeps_segment_model(segment_auc, global_auc) {
            entry["model"] = json!("segment");
            entry["importance"] = segment_importance(&model, data, seg_validation)?;
            if opts.segment_tiers {
                let (threshold, tiers) = segment_threshold_and_tiers(&segment_scores, &labels, positives, seg_train.len());
                entry["threshold"] = json!(threshold);
                entry["tiers"] = tiers.to_json();
            }
            models.push((segment.clone(), model));
        } else {
            entry["model"] = json!("global");
            entry["fell_back"] = json!(true);
            entry["reason"] = json!(format!(
                "the segment model's validation ROC AUC {} is below the global model's {} on the same rows",
                rounded(segment_auc),
                rounded(global_auc)
            ));
        }
        report.push(entry);
    }
    Ok((Segments { feature: column, models }, json!({"column": name, "segments": report})))
}

/// A segment keeps its own model unless that model ranks the segment's validation leads worse
/// than the global model does (ROC AUC, same rows). When either AUC is undefined (one class
/// among the validation rows) nothing shows it worse, and it is kept.
pub fn keeps_segment_model(segment_auc: Option<f64>, global_auc: Option<f64>) -> bool {
    match (segment_auc, global_auc) {
        (Some(s), Some(g)) => s >= g,
        _ => true,
    }
}

/// The segment model's five most important features on its validation rows (mean |SHAP|), with
/// their coefficients for a logistic model: `feature_importance()` reports the global model's.
fn segment_importance(model: &LeadModel, data: &TrainingData, validation: &[usize]) -> CoreResult<Value> {
    let items = crate::explain::feature_importance(model, &data.columns, validation, SEGMENT_IMPORTANCE_ROWS)?;
    Ok(Value::Array(
        items
            .iter()
            .take(5)
            .map(|i| json!({"feature": i.feature, "importance": i.importance, "coefficient": i.coefficient}))
            .collect(),
    ))
}

/// A segment's own threshold (max F1 on its validation leads, else its training base rate) and
/// the default hot / warm / cold tiers around it (`Tiers::default_for`), for `segment_tiers`.
pub fn segment_threshold_and_tiers(scores: &[f64], labels: &[bool], positives: usize, rows: usize) -> (f64, Tiers) {
    let base_rate = positives as f64 / rows.max(1) as f64;
    let threshold = max_f1_threshold(scores, labels).map_or(base_rate, |(t, _)| t);
    (threshold, Tiers::default_for(threshold, base_rate))
}

/// Validation rows a segment's importance is computed on, at most.
const SEGMENT_IMPORTANCE_ROWS: usize = 500;

fn rounded(auc: Option<f64>) -> String {
    auc.map_or("undefined".to_string(), |a| format!("{a:.3}"))
}

/// "segment A (0.612 < global 0.655), segment B (...)": the segments that fell back, for a NOTICE.
pub fn fallback_notice(report: &Value) -> Option<String> {
    let fell: Vec<String> = report["segments"]
        .as_array()?
        .iter()
        .filter(|e| e["fell_back"] == json!(true))
        .map(|e| {
            format!(
                "{} ({} < global {})",
                e["segment"].as_str().unwrap_or("?"),
                rounded(e["validation_roc_auc"].as_f64()),
                rounded(e["global_validation_roc_auc"].as_f64())
            )
        })
        .collect();
    (!fell.is_empty()).then(|| {
        format!(
            "segments of \"{}\" scored by the global model because their own model ranks their validation leads worse (ROC AUC): {}",
            report["column"].as_str().unwrap_or("?"),
            fell.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CategoricalBuilder, Column, ColumnData, FeatureKind, RawValue};
    use crate::data::{SeededRng, SplitKey};
    use crate::evaluation::roc_auc;
    use crate::training::pipeline::train_model;

    /// Visits raise conversion for Webinar leads and lower it for Outbound leads; a handful of
    /// Partner leads are too few for a model of their own.
    fn data(n: usize) -> TrainingData {
        let mut rng = SeededRng::new(5);
        let u = |rng: &mut SeededRng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (mut visits, mut labels) = (Vec::new(), Vec::new());
        let mut source = CategoricalBuilder::default();
        for i in 0..n {
            let v = (u(&mut rng) * 10.0).floor();
            let s = if i % 400 == 1 {
                "Partner"
            } else if i % 2 == 0 {
                "Webinar"
            } else {
                "Outbound"
            };
            let z = if s == "Outbound" { 2.0 - 0.6 * v } else { -4.0 + 0.6 * v };
            labels.push(u(&mut rng) < 1.0 / (1.0 + (-z).exp()));
            visits.push(Some(v));
            source.push(Some(s));
        }
        TrainingData {
            columns: vec![
                Column { name: "visits".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(visits) },
                Column { name: "source".into(), kind: FeatureKind::Categorical, data: source.finish() },
            ],
            labels,
            targets: Vec::new(),
            split_key: SplitKey::None,
        }
    }

    fn test_auc(t: &crate::training::trained::TrainedModel) -> f64 {
        let rows: Vec<usize> = (0..t.parts.len()).filter(|&i| t.parts[i] == crate::data::Part::Test).collect();
        let s: Vec<f64> = rows.iter().map(|&i| t.predictions[i]).collect();
        let l: Vec<bool> = rows.iter().map(|&i| t.labels[i]).collect();
        roc_auc(&s, &l).unwrap()
    }

    #[test]
    fn segment_models_learn_opposite_effects_and_fall_back_to_global() {
        let d = data(6000);
        let global = train_model(&d, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
        let opts = TrainOptions { segment_by: Some("source".into()), ..Default::default() };
        let seg = train_model(&d, &opts, &mut |_, _| Ok(())).unwrap();
        let (g, s) = (test_auc(&global), test_auc(&seg));
        assert!(s > g + 0.05, "segmented {s} vs global {g}");
        let segments = seg.model.segments.as_ref().unwrap();
        let names: Vec<&str> = segments.models.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(names, vec!["Outbound", "Webinar"]);
        let report = &seg.summary.to_json()["segments"]["segments"];
        let partner = report.as_array().unwrap().iter().find(|e| e["segment"] == "Partner").unwrap();
        assert_eq!(partner["model"], "global", "{partner}");
        // feature_importance's rows describe the global model alone: its SHAP and its coefficients
        // (visits barely matter globally, the two segments' opposite effects cancel out) ...
        let visits = seg.importance.iter().find(|i| i.feature == "visits").unwrap();
        let global_visits = seg.model.coefficients().into_iter().find(|(n, _)| n == "visits").unwrap().1;
        assert_eq!(visits.coefficient, Some(global_visits));
        let mut unsegmented = seg.model.clone();
        unsegmented.segments = None;
        let rows: Vec<usize> = (0..seg.parts.len()).filter(|&i| seg.parts[i] == crate::data::Part::Validation).collect();
        let expected = crate::explain::feature_importance(&unsegmented, &d.columns, &rows, 2000).unwrap();
        assert_eq!(seg.importance, expected);
        // ... and each segment model's own importance is in its report entry.
        for e in report.as_array().unwrap().iter().filter(|e| e["model"] == "segment") {
            assert_eq!(e["importance"][0]["feature"], "visits", "{e}");
        }

        // Routing: a segment's own model, and the global one for unseen or missing values.
        let mut scratch = Vec::new();
        let p =
            |src: RawValue<'_>, scratch: &mut Vec<f64>| seg.model.probability(&[RawValue::Number(9.0), src], scratch).unwrap();
        assert!(p(RawValue::Text("Webinar"), &mut scratch) > 0.5);
        assert!(p(RawValue::Text("Outbound"), &mut scratch) < 0.1);
        let unseen = p(RawValue::Text("Trade show"), &mut scratch);
        let global_p = seg.model.segments.as_ref().map(|_| {
            let mut m = seg.model.clone();
            m.segments = None;
            m.probability(&[RawValue::Number(9.0), RawValue::Text("Trade show")], &mut scratch).unwrap()
        });
        assert_eq!(Some(unseen), global_p);
        assert!(std::ptr::eq(seg.model.for_lead(&[RawValue::Number(1.0), RawValue::Null]), &seg.model));
    }

    #[test]
    fn a_segment_model_worse_than_the_global_one_falls_back() {
        assert!(keeps_segment_model(Some(0.8), Some(0.7)));
        assert!(keeps_segment_model(Some(0.7), Some(0.7)), "a tie keeps the segment model");
        assert!(!keeps_segment_model(Some(0.69), Some(0.7)));
        assert!(keeps_segment_model(None, Some(0.7)));
        assert!(keeps_segment_model(Some(0.6), None));
        let report = json!({"column": "source", "segments": [
            {"segment": "Webinar", "model": "segment", "validation_roc_auc": 0.9, "global_validation_roc_auc": 0.8},
            {"segment": "Events", "model": "global", "fell_back": true, "validation_roc_auc": 0.61234, "global_validation_roc_auc": 0.655},
        ]});
        assert_eq!(
            fallback_notice(&report).unwrap(),
            "segments of \"source\" scored by the global model because their own model ranks their validation leads worse (ROC AUC): Events (0.612 < global 0.655)"
        );
        assert_eq!(fallback_notice(&json!({"column": "source", "segments": []})), None);
    }

    /// Where visits have the same effect in every segment, a segment's own model (fitted on
    /// fewer rows) is no better than the global one: the segments that rank worse fall back,
    /// are scored by the global model, and say so in the report.
    #[test]
    fn fallen_back_segments_are_scored_by_the_global_model() {
        let mut rng = SeededRng::new(21);
        let u = |rng: &mut SeededRng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (mut visits, mut noise, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        let mut source = CategoricalBuilder::default();
        let sources = ["A", "B", "C", "D", "E", "F"];
        for i in 0..3000 {
            let v = (u(&mut rng) * 10.0).floor();
            labels.push(u(&mut rng) < 1.0 / (1.0 + (-(-3.0 + 0.5 * v)).exp()));
            visits.push(Some(v));
            noise.push(Some(u(&mut rng)));
            source.push(Some(sources[i % sources.len()]));
        }
        let d = TrainingData {
            columns: vec![
                Column { name: "visits".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(visits) },
                Column { name: "noise".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(noise) },
                Column { name: "source".into(), kind: FeatureKind::Categorical, data: source.finish() },
            ],
            labels,
            targets: Vec::new(),
            split_key: SplitKey::None,
        };
        let opts = TrainOptions { segment_by: Some("source".into()), ..Default::default() };
        let seg = train_model(&d, &opts, &mut |_, _| Ok(())).unwrap();
        let report = seg.summary.to_json()["segments"].clone();
        let entries = report["segments"].as_array().unwrap();
        let fell: Vec<&str> =
            entries.iter().filter(|e| e["fell_back"] == json!(true)).map(|e| e["segment"].as_str().unwrap()).collect();
        assert!(!fell.is_empty(), "{report}");
        for e in entries {
            let kept = e["model"] == "segment";
            if let (Some(s), Some(g)) = (e["validation_roc_auc"].as_f64(), e["global_validation_roc_auc"].as_f64()) {
                assert_eq!(kept, s >= g, "{e}");
            }
        }
        let routed: Vec<&str> = seg.model.segments.as_ref().unwrap().models.iter().map(|(v, _)| v.as_str()).collect();
        for f in &fell {
            assert!(!routed.contains(f), "{f} fell back but still has a model");
            let raw = [RawValue::Number(5.0), RawValue::Number(0.5), RawValue::Text(f)];
            assert!(std::ptr::eq(seg.model.for_lead(&raw), &seg.model));
        }
        assert!(fallback_notice(&report).unwrap().contains(fell[0]));
    }

    #[test]
    fn segment_tiers_are_chosen_on_each_segments_validation_leads() {
        let d = data(6000);
        let opts = TrainOptions { segment_by: Some("source".into()), segment_tiers: true, ..Default::default() };
        let seg = train_model(&d, &opts, &mut |_, _| Ok(())).unwrap();
        let report = seg.summary.to_json()["segments"]["segments"].clone();
        let mut thresholds = Vec::new();
        for e in report.as_array().unwrap().iter().filter(|e| e["model"] == "segment") {
            let name = e["segment"].as_str().unwrap();
            // The segment's validation leads, scored by the version (routed to the segment model).
            let rows: Vec<usize> = (0..seg.parts.len())
                .filter(|&i| seg.parts[i] == crate::data::Part::Validation && d.columns[1].value(i) == RawValue::Text(name))
                .collect();
            let scores: Vec<f64> = rows.iter().map(|&i| seg.predictions[i]).collect();
            let labels: Vec<bool> = rows.iter().map(|&i| seg.labels[i]).collect();
            let want = max_f1_threshold(&scores, &labels).unwrap().0;
            assert_eq!(e["threshold"].as_f64(), Some(want), "{e}");
            let tiers = Tiers::from_json(&e["tiers"]).unwrap();
            assert_eq!(tiers.0[0].min_score, want);
            thresholds.push(want);
        }
        assert_eq!(thresholds.len(), 2);
        assert_ne!(thresholds[0], thresholds[1], "each segment its own threshold");
        // Without the option no segment has tiers of its own.
        let plain =
            train_model(&d, &TrainOptions { segment_by: Some("source".into()), ..Default::default() }, &mut |_, _| Ok(()))
                .unwrap();
        assert!(plain.summary.to_json()["segments"]["segments"].as_array().unwrap().iter().all(|e| e.get("tiers").is_none()));
    }

    #[test]
    fn segment_column_must_be_a_feature() {
        let d = data(600);
        let opts = TrainOptions { segment_by: Some("region".into()), ..Default::default() };
        let err = train_model(&d, &opts, &mut |_, _| Ok(())).err().unwrap();
        assert!(err.message.contains("\"segment_by\" names \"region\""), "{err}");
    }
}
