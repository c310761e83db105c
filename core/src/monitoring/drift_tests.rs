//! Unit tests of `drift.rs`.

use super::*;
use crate::data::{CategoricalBuilder, FeatureKind};

fn numeric(name: &str, v: &[Option<f64>]) -> Column {
    Column { name: name.into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(v.to_vec()) }
}

fn text(name: &str, v: &[Option<&str>]) -> Column {
    let mut b = CategoricalBuilder::default();
    v.iter().for_each(|x| b.push(*x));
    Column { name: name.into(), kind: FeatureKind::Categorical, data: b.finish() }
}

#[test]
fn psi_matches_hand_computation() {
    // (0.5-0.4) ln(0.5/0.4) + (0.5-0.6) ln(0.5/0.6)
    let expected = 0.1 * (0.5f64 / 0.4).ln() + -0.1 * (0.5f64 / 0.6).ln();
    assert!((psi(&[0.4, 0.6], &[0.5, 0.5]) - expected).abs() < 1e-12);
    assert_eq!(psi(&[0.3, 0.7], &[0.3, 0.7]), 0.0);
    // An empty bin counts as PSI_EPSILON, so the value is finite.
    let empty = psi(&[0.0, 1.0], &[0.5, 0.5]);
    let by_hand = (0.5 - PSI_EPSILON) * (0.5 / PSI_EPSILON).ln() + (0.5 - 1.0) * (0.5f64).ln();
    assert!((empty - by_hand).abs() < 1e-12, "{empty} vs {by_hand}");
}

