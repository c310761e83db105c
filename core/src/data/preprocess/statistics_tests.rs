//! The preprocessing from statistics equals the one fitted on the rows they summarize.

use super::*;
use crate::data::preprocess::fit_preprocessor_reporting;
use crate::data::values::{CategoricalBuilder, ColumnData};

fn numbers(values: &[Option<f64>]) -> Column {
    Column { name: "visits".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(values.to_vec()) }
}

fn texts(values: &[Option<&str>]) -> Column {
    let mut b = CategoricalBuilder::default();
    values.iter().for_each(|v| b.push(*v));
    Column { name: "source".into(), kind: FeatureKind::Categorical, data: b.finish() }
}

/// The statistics an aggregate over `rows` of a number would give.
fn numeric_statistics(values: &[Option<f64>], log: bool) -> ColumnStatistics {
    let mut present: Vec<f64> = values.iter().flatten().map(|&x| if log { crate::data::signed_log1p(x) } else { x }).collect();
    present.sort_by(f64::total_cmp);
    let m = present.len();
    let median = if m % 2 == 1 { present[m / 2] } else { (present[m / 2 - 1] + present[m / 2]) / 2.0 };
    let moments = NumericMoments { rows: values.len(), present: m, median, sum: present.iter().sum() };
    let mean = moments.mean();
    ColumnStatistics::Numeric { moments, squared_deviations: present.iter().map(|x| (x - mean).powi(2)).sum() }
}

#[test]
fn numbers_from_moments_equal_the_fit_on_rows() {
    let values = [Some(1.0), None, Some(3.0), Some(5.0), Some(12.5), None];
    for log in [false, true] {
        let opts = PreprocessOptions { log_columns: if log { vec!["visits".into()] } else { vec![] }, ..Default::default() };
        let rows: Vec<usize> = (0..values.len()).collect();
        let fitted = fit_preprocessor_reporting(&[numbers(&values)], &rows, &opts).unwrap();
        let from = preprocessor_from_statistics(&[numbers(&[])], &[numeric_statistics(&values, log)], &opts).unwrap();
        assert_eq!(fitted, from, "log {log}");
    }
}

#[test]
fn levels_from_counts_equal_the_fit_on_rows() {
    let values = [Some("web"), Some("ad"), Some("web"), None, Some("Select"), Some("ad"), Some("fair"), Some("web")];
    let opts = PreprocessOptions { min_level_count: 2, max_levels: 2, ..Default::default() };
    let rows: Vec<usize> = (0..values.len()).collect();
    let fitted = fit_preprocessor_reporting(&[texts(&values)], &rows, &opts).unwrap();
    // "Select" is a placeholder: missing, with the NULL.
    let counts = vec![("ad".to_string(), 2), ("fair".to_string(), 1), ("web".to_string(), 3)];
    let stats = ColumnStatistics::Text { counts, missing: 2 };
    let from = preprocessor_from_statistics(&[texts(&[])], &[stats], &opts).unwrap();
    assert_eq!(fitted, from);
    // Three levels reach min_level_count (web, ad, (missing)); max_levels kept two.
    assert_eq!(from.1.len(), 1);
    match &from.0.features[0] {
        FeatureTransform::Categorical { levels, .. } => assert_eq!(levels, &["web", "(missing)"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_column_without_values_or_with_nan_is_refused() {
    let opts = PreprocessOptions::default();
    let empty = ColumnStatistics::Numeric {
        moments: NumericMoments { rows: 3, present: 0, median: f64::NAN, sum: 0.0 },
        squared_deviations: 0.0,
    };
    let err = preprocessor_from_statistics(&[numbers(&[])], &[empty], &opts).unwrap_err();
    assert!(err.message.contains("NULL in every training row"), "{err}");
    let nan = ColumnStatistics::Numeric {
        moments: NumericMoments { rows: 3, present: 3, median: 1.0, sum: f64::NAN },
        squared_deviations: f64::NAN,
    };
    let err = preprocessor_from_statistics(&[numbers(&[])], &[nan], &opts).unwrap_err();
    assert!(err.message.contains("NaN"), "{err}");
}
