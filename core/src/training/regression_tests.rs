//! Unit tests of `regression.rs`.

use super::*;
use crate::data::row_values;
use crate::data::SeededRng;
use crate::data::SplitKey;
use crate::data::{CategoricalBuilder, Column, ColumnData, FeatureKind};
use crate::resources::NeverCancel;
use crate::training::options::Algorithm;
use crate::training::parse_train_options;

/// Deals whose value is 2000 + 300 per unit of employee band (0 to 10) + 5000 for Enterprise, plus noise of +-500.
fn deals(n: usize) -> TrainingData {
    let mut rng = SeededRng::new(3);
    let (mut bands, mut values) = (Vec::new(), Vec::new());
    let mut segment = CategoricalBuilder::default();
    for _ in 0..n {
        let band = rng.next_u64() as f64 / u64::MAX as f64 * 10.0;
        let s = ["SMB", "Enterprise"][rng.below(2)];
        let noise = (rng.next_u64() as f64 / u64::MAX as f64 - 0.5) * 1000.0;
        values.push(2000.0 + 300.0 * band + if s == "Enterprise" { 5000.0 } else { 0.0 } + noise);
        bands.push(Some(band));
        segment.push(Some(s));
    }
    TrainingData {
        columns: vec![
            Column { name: "band".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(bands) },
            Column { name: "segment".into(), kind: FeatureKind::Categorical, data: segment.finish() },
        ],
        labels: vec![false; n],
        targets: values,
        split_key: SplitKey::None,
    }
}

fn options(json: serde_json::Value) -> TrainOptions {
    parse_train_options(&json).unwrap()
}

#[test]
fn a_regression_predicts_the_value_in_its_unit() {
    let data = deals(2000);
    let opts = options(serde_json::json!({"task": "regression", "alpha": 0.001}));
    let trained = train_regression(&data, &opts, &NeverCancel).unwrap();
    assert_eq!(trained.model.estimator.algorithm(), "linear");
    let test = &trained.metrics["test"];
    assert!(test["r2"].as_f64().unwrap() > 0.95, "{test}");
    // Uniform noise of width 1000: RMSE 1000 / sqrt(12) = 289, MAE 250.
    assert!((test["rmse"].as_f64().unwrap() - 289.0).abs() < 30.0, "{test}");
    assert!((test["mae"].as_f64().unwrap() - 250.0).abs() < 30.0, "{test}");
    assert!(test["median_label"].as_f64().is_some() && test.get("roc_auc").is_none(), "{test}");
    // Not squashed to a probability: an Enterprise lead in band 9 is worth about 9700.
    let (mut raw, mut scratch) = (Vec::new(), Vec::new());
    let row = (0..2000).find(|&i| data.targets[i] > 9000.0).unwrap();
    row_values(&data.columns, row, &mut raw);
    let predicted = trained.model.probability(&raw, &mut scratch).unwrap();
    assert!((predicted - data.targets[row]).abs() < 600.0, "{predicted} vs {}", data.targets[row]);
    assert_eq!(predicted, trained.predictions[row]);
    // Contributions add up to the prediction, in the label's unit.
    let e = crate::explain::explain(&trained.model, &raw, &mut scratch).unwrap();
    let total = e.base_value + e.features.iter().map(|f| f.contribution).sum::<f64>();
    assert!((total - predicted).abs() < 1e-6, "{total} vs {predicted}");
    // Default value tiers: Gold for the top 10% of validation predictions.
    let names: Vec<&str> = trained.tiers.0.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Gold", "Silver", "Bronze"]);
    let validation: Vec<f64> =
        (0..2000).filter(|&i| trained.parts[i] == Part::Validation).map(|i| trained.predictions[i]).collect();
    let gold = validation.iter().filter(|&&p| trained.tiers.assign(p) == "Gold").count() as f64;
    assert!((gold / validation.len() as f64 - 0.1).abs() < 0.02, "{gold} of {}", validation.len());
}

#[test]
fn amount_tiers_are_kept_as_given() {
    let opts = options(serde_json::json!({"task": "regression", "tiers": {"Gold": 8000, "Silver": 4000, "Bronze": 0}}));
    let trained = train_regression(&deals(500), &opts, &NeverCancel).unwrap();
    assert_eq!(trained.tiers.assign(8000.0), "Gold");
    assert_eq!(trained.tiers.assign(7999.0), "Silver");
}

