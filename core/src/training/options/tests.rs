//! Unit tests of the options parser.

use super::*;
use crate::data::Resample;
use crate::data::SplitMethod;
use serde_json::{json, Value};

#[test]
fn defaults() {
    let o = parse_train_options(&json!({})).unwrap();
    assert_eq!(o, TrainOptions::default());
    assert_eq!(parse_train_options(&Value::Null).unwrap(), TrainOptions::default());
}

#[test]
fn every_documented_option_parses() {
    let o = parse_train_options(&json!({
        "alpha": 0.5, "class_weight": "balanced", "exclude": ["id"], "max_iter": 50,
        "min_level_count": 5, "missing_values": ["", "N/A"], "positive_label": "won",
        "seed": 7, "split": {"method": "time", "column": "created_at"},
        "tiers": {"A": 0.5, "B": 0}, "tol": 1e-6, "threshold": 0.4, "min_class_rows": 20
    }))
    .unwrap();
    assert_eq!(o.alpha, 0.5);
    assert_eq!(o.class_weight, ClassWeight::Balanced);
    assert_eq!(o.split.seed, 7);
    assert_eq!(o.split.method, SplitMethod::Time { column: "created_at".into() });
    assert_eq!(o.preprocess.min_level_count, 5);
    assert_eq!(o.positive_label.as_deref(), Some("won"));
    assert_eq!(o.threshold, Some(0.4));
    assert_eq!(parse_train_options(&json!({"positive_label": 2})).unwrap().positive_label.as_deref(), Some("2"));
    assert_eq!(parse_train_options(&json!({"class_weight": 3})).unwrap().class_weight, ClassWeight::Positive(3.0));
}

#[test]
fn errors_name_the_key() {
    let cases = [
        (json!({"alhpa": 1}), "\"alhpa\""),
        (json!({"alpha": "big"}), "\"alpha\""),
        (json!({"alpha": -1}), "\"alpha\""),
        (json!({"class_weight": "heavy"}), "\"class_weight\""),
        (json!({"exclude": "id"}), "\"exclude\""),
        (json!({"split": {"method": "time"}}), "needs \"column\""),
        (json!({"split": {"method": "kfold"}}), "\"kfold\""),
        (json!({"split": {"colum": "x"}}), "\"split.colum\""),
        (json!({"split": {"method": "stratified", "column": "part"}}), "takes no \"column\" (got \"part\")"),
        (json!({"split": {"column": "part"}}), "split method \"stratified\" takes no \"column\""),
        (json!({"skip_unchanged": "yes"}), "\"skip_unchanged\" must be true or false"),
        (json!({"segment_tiers": 1, "segment_by": "x"}), "\"segment_tiers\" must be true or false"),
        (json!({"segment_tiers": true}), "\"segment_tiers\" needs option \"segment_by\""),
        (
            json!({"segment_tiers": true, "segment_by": "x", "threshold": 0.4}),
            "cannot be combined with options \"tiers\" or \"threshold\"",
        ),
        (json!({"retrain_on_alert": 1}), "\"retrain_on_alert\" must be true or false"),
        (json!({"deploy": "approve"}), "\"approval\", got \"approve\""),
        (json!({"deploy_margin": 2}), "\"deploy_margin\" must be a number between -1 and 1"),
        (json!({"deploy_test": "delong"}), "\"deploy_test\" must be \"significant\" or \"none\""),
        (json!({"deploy": "approval", "deploy_test": "significant"}), "\"deploy_test\" applies only with"),
        (json!({"deploy": "always", "deploy_margin": 0.01}), "\"deploy_margin\" applies only with"),
        (json!({"threshold": 1.0}), "\"threshold\""),
        (json!({"min_level_count": 0}), "\"min_level_count\""),
        (json!({"tiers": {"hot": 2}}), "\"tiers\""),
        (json!({"calibration": "beta"}), "\"calibration\""),
        (json!({"cv": 1}), "\"cv\""),
        (json!({"search": {"alpha": []}}), "\"search.alpha\""),
        (json!({"search": {"alpha": {"min": 0.1, "max": 10}}}), "needs \"alpha\" as a list"),
        (json!({"search": {"folds": 3}}), "\"search.folds\""),
        (json!({"resample": "oversample"}), "\"oversample\""),
        (json!({"resample": {"method": "smote", "ratio": 2}}), "\"resample.ratio\""),
        (json!([1]), "object"),
        (json!({"max_iter": 1_000_000_000}), "\"max_iter\" must be at most 10000"),
        (json!({"trees": 1_000_000_000}), "\"trees\" must be at most"),
        (json!({"max_depth": 65}), "\"max_depth\" must be at most 64"),
        (json!({"max_leaves": 1_000_000_000}), "\"max_leaves\" must be at most"),
        (json!({"early_stopping_rounds": 1_000_000_000}), "\"early_stopping_rounds\" must be at most"),
        (json!({"resample": {"method": "smote", "k": 100_000}}), "\"resample.k\" must be at most 100"),
        (json!({"search": {"method": "random", "n_iter": 1_000_000}}), "\"search.n_iter\" must be at most"),
        (json!({"search": {"max_depth": [1000]}}), "\"search.max_depth\" must be at most"),
        (
            json!({"search": {"alpha": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "learning_rate": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], "max_leaves": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}}),
            "grid of 1100 combinations",
        ),
        (json!({"max_memory": "lots"}), "\"max_memory\""),
        (json!({"max_levels": 0}), "\"max_levels\""),
    ];
    for (v, needle) in cases {
        let err = parse_train_options(&v).unwrap_err();
        assert!(err.message.contains(needle), "{v}: {err}");
        // Every option error, the unknown key included, is a bad argument (22023).
        assert_eq!(err.kind, crate::ErrorKind::InvalidArgument, "{v}: {err}");
    }
}

