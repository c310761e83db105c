//! Unit tests of `gbm.rs`.

use super::*;
use crate::data::SeededRng;
use crate::evaluation::roc_auc;

/// y depends on an interaction a*b (which a linear model cannot fit) and on missingness of c.
fn data(n: usize, seed: u64) -> GbmData {
    let mut rng = SeededRng::new(seed);
    let u = |rng: &mut SeededRng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let (a, b) = (u(&mut rng), u(&mut rng));
        let c = if u(&mut rng) < 0.3 { f64::NAN } else { u(&mut rng) };
        let z: f64 = if (a > 0.5) == (b > 0.5) { 1.5 } else { -1.5 } + if c.is_nan() { 1.0 } else { 0.0 };
        y.push(u(&mut rng) < 1.0 / (1.0 + (-z).exp()));
        x.extend([a, b, c]);
    }
    GbmData { x, rows: n, cols: 3, y, weights: vec![1.0; n] }
}

#[test]
fn learns_an_interaction_and_missingness() {
    let train = data(3000, 1);
    let test = data(1000, 2);
    let opts = GbmOptions { trees: 100, ..Default::default() };
    let model = fit_gbm(train, Some(data(500, 3)), &opts, &mut |_, _| Ok(())).unwrap();
    let scores: Vec<f64> = test.x.chunks(3).map(|r| model.log_odds(r)).collect();
    let auc = roc_auc(&scores, &test.y).unwrap();
    assert!(auc > 0.8, "AUC {auc}");
    assert!(model.trees() <= 100);
}

#[test]
fn shap_values_add_up_to_the_log_odds() {
    let model = fit_gbm(data(2000, 4), None, &GbmOptions { trees: 40, ..Default::default() }, &mut |_, _| Ok(())).unwrap();
    let probe = data(50, 5);
    let mut out = vec![0.0; 3];
    for row in probe.x.chunks(3) {
        let base = model.contributions(row, &mut out);
        let total = base + out.iter().sum::<f64>();
        assert!((total - model.log_odds(row)).abs() < 1e-9, "{total} vs {}", model.log_odds(row));
    }
}

#[test]
fn our_treeshap_equals_forusts_shapley_values() {
    let model =
        fit_gbm(data(3000, 9), None, &GbmOptions { trees: 60, max_depth: 8, ..Default::default() }, &mut |_, _| Ok(())).unwrap();
    let probe = data(100, 10);
    let mut ours = vec![0.0; 3];
    for row in probe.x.chunks(3) {
        let base = model.contributions(row, &mut ours);
        let reference = model.reference_contributions(row);
        // forust keeps path weights in f32, so agreement is to f32 precision; our f64 values
        // add up to the log-odds exactly (see shap_values_add_up_to_the_log_odds).
        for j in 0..3 {
            assert!((ours[j] - reference[j]).abs() < 1e-5, "feature {j}: {} vs {}", ours[j], reference[j]);
        }
        assert!((base - reference[3]).abs() < 1e-5);
    }
}

#[test]
fn leaf_tables_equal_algorithm_2_on_fitted_trees_with_missing_values() {
    let opts = GbmOptions { trees: 30, max_depth: 8, ..Default::default() };
    let model = fit_gbm(data(3000, 11), None, &opts, &mut |_, _| Ok(())).unwrap();
    let trees = &model.booster.trees[..model.trees()];
    let plan = TreeShapPlan::new(trees);
    assert_eq!(plan.trees_without_tables(), 0);
    let missing = model.booster.missing;
    for row in data(100, 12).x.chunks(3) {
        let (mut fast, mut reference) = (vec![0.0; 3], vec![0.0; 3]);
        plan.contributions(trees, row, &missing, &mut fast);
        plan.path_contributions(trees, row, &missing, &mut reference);
        for j in 0..3 {
            assert!((fast[j] - reference[j]).abs() < 1e-9, "feature {j}: {} vs {}", fast[j], reference[j]);
        }
    }
}

#[test]
fn serializes_through_json_and_predicts_the_same() {
    let model = fit_gbm(data(500, 6), None, &GbmOptions { trees: 10, ..Default::default() }, &mut |_, _| Ok(())).unwrap();
    let json = serde_json::to_string(&model).unwrap();
    let back: ForustModel = serde_json::from_str(&json).unwrap();
    let row = [0.2, 0.9, f64::NAN];
    assert_eq!(model.log_odds(&row), back.log_odds(&row));
}

#[test]
fn cancel_returns_at_once() {
    let err =
        fit_gbm(data(20000, 7), None, &GbmOptions { trees: 2000, ..Default::default() }, &mut |_, _| Err("canceled".into()))
            .unwrap_err();
    assert_eq!((err.kind, err.message.as_str()), (crate::ErrorKind::Canceled, "canceled"));
    // The fit stopped after its current tree (within the second fit_gbm waits for it): no
    // thread of it is left running, though 2,000 trees would take far longer.
    assert!(!crate::models::gbm_stop::abandoned_fit_running());
    // The next fit is not stopped by the flag the cancel set.
    let model = fit_gbm(data(2000, 8), None, &GbmOptions { trees: 20, ..Default::default() }, &mut |_, _| Ok(())).unwrap();
    assert!(model.log_odds(&[0.9, 0.9, f64::NAN]).is_finite());
}

#[test]
fn training_bytes_count_inputs_copies_and_open_leaves() {
    let opts = GbmOptions { max_leaves: 65_536, max_depth: 64, ..Default::default() };
    // 10 rows cannot make more than 10 leaves.
    assert_eq!(gbm_training_bytes(10, 0, 4, &opts), Some(10 * 4 * 18 + 10 * 4 * 256 * 8));
    let shallow = GbmOptions { max_leaves: 65_536, max_depth: 3, ..Default::default() };
    assert_eq!(gbm_training_bytes(1000, 100, 2, &shallow), Some(1000 * 2 * 18 + 100 * 2 * 16 + 8 * 2 * 256 * 8));
    assert_eq!(gbm_training_bytes(usize::MAX, 0, 3, &opts), None);
}

#[test]
fn bad_options_are_rejected() {
    let opts = GbmOptions { trees: 0, ..Default::default() };
    assert_eq!(fit_gbm(data(10, 8), None, &opts, &mut |_, _| Ok(())).unwrap_err().kind, crate::ErrorKind::InvalidArgument);
}
