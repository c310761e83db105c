//! Unit tests of `gbm.rs`.

use super::*;
use crate::data::SeededRng;
use crate::evaluation::roc_auc;
use crate::models::lightgbm_ffi::LgbmDataset;

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
    GbmData { x, rows: n, cols: 3, y, weights: vec![1.0; n], categorical: Vec::new(), targets: None }
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

fn fit(data: GbmData, opts: GbmOptions) -> GbmModel {
    fit_gbm(data, None, &opts, &mut |_, _| Ok(())).unwrap()
}

#[test]
fn our_scores_and_treeshap_equal_lightgbms_own() {
    let model = fit(data(3000, 9), GbmOptions { trees: 60, max_depth: 8, ..Default::default() });
    let lightgbm = crate::models::LgbmBooster::from_model_text(model.model_text()).unwrap();
    let probe = data(200, 10);
    let raw = lightgbm.raw_scores(&probe.x, 3).unwrap();
    let contributions = lightgbm.contributions(&probe.x, 3).unwrap();
    let mut ours = vec![0.0; 3];
    for (i, row) in probe.x.chunks(3).enumerate() {
        assert!((model.log_odds(row) - raw[i]).abs() < 1e-12, "row {i}: {} vs {}", model.log_odds(row), raw[i]);
        let base = model.contributions(row, &mut ours);
        let reference = &contributions[i * 4..i * 4 + 4];
        for j in 0..3 {
            assert!((ours[j] - reference[j]).abs() < 1e-9, "row {i} feature {j}: {} vs {}", ours[j], reference[j]);
        }
        assert!((base - reference[3]).abs() < 1e-9, "base {base} vs {}", reference[3]);
    }
}

#[test]
fn linear_treeshap_equals_algorithm_2_on_fitted_trees_with_missing_values() {
    let model = fit(data(3000, 11), GbmOptions { trees: 30, max_depth: 8, ..Default::default() });
    let trees = model.tree_list();
    let plan = TreeShapPlan::new(trees);
    for row in data(100, 12).x.chunks(3) {
        let (mut fast, mut reference) = (vec![0.0; 3], vec![0.0; 3]);
        plan.contributions(row, &mut fast);
        TreeShapPlan::path_contributions(trees, row, &mut reference);
        for j in 0..3 {
            assert!((fast[j] - reference[j]).abs() < 1e-9, "feature {j}: {} vs {}", fast[j], reference[j]);
        }
    }
}

#[test]
fn early_stopping_keeps_the_trees_up_to_the_best_validation_loss() {
    // Labels are coin flips: validation loss stops improving after a few trees.
    let mut noise = data(3000, 13);
    let mut rng = SeededRng::new(14);
    noise.y.iter_mut().for_each(|y| *y = rng.below(2) == 1);
    let mut valid = data(1000, 15);
    valid.y.iter_mut().for_each(|y| *y = rng.below(2) == 1);
    let opts = GbmOptions { trees: 500, early_stopping_rounds: Some(10), ..Default::default() };
    let mut reported = Vec::new();
    let model = fit_gbm(noise, Some(valid), &opts, &mut |trees, loss| {
        reported.push((trees, loss));
        Ok(())
    })
    .unwrap();
    assert!(model.trees() < 100, "{} trees", model.trees());
    // The fit went on `rounds` trees past the best one, then kept the best.
    let (last_grown, _) = *reported.last().unwrap();
    assert!(last_grown <= model.trees() + 10, "grew {last_grown}, kept {}", model.trees());
    // Without a validation part all trees are grown.
    let all = fit(data(500, 16), GbmOptions { trees: 25, early_stopping_rounds: Some(2), ..Default::default() });
    assert_eq!(all.trees(), 25);
}

#[test]
fn the_same_rows_options_and_seed_give_the_same_model() {
    for threads in [1, 2] {
        let opts = GbmOptions { trees: 30, subsample: 0.7, threads, ..Default::default() };
        let (a, b) = (fit(data(2000, 17), opts), fit(data(2000, 17), opts));
        assert_eq!(a.model_text(), b.model_text(), "threads {threads}");
        let other_seed = fit(data(2000, 17), GbmOptions { seed: 7, ..opts });
        assert_ne!(a.model_text(), other_seed.model_text(), "bagging depends on the seed");
    }
}