#[test]
fn model_selection_options() {
    let o = parse_train_options(&json!({
        "search": {"method": "random", "n_iter": 4, "alpha": {"min": 0.01, "max": 10}, "class_weight": ["none", "balanced"]},
        "resample": {"method": "smote", "k": 3, "ratio": 0.5}
    }))
    .unwrap();
    assert_eq!(o.cv, Some(5), "a search implies 5-fold CV");
    let s = o.search.unwrap();
    assert_eq!(s.random_iterations, Some(4));
    assert_eq!(s.class_weights, vec![ClassWeight::None, ClassWeight::Balanced]);
    assert_eq!(o.resample, Resample::Smote { k: 3, ratio: 0.5 });
    assert_eq!(parse_train_options(&json!({"cv": true})).unwrap().cv, Some(5));
    assert_eq!(parse_train_options(&json!({"cv": 3})).unwrap().cv, Some(3));
}

#[test]
fn booster_options() {
    let o = parse_train_options(&json!({"trees": 200, "learning_rate": 0.1, "max_depth": 4, "max_leaves": 15,
        "min_child_weight": 2, "subsample": 0.8, "l2": 0.5, "early_stopping_rounds": 0, "threads": 2, "min_gain": 0.02}))
    .unwrap();
    assert_eq!((o.gbm.trees, o.gbm.max_depth, o.gbm.max_leaves, o.gbm.threads), (200, 4, 15, 2));
    assert_eq!(o.gbm.early_stopping_rounds, None);
    assert_eq!(o.min_gain, 0.02);
    assert!(parse_train_options(&json!({"subsample": 1.5})).is_err());
    assert!(parse_train_options(&json!({"learning_rate": 0})).is_err());
    assert!(Algorithm::parse("svm").unwrap_err().message.contains("logistic, gbm, auto"));
}

#[test]
fn calibration_defaults_on_when_probabilities_are_distorted() {
    let plain = TrainOptions::default();
    assert_eq!(plain.effective_calibration(), CalibrationChoice::None);
    let weighted = parse_train_options(&json!({"class_weight": "balanced"})).unwrap();
    assert_eq!(weighted.effective_calibration(), CalibrationChoice::Platt);
    let smote = parse_train_options(&json!({"resample": "smote"})).unwrap();
    assert_eq!(smote.effective_calibration(), CalibrationChoice::Platt);
    let forced = parse_train_options(&json!({"class_weight": "balanced", "calibration": "none"})).unwrap();
    assert_eq!(forced.effective_calibration(), CalibrationChoice::None);
}

#[test]
fn balanced_weights_match_scikit_learn() {
    assert_eq!(ClassWeight::Balanced.weights(75, 25), (100.0 / 150.0, 2.0));
    assert_eq!(ClassWeight::Positive(3.0).weights(1, 1), (1.0, 3.0));
}