#[test]
fn what_a_regression_refuses() {
    // 'auto' with a regression is the linear model.
    let mut auto = options(serde_json::json!({"task": "regression"}));
    auto.algorithm = Algorithm::Auto;
    assert_eq!(train_regression(&deals(200), &auto, &NeverCancel).unwrap().model.estimator.algorithm(), "linear");
    for bad in [
        serde_json::json!({"task": "regression", "positive_label": "won"}),
        serde_json::json!({"task": "regression", "outcomes": {"converted": ["won"], "not_converted": ["lost"]}}),
        serde_json::json!({"task": "regression", "engine": "aggregate"}),
        serde_json::json!({"task": "regression", "tiers": {"Gold": 9}, "value_tiers": {"Gold": 0.9}}),
        serde_json::json!({"task": "classification", "value_tiers": {"Gold": 0.9}}),
        serde_json::json!({"task": "ranking"}),
        serde_json::json!({"task": "regression", "value_tiers": {"Gold": 90}}),
    ] {
        assert!(parse_train_options(&bad).is_err(), "{bad}");
    }
    // Probability tiers stay within 0 and 1 for a classification.
    assert!(parse_train_options(&serde_json::json!({"tiers": {"Gold": 8000, "Bronze": 0}})).is_err());
    let mut too_few = options(serde_json::json!({"task": "regression"}));
    too_few.min_class_rows = 1000;
    assert!(train_regression(&deals(200), &too_few, &NeverCancel).is_err());
}

/// Deals worth 3000 below band 5 and 9000 from it (a step no straight line follows), 5000 more for
/// Enterprise, plus noise of +-500.
fn stepped_deals(n: usize) -> TrainingData {
    let mut data = deals(n);
    let ColumnData::Numeric(bands) = &data.columns[0].data else { unreachable!() };
    let bands: Vec<f64> = bands.iter().map(|b| b.unwrap()).collect();
    for (i, v) in data.targets.iter_mut().enumerate() {
        let enterprise = *v - 2000.0 - 300.0 * bands[i] > 2500.0;
        let noise = (*v - 2000.0 - 300.0 * bands[i] - if enterprise { 5000.0 } else { 0.0 }).clamp(-500.0, 500.0);
        *v = if bands[i] < 5.0 { 3000.0 } else { 9000.0 } + if enterprise { 5000.0 } else { 0.0 } + noise;
    }
    data
}

#[test]
fn gbm_regression_grows_trees_of_the_value() {
    let data = stepped_deals(3000);
    let mut opts = options(serde_json::json!({"task": "regression", "trees": 200}));
    opts.algorithm = Algorithm::Gbm;
    let trees = train_regression(&data, &opts, &NeverCancel).unwrap();
    assert_eq!(trees.model.estimator.algorithm(), "gbm");
    assert!(trees.model.is_regression());
    assert!(trees.summary.gbm.is_some() && trees.summary.alpha.is_none());
    let linear = train_regression(&data, &options(serde_json::json!({"task": "regression"})), &NeverCancel).unwrap();
    let rmse = |t: &TrainedModel| t.metrics["test"]["rmse"].as_f64().unwrap();
    // The noise alone gives 289; the line misses the step by far more.
    assert!(rmse(&trees) < 350.0, "gbm test RMSE {}", rmse(&trees));
    assert!(rmse(&linear) > 1.5 * rmse(&trees), "linear {} vs gbm {}", rmse(&linear), rmse(&trees));
    // A value in the label's unit, and TreeSHAP contributions that add up to it.
    let (mut raw, mut scratch) = (Vec::new(), Vec::new());
    row_values(&data.columns, 7, &mut raw);
    let predicted = trees.model.probability(&raw, &mut scratch).unwrap();
    assert!(predicted > 1000.0, "{predicted}");
    let e = crate::explain::explain(&trees.model, &raw, &mut scratch).unwrap();
    let total = e.base_value + e.features.iter().map(|f| f.contribution).sum::<f64>();
    assert!((total - predicted).abs() < 1e-6, "{total} vs {predicted}");
    // The artifact keeps it a regression.
    let decoded = crate::models::decode_model(&crate::models::encode_model(&trees.model, "deals", 1)).unwrap();
    assert!(decoded.is_regression() && decoded.probability(&raw, &mut scratch).unwrap() == predicted);
}
