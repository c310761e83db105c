//! Unit tests of `pipeline.rs`.

use super::*;
use crate::data::row_values;
use crate::data::SeededRng;
use crate::data::SplitKey;
use crate::data::{CategoricalBuilder, Column, ColumnData, FeatureKind};
use crate::evaluation::roc_auc;
use crate::training::fit::SCORE_CHUNK;

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
        targets: Vec::new(),
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
        targets: Vec::new(),
        split_key: SplitKey::None,
    };
    let mut data = data;
    let before = train_model(&reversed, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
    assert_ne!(
        before.metrics,
        train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap().metrics,
        "row order changes a random split"
    );
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
    // Logistic through the design matrix; boosted trees from the columns to their bins.
    let mut gbm = TrainOptions { algorithm: Algorithm::Gbm, ..TrainOptions::default() };
    gbm.gbm.trees = 40;
    for opts in [TrainOptions::default(), gbm] {
        let out = train_model(&data, &opts, &mut |_, _| Ok(())).unwrap();
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
        targets: Vec::new(),
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
    let mut opts = TrainOptions {
        max_memory: crate::resources::MemoryLimit { bytes: 4 << 20, origin: crate::resources::LimitOrigin::Option },
        ..TrainOptions::default()
    };
    let err = train_model(&data, &opts, &mut |_, _| Ok(())).err().unwrap();
    assert_eq!(err.kind, crate::ErrorKind::MemoryLimit, "{err}");
    let err = err.message;
    // 1,000 kept levels: the Newton system of about 1,000 inputs is past 4 MB.
    assert!(err.contains("Newton system") && err.contains("options.max_memory") && err.contains("\"company\" 1001"), "{err}");
    assert!(err.contains("options.max_levels"), "{err}");
    // Trees read "company" as one input of codes: their memory is the histograms of up to
    // 4,096 leaves open at once.
    opts.algorithm = Algorithm::Gbm;
    (opts.gbm.max_leaves, opts.gbm.max_depth) = (4096, 64);
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

/// A cancel source that says stop from its `after`-th question on, counting the questions.
struct StopAfter {
    after: usize,
    asked: std::sync::atomic::AtomicUsize,
}

impl crate::resources::Cancel for StopAfter {
    fn requested(&self) -> bool {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= self.after
    }
}

#[test]
fn cancel_between_folds_and_candidates_stops_training() {
    let data = synthetic(1000, 3);
    let search = crate::training::parse_train_options(&serde_json::json!({"cv": 5, "search": {"alpha": [0.1, 1, 10]}})).unwrap();
    // Never stopping, the search asks once per candidate and fold, then between phases.
    let never = StopAfter { after: usize::MAX, asked: Default::default() };
    train_model_with(&data, &search, None, &mut |_, _| Ok(()), &never).unwrap();
    let questions = never.asked.load(std::sync::atomic::Ordering::Relaxed);
    assert!(questions >= 3 * 5 + 3, "asked {questions} times");
    // Stopping at any of those questions (the first fold, a later candidate, the last phase).
    for after in [0, 7, questions - 1] {
        let cancel = StopAfter { after, asked: Default::default() };
        let err = train_model_with(&data, &search, None, &mut |_, _| Ok(()), &cancel).err().unwrap();
        assert_eq!(err.kind, crate::ErrorKind::Canceled, "stop at question {after}: {err}");
        assert_eq!(cancel.asked.load(std::sync::atomic::Ordering::Relaxed), after + 1, "no work after the stop");
    }
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

#[test]
fn gbm_reads_a_text_column_as_one_input_of_codes_and_explains_it_once() {
    // 300 companies: the trees split on their codes.
    let data = many_companies(20_000, 300);
    let opts = TrainOptions { algorithm: Algorithm::Gbm, ..TrainOptions::default() };
    let out = train_model(&data, &opts, &mut |_, _| Ok(())).unwrap();
    let p = &out.model.preprocessor;
    assert!(matches!(&p.features[0], crate::data::FeatureTransform::TextCodes { levels, .. } if levels.len() == 300));
    assert_eq!((p.width(), p.code_inputs()), (2, vec![0]));
    let crate::models::Estimator::Gbm(trees) = &out.model.estimator else { panic!("a gbm model") };
    assert!(trees.tree_list().iter().flat_map(|t| &t.nodes).any(|n| n.categories.is_some()));
    // One contribution per source column; with the base they add up to the log-odds.
    let (mut raw, mut scratch) = (Vec::new(), Vec::new());
    row_values(&data.columns, 7, &mut raw);
    let e = crate::explain::explain(&out.model, &raw, &mut scratch).unwrap();
    assert_eq!(e.features.iter().map(|f| f.feature.as_str()).collect::<Vec<_>>(), ["company", "n"]);
    assert_eq!(e.features[0].condition, "company = company 7");
    let total = e.base_value + e.features.iter().map(|f| f.contribution).sum::<f64>();
    assert!((total - e.log_odds).abs() < 1e-9, "{total} vs {}", e.log_odds);
    // A company never seen in training scores as the "(other)" code, as at training.
    let unseen = [crate::data::RawValue::Text("company 99999"), crate::data::RawValue::Number(3.0)];
    let other = [crate::data::RawValue::Text("company 299"), crate::data::RawValue::Number(3.0)];
    assert!(out.model.probability(&unseen, &mut scratch).unwrap().is_finite());
    assert_eq!(p.code_inputs().len(), 1);
    let mut inputs = vec![0.0; 2];
    p.transform_into(&unseen, &mut inputs).unwrap();
    assert_eq!(inputs[0], 300.0);
    p.transform_into(&other, &mut inputs).unwrap();
    assert!(inputs[0] < 300.0);
}

#[test]
fn a_model_of_many_trees_explains_fewer_validation_leads_for_its_importance() {
    // 30,000 leads: 3,000 validation leads, more than any cap below.
    let data = synthetic(30_000, 9);
    let mut opts = TrainOptions { algorithm: Algorithm::Gbm, ..Default::default() };
    (opts.gbm.trees, opts.gbm.early_stopping_rounds, opts.gbm.max_leaves) = (400, None, 4);
    let trained = train_model(&data, &opts, &mut |_, _| Ok(())).unwrap();
    assert_eq!(trained.model.estimator.algorithm(), "gbm");
    assert_eq!(importance_rows(&trained.model), 500, "200,000 lead-trees / 400 trees, at least 500");
    let validation: Vec<usize> = (0..data.labels.len()).filter(|&i| trained.parts[i] == Part::Validation).collect();
    assert!(validation.len() > 2000, "{}", validation.len());
    let on_500 = crate::explain::feature_importance(&trained.model, &data.columns, &validation, 500).unwrap();
    assert_eq!(trained.importance, on_500, "the stored importance is that of the 500-row sample");
    // A logistic model is cheap to explain: the full 2,000 rows.
    let logistic = train_model(&data, &TrainOptions::default(), &mut |_, _| Ok(())).unwrap();
    assert_eq!(importance_rows(&logistic.model), 2000);
}

#[test]
fn parts_measured_on_threads_equal_each_part_measured_alone() {
    let mut rng = crate::data::SeededRng::new(21);
    // Enough rows for worker threads; ties and a part without positives included.
    let parts: Vec<(Vec<f64>, Vec<bool>)> = [(90_000, true), (15_000, true), (20_000, false)]
        .iter()
        .map(|&(n, with_positives)| {
            let s: Vec<f64> = (0..n).map(|_| rng.below(5000) as f64 / 5000.0).collect();
            let l = s.iter().map(|&p| with_positives && (rng.below(1000) as f64) < 1000.0 * p).collect();
            (s, l)
        })
        .collect();
    let measured = super::measure_parts(&parts, 0.4).unwrap();
    assert_eq!(measured.len(), 3);
    for ((s, l), (m, ece)) in parts.iter().zip(measured) {
        let alone = crate::evaluation::part_metrics(s, l, 0.4);
        assert_eq!(serde_json::to_string(&m).unwrap(), serde_json::to_string(&alone).unwrap());
        assert_eq!(ece.to_bits(), crate::models::expected_calibration_error(s, l, crate::models::ECE_BINS).to_bits());
    }
}
