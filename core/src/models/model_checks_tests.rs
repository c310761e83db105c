//! Tests of the artifact checks: hand-made inconsistencies of every kind are errors, and a fuzz
//! over gbm artifacts (numbers and bytes edited, checksum recomputed) never yields a model that
//! panics, loops or crashes when it scores or explains.

use serde_json::Value;

use super::*;
use crate::data::row_values;
use crate::data::SeededRng;
use crate::data::TrainingData;
use crate::models::artifact::{decode_model, encode_model};
use crate::models::calibration::Calibration;
use crate::models::gbm::{ForustModel, TreeBooster};
use crate::training::train_model;
use crate::training::{Algorithm, TrainOptions};

fn trained(algorithm: Algorithm) -> (LeadModel, TrainingData) {
    let data = crate::training::pipeline_tests::synthetic(1500, 3);
    let mut opts = TrainOptions { algorithm, ..Default::default() };
    opts.gbm.trees = 15;
    let out = train_model(&data, &opts, &mut |_, _| Ok(())).unwrap();
    (out.model, data)
}

fn err_of(model: &LeadModel) -> String {
    check_model(model).unwrap_err().message
}

/// The booster's forust JSON as a value, for edits, and back.
fn booster_json(model: &LeadModel) -> Value {
    let Estimator::Gbm(b) = &model.estimator else { panic!("a gbm model") };
    serde_json::from_str(serde_json::to_value(b).unwrap().as_str().unwrap()).unwrap()
}

fn with_booster(model: &LeadModel, json: &Value) -> LeadModel {
    let booster: ForustModel = serde_json::from_value(Value::String(json.to_string())).unwrap();
    LeadModel { estimator: Estimator::Gbm(booster), ..model.clone() }
}

#[test]
fn trained_models_pass() {
    for algorithm in [Algorithm::Logistic, Algorithm::Gbm] {
        let (model, _) = trained(algorithm);
        check_model(&model).unwrap();
        assert_eq!(decode_model(&encode_model(&model, "m", 1)).unwrap(), model);
    }
}

#[test]
fn logistic_inconsistencies_are_errors() {
    let (model, _) = trained(Algorithm::Logistic);
    let Estimator::Logistic(fit) = &model.estimator else { unreachable!() };
    let mut short = fit.clone();
    short.coefficients.pop();
    assert!(err_of(&LeadModel { estimator: Estimator::Logistic(short), ..model.clone() }).contains("coefficients for"));
    let mut nan = fit.clone();
    nan.coefficients[0] = f64::NAN;
    assert!(err_of(&LeadModel { estimator: Estimator::Logistic(nan), ..model.clone() }).contains("not finite"));
    let mut p = model.preprocessor.clone();
    if let FeatureTransform::Numeric { scaling, .. } = &mut p.features[0] {
        scaling.scale = 0.0;
    }
    assert!(err_of(&LeadModel { preprocessor: p, ..model.clone() }).contains("\"visits\""));
    let means = LeadModel { input_means: vec![0.0], ..model.clone() };
    assert!(err_of(&means).contains("input means"));
    let iso = Calibration::Isotonic { x: vec![0.5, 0.2], y: vec![0.1, 0.2] };
    assert!(err_of(&LeadModel { calibration: iso, ..model.clone() }).contains("strictly increasing"));
    let platt = Calibration::Platt { a: f64::INFINITY, b: 0.0 };
    assert!(err_of(&LeadModel { calibration: platt, ..model.clone() }).contains("Platt"));
    let segments = crate::models::model::Segments { feature: 7, models: vec![] };
    assert!(err_of(&LeadModel { segments: Some(segments), ..model.clone() }).contains("segments by feature 7"));
    let nested = crate::models::model::Segments { feature: 1, models: vec![("Google".into(), model.clone())] };
    let outer = LeadModel { segments: Some(nested), ..model.clone() };
    check_model(&outer).unwrap();
    let twice = crate::models::model::Segments { feature: 1, models: vec![("Google".into(), outer.clone())] };
    assert!(err_of(&LeadModel { segments: Some(twice), ..model }).contains("segments of its own"));
}