#[test]
fn lightgbm_errors_are_clear_errors() {
    let err = fit_gbm(data(200, 18), None, &GbmOptions { max_leaves: 1, ..Default::default() }, &mut |_, _| Ok(())).unwrap_err();
    assert_eq!(err.kind, crate::ErrorKind::FitFailed);
    assert!(err.message.starts_with("LightGBM: ") && err.message.contains("num_leaves"), "{}", err.message);
}

#[test]
fn serializes_through_json_and_predicts_the_same() {
    let model = fit_gbm(data(500, 6), None, &GbmOptions { trees: 10, ..Default::default() }, &mut |_, _| Ok(())).unwrap();
    let json = serde_json::to_string(&model).unwrap();
    let back: GbmModel = serde_json::from_str(&json).unwrap();
    for row in [[0.2, 0.9, f64::NAN], [0.7, 0.1, 0.4]] {
        assert_eq!(model.log_odds(&row), back.log_odds(&row));
    }
    assert_eq!(back, model);
}

#[test]
fn cancel_returns_at_once() {
    let err =
        fit_gbm(data(20000, 7), None, &GbmOptions { trees: 2000, ..Default::default() }, &mut |_, _| Err("canceled".into()))
            .unwrap_err();
    assert_eq!((err.kind, err.message.as_str()), (crate::ErrorKind::Canceled, "canceled"));
    // The fit stopped before its next tree (within the second fit_gbm waits for it): no
    // thread of it is left running, though 2,000 trees would take far longer.
    assert!(!abandoned_fit_running());
    // The next fit is not stopped by the flag the cancel set.
    let model = fit_gbm(data(2000, 8), None, &GbmOptions { trees: 20, ..Default::default() }, &mut |_, _| Ok(())).unwrap();
    assert!(model.log_odds(&[0.9, 0.9, f64::NAN]).is_finite());
}

#[test]
fn training_bytes_count_inputs_copies_and_open_leaves() {
    let opts = GbmOptions { max_leaves: 65_536, max_depth: 64, ..Default::default() };
    // 10 rows cannot make more than 10 leaves.
    assert_eq!(gbm_training_bytes(10, 0, 4, &opts), Some(10 * 4 * 12 + 10 * 16 + 10 * 4 * 256 * 16));
    let shallow = GbmOptions { max_leaves: 65_536, max_depth: 3, ..Default::default() };
    assert_eq!(gbm_training_bytes(1000, 100, 2, &shallow), Some(1100 * 2 * 12 + 1000 * 16 + 8 * 2 * 256 * 16));
    assert_eq!(gbm_training_bytes(usize::MAX, 0, 3, &opts), None);
}

#[test]
fn bad_options_are_rejected() {
    let opts = GbmOptions { trees: 0, ..Default::default() };
    assert_eq!(fit_gbm(data(10, 8), None, &opts, &mut |_, _| Ok(())).unwrap_err().kind, crate::ErrorKind::InvalidArgument);
}

/// `rows` rows of `cols` inputs: the columns of [`data`] repeated with noise, so every input
/// has many distinct values (the slowest to bin).
fn wide(rows: usize, cols: usize, seed: u64) -> GbmData {
    let base = data(rows, seed);
    let mut rng = SeededRng::new(seed + 1);
    let mut x = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for j in 0..cols {
            let v = base.x[r * 3 + j % 3];
            x.push(v + (rng.next_u64() >> 40) as f64 * 1e-9);
        }
    }
    GbmData { x, rows, cols, y: base.y, weights: base.weights, categorical: Vec::new(), targets: None }
}

