//! Tests of the artifact checks: hand-made inconsistencies of every kind are errors, and a fuzz
//! over gbm artifacts (numbers and bytes edited, checksum recomputed) never yields a model that
//! panics, loops or crashes when it scores or explains.

use super::*;
use crate::data::row_values;
use crate::data::SeededRng;
use crate::data::TrainingData;
use crate::models::artifact::{decode_model, encode_model};
use crate::models::calibration::Calibration;
use crate::models::gbm::{GbmModel, TreeBooster};
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

/// The booster's LightGBM model text, for edits.
fn booster_text(model: &LeadModel) -> String {
    let Estimator::Gbm(b) = &model.estimator else { panic!("a gbm model") };
    b.model_text().to_string()
}

/// Why the model with this booster text is refused: the text does not read, or the check fails.
fn err_with_text(model: &LeadModel, text: String) -> String {
    match GbmModel::from_model_text(text) {
        Err(e) => e,
        Ok(booster) => err_of(&LeadModel { estimator: Estimator::Gbm(booster), ..model.clone() }),
    }
}

/// The text with the first value of `key` in tree 0 set to `value`.
fn edit_first_tree(text: &str, key: &str, value: &str) -> String {
    let tree = text.find("\nTree=0\n").unwrap();
    let at = tree + text[tree..].find(&format!("\n{key}=")).unwrap() + key.len() + 2;
    let end = at + text[at..].find([' ', '\n']).unwrap();
    format!("{}{value}{}", &text[..at], &text[end..])
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
    let text = booster_text(&model);
    let edit = |key: &str, value: &str| err_with_text(&model, edit_first_tree(&text, key, value));
    assert!(edit("left_child", "1000").contains("out of range"), "past the end");
    assert!(edit("right_child", "0").contains("reached twice"), "a cycle back to the root");
    assert!(edit("split_feature", "1000000").contains("splits input 1000000"));
    assert!(edit("leaf_count", "-1").contains("cover -1"));
    assert!(edit("leaf_value", "nan").contains("weight NaN"));
    assert!(edit("num_leaves", "3").contains("values, expected"));
    // A categorical split whose threshold (the index of its category set) names no set.
    assert!(edit("decision_type", "1").contains("category set"));
    assert!(edit("decision_type", "14").contains("missing type 3"));
    assert!(err_with_text(&model, text.replace("objective=binary sigmoid:1", "objective=poisson"))
        .contains("not binary log loss or squared error"));
}

#[test]
fn a_chain_deeper_than_the_depth_bound_is_an_error() {
    let (model, _) = trained(Algorithm::Gbm);
    let text = booster_text(&model);
    // A root-to-leaf chain of 200 splits, each with a leaf beside it: a well-formed tree, too deep.
    let splits = 200usize;
    let list = |f: &dyn Fn(usize) -> String, n: usize| (0..n).map(f).collect::<Vec<_>>().join(" ");
    let chain = format!(
        "Tree=0\nnum_leaves={}\nnum_cat=0\nsplit_feature={}\nthreshold={}\ndecision_type={}\nleft_child={}\nright_child={}\n\
         leaf_value={}\nleaf_count={}\ninternal_count={}\nis_linear=0\nshrinkage=1\n\n\nend of trees",
        splits + 1,
        list(&|_| "0".into(), splits),
        list(&|_| "1".into(), splits),
        list(&|_| "10".into(), splits),
        list(&|i| format!("{}", -(i as i64) - 1), splits),
        list(&|i| if i + 1 < splits { format!("{}", i + 1) } else { format!("{}", -(splits as i64) - 1) }, splits),
        list(&|_| "0.5".into(), splits + 1),
        list(&|_| "1".into(), splits + 1),
        list(&|i| format!("{}", splits + 1 - i), splits),
    );
    let head = &text[..text.find("Tree=0\n").unwrap()];
    assert!(err_with_text(&model, format!("{head}{chain}")).contains("deeper than 64"));
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