#[test]
fn quantile_edges_follow_percentile_disc() {
    let sorted: Vec<f64> = (1..=20).map(f64::from).collect();
    // percentile_disc(0.1) over 1..20 is 2, (0.2) is 4, ...
    assert_eq!(quantile_edges(&sorted, 10), vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]);
    // Ties merge: 70% zeros give one edge at 0.
    let mut ties = vec![0.0; 7];
    ties.extend([1.0, 2.0, 3.0]);
    assert_eq!(quantile_edges(&ties, 10), vec![0.0, 1.0, 2.0]);
    assert!(quantile_edges(&[], 10).is_empty());
    // Any order gives the edges of the sorted values; fewer values than bins too.
    let mut rng = crate::data::SeededRng::new(3);
    for n in [1usize, 3, 9, 10, 11, 1000, 4321] {
        let values: Vec<f64> = (0..n).map(|i| if i % 7 == 0 { -0.0 } else { rng.below(300) as f64 - 100.5 }).collect();
        let mut sorted = values.clone();
        crate::data::sort_floats(&mut sorted);
        let at_ranks: Vec<f64> = {
            let mut e: Vec<f64> = Vec::new();
            for k in 1..10 {
                let v = sorted[((k * n).div_ceil(10)).max(1) - 1];
                if e.last() != Some(&v) {
                    e.push(v);
                }
            }
            e
        };
        let edges = quantile_edges(&values, 10);
        assert_eq!(
            edges.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            at_ranks.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
    assert_eq!(bin_of(0.0, &[0.0, 1.0, 2.0]), 0);
    assert_eq!(bin_of(0.5, &[0.0, 1.0, 2.0]), 1);
    assert_eq!(bin_of(2.0, &[0.0, 1.0, 2.0]), 2);
    assert_eq!(bin_of(9.0, &[0.0, 1.0, 2.0]), 3);
}

#[test]
fn numeric_reference_counts_missing_and_sums_to_one() {
    let mut v: Vec<Option<f64>> = (1..=18).map(|x| Some(f64::from(x))).collect();
    v.extend([None, None]);
    let r = feature_reference(&numeric("x", &v), &(0..20).collect::<Vec<_>>());
    let bins = r.bins.as_ref().unwrap();
    assert!((r.missing_share - 0.1).abs() < 1e-12);
    assert!((bins.shares.iter().sum::<f64>() + r.missing_share - 1.0).abs() < 1e-12);
    assert_eq!(bins.mean, Some(9.5));
    // Same rows again: no drift.
    let (value, _) = feature_drift(&r, &numeric("x", &v)).unwrap();
    assert!(value.abs() < 1e-12);
    // All values shifted up past the last edge: alert.
    let shifted: Vec<Option<f64>> = (0..20).map(|_| Some(100.0)).collect();
    let (value, detail) = feature_drift(&r, &numeric("x", &shifted)).unwrap();
    assert!(value > DEFAULT_ALERT, "{value}");
    assert!(detail.contains("mean 9.5 -> 100"), "{detail}");
    assert!(detail.contains("> 17"), "{detail}");
}

#[test]
fn categorical_drift_names_new_levels() {
    let train = text("source", &[Some("a"), Some("a"), Some("b"), None]);
    let r = feature_reference(&train, &[0, 1, 2, 3]);
    let levels = r.levels.as_ref().unwrap();
    assert_eq!(levels[0], LevelShare { level: "a".into(), share: 0.5 });
    assert!(levels.iter().any(|l| l.level == MISSING_LEVEL && l.share == 0.25));
    let now = text("source", &[Some("a"), Some("c"), Some("b"), Some("c")]);
    let (value, detail) = feature_drift(&r, &now).unwrap();
    assert!(detail.starts_with("new levels: 'c' (50.0%)"), "{detail}");
    // a: 0.5 -> 0.25, b: 0.25 -> 0.25, (missing): 0.25 -> 0, new: 0 -> 0.5
    let by_hand = psi(&[0.5, 0.25, 0.25, 0.0], &[0.25, 0.25, 0.0, 0.5]);
    assert!((value - by_hand).abs() < 1e-12);
}

#[test]
fn a_large_reference_is_built_on_threads_in_column_order() {
    let n = 150_000;
    let x: Vec<Option<f64>> = (0..n).map(|i| (i % 7 != 0).then_some(((i * 31) % 1000) as f64)).collect();
    let c: Vec<Option<&str>> = (0..n).map(|i| Some(["a", "b", "c"][i % 3])).collect();
    let cols = [numeric("x", &x), text("c", &c), numeric("y", &x[..n].iter().rev().copied().collect::<Vec<_>>())];
    let parts: Vec<Part> = (0..n).map(|i| if i % 5 == 0 { Part::Validation } else { Part::Train }).collect();
    let scores: Vec<f64> = (0..n).map(|i| (i % 100) as f64 / 100.0).collect();
    let reference = build_reference(&cols.iter().collect::<Vec<_>>(), &parts, &scores);
    let train: Vec<usize> = (0..n).filter(|&i| parts[i] == Part::Train).collect();
    let expected: Vec<FeatureReference> = cols.iter().map(|c| feature_reference(c, &train)).collect();
    assert_eq!(serde_json::to_value(&reference.features).unwrap(), serde_json::to_value(&expected).unwrap());
}

#[test]
fn report_has_a_row_per_feature_and_the_score() {
    let cols = vec![
        numeric("x", &[Some(1.0), Some(2.0), Some(3.0), Some(4.0)]),
        text("c", &[Some("a"), Some("b"), Some("a"), Some("b")]),
    ];
    let parts = [Part::Train, Part::Train, Part::Validation, Part::Validation];
    let reference = build_reference(&cols.iter().collect::<Vec<_>>(), &parts, &[0.1, 0.2, 0.3, 0.4]);
    assert_eq!(reference.features[0].rows, 2);
    assert_eq!(reference.score_rows, 2);
    let json = serde_json::to_value(&reference).unwrap();
    assert_eq!(serde_json::from_value::<Reference>(json).unwrap(), reference);
    let rows = drift_report(&reference, &cols, &[0.3, 0.4], 0.1, 0.25).unwrap();
    assert_eq!(rows.iter().map(|r| r.feature.as_str()).collect::<Vec<_>>(), vec!["x", "c", SCORE_ROW]);
    assert_eq!(rows[2].psi, 0.0);
    assert_eq!(rows[2].status, Status::Ok);
    assert!(drift_report(&reference, &cols, &[], 0.1, 0.25).is_err());
    assert!(drift_report(&reference, &cols, &[0.3], 0.3, 0.25).is_err());
    assert!(check_thresholds(f64::NAN, 0.25).is_err());
}

#[test]
fn status_thresholds_are_inclusive() {
    assert_eq!(Status::of_psi(0.0999, 0.1, 0.25), Status::Ok);
    assert_eq!(Status::of_psi(0.1, 0.1, 0.25), Status::Warn);
    assert_eq!(Status::of_psi(0.25, 0.1, 0.25), Status::Alert);
    assert!(Status::Alert > Status::Warn && Status::Warn > Status::Ok);
}
