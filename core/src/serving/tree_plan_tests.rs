//! Unit tests of `tree_plan.rs`: a boosted model with every kind of feature the plan takes,
//! scored through the plan and through `LeadModel::probability` on every kind of raw value.

use super::*;
use crate::data::{FeatureKind, Preprocessor, SeededRng, MISSING_LEVEL};
use crate::models::{fit_gbm, Calibration, GbmData, GbmOptions};
use crate::serving::ScoringPlan;

fn number(name: &str, log: bool, median: f64, mean: f64, scale: f64) -> FeatureTransform {
    FeatureTransform::Numeric { name: name.into(), log, scaling: Scaling { median, mean, scale, indicator: false } }
}

fn codes(name: &str, levels: &[&str]) -> FeatureTransform {
    let levels = levels.iter().map(|l| l.to_string()).collect();
    FeatureTransform::TextCodes { name: name.into(), kind: FeatureKind::Categorical, levels }
}

/// Raw values of every kind for a number: NULL, placeholders, numbers as text, numbers.
const NUMBERS: [RawValue<'static>; 9] = [
    RawValue::Null,
    RawValue::Text("Select"),
    RawValue::Text(""),
    RawValue::Text(" 2.5 "),
    RawValue::Number(0.0),
    RawValue::Number(-3.25),
    RawValue::Number(1.0),
    RawValue::Number(7.5),
    RawValue::Number(40.0),
];

/// And for text: levels, placeholders, "(missing)" itself, unseen text, numbers.
const TEXTS: [RawValue<'static>; 11] = [
    RawValue::Null,
    RawValue::Text("Google"),
    RawValue::Text("Olark Chat"),
    RawValue::Text("a level longer than sixteen bytes"),
    RawValue::Text("2"),
    RawValue::Text("Select"),
    RawValue::Text(""),
    RawValue::Text(MISSING_LEVEL),
    RawValue::Text("never seen"),
    RawValue::Number(2.0),
    RawValue::Number(2.5),
];

/// A preprocessor of two numbers (one log-scaled), three text columns, and a number and a text
/// column that hold one value only (no split reads them), and a gbm model on its inputs.
fn model(impute_numeric: bool) -> LeadModel {
    let levels = ["Google", "2", MISSING_LEVEL, "Olark Chat", "a level longer than sixteen bytes"];
    let preprocessor = Preprocessor {
        features: vec![
            number("visits", false, 2.0, 2.5, 1.5),
            codes("source", &levels),
            number("minutes", true, 0.5, 0.6, 0.3),
            codes("country", &["2", "Google"]),
            number("constant", false, 1.0, 1.0, 1.0),
            codes("unread", &["x"]),
            codes("city", &levels[..4]),
        ],
        missing_values: vec!["".into(), "Select".into()],
        impute_numeric,
        interactions: Vec::new(),
        level_index: Default::default(),
    };
    let mut rng = SeededRng::new(if impute_numeric { 5 } else { 6 });
    let (rows, cols) = (4000, preprocessor.width());
    let (mut x, mut y, mut inputs) = (Vec::new(), Vec::new(), vec![0.0; cols]);
    for _ in 0..rows {
        let raw: Vec<RawValue<'_>> = (0..cols)
            .map(|i| match i {
                4 => RawValue::Number(1.0),
                5 => RawValue::Text("x"),
                0 | 2 => NUMBERS[rng.below(NUMBERS.len())],
                _ => TEXTS[rng.below(TEXTS.len() - 2)],
            })
            .collect();
        preprocessor.transform_into(&raw, &mut inputs).unwrap();
        let z = inputs[0] + if inputs[1] == 1.0 { 1.0 } else { -0.5 } + inputs[2].min(1.0) - inputs[3] * 0.3;
        y.push(rng.below(1000) as f64 / 1000.0 < 1.0 / (1.0 + (-z).exp()));
        x.extend_from_slice(&inputs);
    }
    let data = GbmData { x, rows, cols, y, weights: vec![1.0; rows], categorical: vec![1, 3, 5, 6], targets: None };
    let opts = GbmOptions { trees: 60, max_leaves: 31, max_depth: 10, ..Default::default() };
    let gbm = fit_gbm(data, None, &opts, &mut |_, _| Ok(())).unwrap();
    LeadModel {
        preprocessor,
        estimator: Estimator::Gbm(gbm),
        calibration: Calibration::Platt { a: -1.1, b: 0.2 },
        input_means: vec![0.0; cols],
        segments: None,
    }
}