#[test]
fn tree_inconsistencies_are_errors() {
    let (model, _) = trained(Algorithm::Gbm);
    let json = booster_json(&model);
    let split = json["trees"][0]["nodes"].as_array().unwrap().iter().position(|n| n["is_leaf"] == false).unwrap();
    let edit = |field: &str, value: Value| {
        let mut j = json.clone();
        j["trees"][0]["nodes"][split][field] = value;
        err_of(&with_booster(&model, &j))
    };
    let nodes = json["trees"][0]["nodes"].as_array().unwrap().len();
    assert!(edit("left_child", Value::from(nodes + 5)).contains("points to node"), "past the end");
    assert!(edit("right_child", Value::from(split)).contains("points to node"), "a cycle");
    assert!(edit("left_child", Value::from(0)).contains("points to node"), "back to the root");
    assert!(edit("split_feature", Value::from(1_000_000)).contains("splits input 1000000"));
    assert!(edit("hessian_sum", Value::from(-1.0)).contains("cover -1"));
    let mut j = json.clone();
    j["trees"][0]["nodes"] = Value::Array(vec![]);
    assert!(err_of(&with_booster(&model, &j)).contains("no nodes"));
}

#[test]
fn a_chain_deeper_than_the_depth_bound_is_an_error() {
    let (model, _) = trained(Algorithm::Gbm);
    let mut json = booster_json(&model);
    let template = json["trees"][0]["nodes"][0].clone();
    // A root-to-leaf chain of 200 splits, each with a leaf beside it: a well-formed tree, too deep.
    let mut nodes = Vec::new();
    for i in 0..200usize {
        let mut split = template.clone();
        (split["num"], split["is_leaf"], split["split_feature"], split["split_value"]) =
            (Value::from(2 * i), Value::from(false), Value::from(0), Value::from(1.0));
        (split["left_child"], split["right_child"], split["missing_node"]) =
            (Value::from(2 * i + 1), Value::from(2 * i + 2), Value::from(2 * i + 1));
        let mut leaf = template.clone();
        (leaf["num"], leaf["is_leaf"]) = (Value::from(2 * i + 1), Value::from(true));
        nodes.extend([split, leaf]);
    }
    let mut last = template.clone();
    (last["num"], last["is_leaf"]) = (Value::from(400), Value::from(true));
    nodes.push(last);
    json["trees"][0]["nodes"] = Value::Array(nodes);
    assert!(err_of(&with_booster(&model, &json)).contains("deeper than 64"));
}

/// The artifact with its body edited by `edit` and the checksum recomputed.
fn reseal(artifact: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = artifact[14..].to_vec();
    edit(&mut body);
    let mut out = artifact[..10].to_vec();
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Scores and explains rows with a decoded model; false if anything panicked or was not finite.
fn scores_safely(model: &LeadModel, data: &TrainingData) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (mut raw, mut scratch) = (Vec::new(), Vec::new());
        for row in 0..40 {
            row_values(&data.columns, row, &mut raw);
            let p = model.probability(&raw, &mut scratch).unwrap();
            assert!((0.0..=1.0).contains(&p), "probability {p}");
            if let Estimator::Gbm(b) = &model.estimator {
                let mut phi = vec![0.0; model.preprocessor.width()];
                let inputs = {
                    let mut x = vec![0.0; model.preprocessor.width()];
                    model.preprocessor.transform_into(&raw, &mut x).unwrap();
                    x
                };
                let base = b.contributions(&inputs, &mut phi);
                assert!(base.is_finite() && phi.iter().all(|v| v.is_finite()));
            }
        }
    }))
    .is_ok()
}

#[test]
fn fuzzed_gbm_artifacts_are_rejected_or_score_safely() {
    let (model, data) = trained(Algorithm::Gbm);
    let artifact = encode_model(&model, "m", 1);
    let digits: Vec<usize> = (14..artifact.len()).filter(|&i| artifact[i].is_ascii_digit()).collect();
    let mut rng = SeededRng::new(21);
    let (mut rejected, mut accepted) = (0, 0);
    for round in 0..3000 {
        let edited = reseal(&artifact, |body| {
            // Mostly numbers changed in place (child indexes, features, weights), sometimes raw bytes.
            for _ in 0..1 + rng.below(3) {
                if round % 4 == 0 {
                    let at = rng.below(body.len());
                    body[at] ^= 1 << rng.below(8);
                } else {
                    let at = digits[rng.below(digits.len())] - 14;
                    body[at] = b'0' + rng.below(10) as u8;
                }
            }
        });
        match decode_model(&edited) {
            Err(e) => {
                assert!(e.message.starts_with("model artifact is corrupt"), "{e}");
                rejected += 1;
            }
            Ok(m) => {
                assert!(scores_safely(&m, &data), "round {round}: a model that passed the checks failed to score");
                accepted += 1;
            }
        }
    }
    // Both outcomes happen: the fuzz reaches the checks and edits that keep a valid model.
    assert!(rejected > 100 && accepted > 100, "rejected {rejected}, accepted {accepted}");
}