#[test]
fn a_cancel_stops_the_building_of_a_large_dataset() {
    // 600,000 rows x 40 inputs: LightGBM builds their dataset in about 2 s in one call. Built
    // in parts, the worker stops at the next part: the fit returns soon after the cancel and
    // leaves no thread running.
    let big = wide(600_000, 40, 21);
    let started = std::time::Instant::now();
    let mut asked = None;
    let err = fit_gbm(big, None, &GbmOptions { trees: 10, ..Default::default() }, &mut |_, _| {
        asked.get_or_insert_with(std::time::Instant::now);
        Err("canceled".into())
    })
    .unwrap_err();
    let returned = asked.expect("progress was called").elapsed();
    assert_eq!(err.kind, crate::ErrorKind::Canceled);
    assert!(
        returned < Duration::from_millis(400),
        "returned {returned:?} after the cancel ({:?} after the start)",
        started.elapsed()
    );
    assert!(!abandoned_fit_running());
}

#[test]
fn a_dataset_built_in_parts_grows_the_trees_of_one_built_in_one_call() {
    // 100,000 rows x 40 inputs: LightGBM bins from a sample of 75,000 rows and the rows arrive
    // in 4 parts, with a validation set binned by reference.
    let (train, valid) = (wide(100_000, 40, 31), wide(5_000, 40, 32));
    let opts = GbmOptions { trees: 5, ..Default::default() };
    let params = lightgbm_parameters(&opts, true, train.rows, train.cols, &[], false);
    assert!(params.contains("bin_construct_sample_cnt=75000"), "{params}");
    let grown = |set: LgbmDataset, valid: LgbmDataset| {
        let mut booster = LgbmBooster::new(&set, &params).unwrap();
        booster.add_validation(&valid).unwrap();
        let losses: Vec<f64> = (0..5).map(|_| (booster.grow_one_tree().unwrap(), booster.evaluate(1).unwrap()[0]).1).collect();
        (booster.model_text(0).unwrap(), losses)
    };
    let never = AtomicBool::new(false);
    let _alone = crate::models::lightgbm_ffi::exclusive();
    let in_parts = dataset(&train, &params, None, &never).unwrap();
    let valid_in_parts = dataset(&valid, &params, Some(&in_parts), &never).unwrap();
    let fields = |set: &mut LgbmDataset, d: &GbmData| {
        set.set_field("label", &d.y.iter().map(|&l| l as u8 as f32).collect::<Vec<_>>()).unwrap();
        set.set_field("weight", &d.weights.iter().map(|&w| w as f32).collect::<Vec<_>>()).unwrap();
    };
    let mut at_once = LgbmDataset::from_rows(&train.x, train.rows, train.cols, &params, None).unwrap();
    fields(&mut at_once, &train);
    let mut valid_at_once = LgbmDataset::from_rows(&valid.x, valid.rows, valid.cols, &params, Some(&at_once)).unwrap();
    fields(&mut valid_at_once, &valid);
    let (ours, theirs) = (grown(in_parts, valid_in_parts), grown(at_once, valid_at_once));
    assert_eq!(ours.1, theirs.1, "validation losses");
    if ours.0 != theirs.0 {
        let differ: Vec<(&str, &str)> = ours.0.lines().zip(theirs.0.lines()).filter(|(a, b)| a != b).take(3).collect();
        panic!("the model texts differ: {differ:?}");
    }
}

/// [`data`] plus a text column as codes 0..40 (input 3): the odd codes below 20 convert more.
fn with_categories(n: usize, seed: u64) -> GbmData {
    let base = data(n, seed);
    let mut rng = SeededRng::new(seed + 7);
    let (mut x, mut y) = (Vec::with_capacity(n * 4), Vec::with_capacity(n));
    for r in 0..n {
        let code = (rng.next_u64() % 40) as f64;
        x.extend_from_slice(&base.x[r * 3..r * 3 + 3]);
        x.push(code);
        let lifted = code < 20.0 && code as u64 % 2 == 1;
        y.push(base.y[r] || (lifted && rng.next_u64().is_multiple_of(3)));
    }
    GbmData { x, rows: n, cols: 4, y, weights: vec![1.0; n], categorical: vec![3], targets: None }
}