#[test]
fn same_probability_to_the_last_bit_for_every_kind_of_value() {
    for impute_numeric in [false, true] {
        let m = model(impute_numeric);
        let plan = ScoringPlan::new(&m).expect("a plan");
        assert!(matches!(plan, ScoringPlan::Trees(_)));
        let Estimator::Gbm(gbm) = &m.estimator else { unreachable!() };
        // The constant columns are not read by any split; the rest are.
        assert_eq!(gbm.leaf_masks().unwrap().used_inputs().collect::<Vec<_>>(), vec![0, 1, 2, 3, 6]);
        let mut scratch = Vec::new();
        let mut rng = SeededRng::new(7);
        let bad = [RawValue::Number(f64::NAN), RawValue::Text("many"), RawValue::Number(f64::INFINITY)];
        for lead in 0..5000 {
            let mut raw: Vec<RawValue<'_>> = (0..7)
                .map(|i| match i {
                    0 | 2 | 4 => NUMBERS[rng.below(NUMBERS.len())],
                    _ => TEXTS[rng.below(TEXTS.len())],
                })
                .collect();
            if lead % 50 == 0 {
                // A value no number can be, in a read number or in the unread one.
                raw[[0, 2, 4][rng.below(3)]] = bad[rng.below(bad.len())];
            }
            let slow = m.probability(&raw, &mut scratch);
            let fast = plan.probability(&m, &raw);
            match (slow, fast) {
                (Ok(slow), Ok(fast)) => assert_eq!(slow.to_bits(), fast.to_bits(), "{raw:?}: {slow} vs {fast}"),
                (Err(slow), Err(fast)) => assert_eq!(slow.message, fast.message),
                (slow, fast) => panic!("{raw:?}: {slow:?} vs {fast:?}"),
            }
        }
    }
}

/// A columnar table of `rows` random leads for `model(_)`'s features: numbers (or NULL) in
/// numeric columns, texts of every kind (or NULL) dictionary-encoded.
fn columns(rows: usize, seed: u64) -> Vec<Column> {
    let mut rng = SeededRng::new(seed);
    let text_values: Vec<Option<&str>> = TEXTS
        .iter()
        .filter_map(|v| match v {
            RawValue::Text(s) => Some(Some(*s)),
            RawValue::Null => Some(None),
            RawValue::Number(_) => None,
        })
        .collect();
    (0..7)
        .map(|i| {
            let data = if [0, 2, 4].contains(&i) {
                let numbers = NUMBERS.iter().filter_map(|v| match v {
                    RawValue::Number(x) => Some(Some(*x)),
                    RawValue::Null => Some(None),
                    RawValue::Text(_) => None,
                });
                let numbers: Vec<Option<f64>> = numbers.collect();
                ColumnData::Numeric((0..rows).map(|_| numbers[rng.below(numbers.len())]).collect())
            } else {
                let mut b = crate::data::CategoricalBuilder::default();
                (0..rows).for_each(|_| b.push(text_values[rng.below(text_values.len())]));
                b.finish()
            };
            Column { name: format!("c{i}"), kind: FeatureKind::Categorical, data }
        })
        .collect()
}

#[test]
fn rows_of_columns_score_as_each_row_alone() {
    for impute_numeric in [false, true] {
        let m = model(impute_numeric);
        let plan = TreePlan::new(&m).expect("a plan");
        let table = columns(3000, 11);
        let rows: Vec<usize> = (0..3000).rev().step_by(3).collect();
        let mut log_odds = vec![0.5];
        plan.log_odds_of_rows(&m, &table, &rows, &mut log_odds).unwrap();
        // Appended after what `out` held.
        assert_eq!((log_odds.len(), log_odds[0]), (rows.len() + 1, 0.5));
        let mut raw = Vec::new();
        for (&r, z) in rows.iter().zip(&log_odds[1..]) {
            crate::data::row_values(&table, r, &mut raw);
            let alone = plan.log_odds_of(&m, |i| raw[i]).unwrap();
            assert_eq!(z.to_bits(), alone.to_bits(), "row {r}: {raw:?}");
        }
    }
}

#[test]
fn rows_of_columns_fail_on_the_first_value_that_cannot_be_read() {
    let m = model(false);
    let plan = TreePlan::new(&m).expect("a plan");
    let mut table = columns(100, 12);
    let ColumnData::Numeric(minutes) = &mut table[2].data else { unreachable!() };
    minutes[40] = Some(f64::INFINITY);
    let mut raw = Vec::new();
    crate::data::row_values(&table, 40, &mut raw);
    let alone = plan.log_odds_of(&m, |i| raw[i]).unwrap_err();
    let mut out = Vec::new();
    let rows: Vec<usize> = (0..100).collect();
    let err = plan.log_odds_of_rows(&m, &table, &rows, &mut out).unwrap_err();
    assert_eq!(err.message, alone.message);
    assert!(err.message.contains("minutes"), "{}", err.message);
}

#[test]
fn a_text_feature_no_split_reads_is_never_read_from_the_row() {
    let m = model(false);
    let plan = TreePlan::new(&m).expect("a plan");
    // Feature 5 ("unread") holds one value; no split reads it.
    let raw = [NUMBERS[5], TEXTS[1], NUMBERS[7], TEXTS[2], RawValue::Number(1.0), RawValue::Text("x"), TEXTS[3]];
    let read = std::cell::RefCell::new(Vec::new());
    let z = plan
        .log_odds_of(&m, |i| {
            read.borrow_mut().push(i);
            raw[i]
        })
        .unwrap();
    assert_eq!(*read.borrow(), vec![0, 1, 2, 3, 4, 6]);
    let mut scratch = Vec::new();
    assert_eq!(m.probability_from_log_odds(z).to_bits(), m.probability(&raw, &mut scratch).unwrap().to_bits());
}