#[test]
fn categorical_splits_score_and_explain_as_lightgbm_does() {
    let model = fit(with_categories(4000, 41), GbmOptions { trees: 60, max_depth: 8, ..Default::default() });
    let categorical = model.tree_list().iter().flat_map(|t| &t.nodes).filter(|n| n.categories.is_some()).count();
    assert!(categorical >= 10, "{categorical} categorical splits");
    let lightgbm = crate::models::LgbmBooster::from_model_text(model.model_text()).unwrap();
    // Probe codes seen in training, unseen ones (40, 1000), negative and fractional ones, and NaN.
    let mut probe = with_categories(300, 42);
    for (i, code) in [40.0, 1000.0, -1.0, -0.5, 2.5, 3.9, f64::NAN].into_iter().enumerate() {
        probe.x[i * 4 + 3] = code;
    }
    let raw = lightgbm.raw_scores(&probe.x, 4).unwrap();
    let contributions = lightgbm.contributions(&probe.x, 4).unwrap();
    let mut ours = vec![0.0; 4];
    for (i, row) in probe.x.chunks(4).enumerate() {
        assert!((model.log_odds(row) - raw[i]).abs() < 1e-12, "row {i} {row:?}: {} vs {}", model.log_odds(row), raw[i]);
        let base = model.contributions(row, &mut ours);
        let reference = &contributions[i * 5..i * 5 + 5];
        for j in 0..4 {
            assert!((ours[j] - reference[j]).abs() < 1e-9, "row {i} input {j}: {} vs {}", ours[j], reference[j]);
        }
        assert!((base - reference[4]).abs() < 1e-9, "base {base} vs {}", reference[4]);
    }
}

#[test]
fn flat_trees_and_leaf_masks_score_bit_for_bit_as_the_tree_walk() {
    // 31 leaves score by leaf masks; 40 (more than a u32 of leaves) by the flat nodes.
    for (max_leaves, by_masks) in [(31, true), (40, false)] {
        let opts = GbmOptions { trees: 80, max_depth: 10, max_leaves, ..Default::default() };
        let model = fit(with_categories(3000, 51), opts);
        assert_eq!(matches!(model.scoring, Scoring::Masks(_)), by_masks, "{max_leaves} leaves");
        assert_same_sums(&model);
    }
}

fn assert_same_sums(model: &GbmModel) {
    let flat = crate::models::flat_trees::FlatTrees::new(model.tree_list()).expect("LightGBM's trees flatten");
    let masks = crate::models::leaf_masks::LeafMasks::new(model.tree_list());
    let mut probe = with_categories(500, 52);
    // Zeros, tiny numbers, NaN and odd codes, in every input.
    let odd = [0.0, -0.0, 1e-36, -1e-36, f64::NAN, -1.0, 40.0, 2.5];
    for (k, v) in probe.x.iter_mut().enumerate().filter(|(k, _)| k % 3 == 0) {
        *v = odd[k % odd.len()];
    }
    for row in probe.x.chunks(4) {
        let walked = walked_sum(model.tree_list(), row);
        assert_eq!(flat.sum(row).to_bits(), walked.to_bits(), "{row:?}");
        if let Some(masks) = &masks {
            assert_eq!(masks.sum(row).to_bits(), walked.to_bits(), "{row:?}");
        }
        assert_eq!(model.log_odds(row).to_bits(), walked.to_bits());
    }
}

#[test]
fn three_hundred_trees_score_as_lightgbm_does_to_1e_12_relative() {
    // The leaf masks at the size bench/score_speed_gbm.sh trains (300 trees of 31 leaves), on
    // LightGBM's own raw scores: the canonical order of the sum (tree_sum.rs) is LightGBM's.
    let opts = GbmOptions { trees: 300, max_leaves: 31, max_depth: 64, ..Default::default() };
    let model = fit(with_categories(3000, 61), opts);
    assert_eq!(model.trees(), 300);
    assert!(matches!(model.scoring, Scoring::Masks(_)));
    let lightgbm = crate::models::LgbmBooster::from_model_text(model.model_text()).unwrap();
    let probe = with_categories(2000, 62);
    let raw = lightgbm.raw_scores(&probe.x, 4).unwrap();
    for (i, row) in probe.x.chunks(4).enumerate() {
        let ours = model.log_odds(row);
        assert!((ours - raw[i]).abs() <= 1e-12 * raw[i].abs(), "row {i}: {ours} vs LightGBM's {}", raw[i]);
    }
}
