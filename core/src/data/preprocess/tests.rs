//! Unit tests of the fitted preprocessing.

use super::fit::PARALLEL_ROWS;
use super::preprocessor::TRANSFORM_CHUNK;
use super::*;
use crate::data::values::{CategoricalBuilder, Column, ColumnData, FeatureKind, RawValue};

fn numeric(name: &str, v: Vec<Option<f64>>) -> Column {
    Column { name: name.into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(v) }
}

fn text(name: &str, v: &[Option<&str>]) -> Column {
    let mut b = CategoricalBuilder::default();
    v.iter().for_each(|x| b.push(*x));
    Column { name: name.into(), kind: FeatureKind::Categorical, data: b.finish() }
}

#[test]
fn numeric_imputes_the_training_median_and_scales() {
    // Rows 0..4 train, row 4 is validation with an extreme value that must not leak into the fit.
    let col = numeric("visits", vec![Some(1.0), None, Some(3.0), Some(5.0), Some(1000.0)]);
    let p = fit_preprocessor(&[col], &[0, 1, 2, 3], &PreprocessOptions::default()).unwrap();
    match &p.features[0] {
        FeatureTransform::Numeric { scaling: Scaling { median, mean, scale, indicator }, log: false, .. } => {
            assert_eq!(*median, 3.0);
            assert_eq!(*mean, 3.0); // 1, 3 (imputed), 3, 5
            assert!((scale - 2.0f64.sqrt()).abs() < 1e-12);
            assert!(indicator);
        }
        other => panic!("{other:?}"),
    }
    let mut out = vec![0.0; p.width()];
    p.transform_into(&[RawValue::Null], &mut out).unwrap();
    assert_eq!(out, vec![0.0, 1.0]);
    p.transform_into(&[RawValue::Number(5.0)], &mut out).unwrap();
    assert!((out[0] - 2.0 / 2.0f64.sqrt()).abs() < 1e-12 && out[1] == 0.0);
    let err = p.transform_into(&[RawValue::Number(f64::NAN)], &mut out).unwrap_err();
    assert!(err.message.contains("NaN"), "{err}");
}

#[test]
fn rare_and_unseen_levels_go_to_other_and_placeholders_are_missing() {
    let mut values: Vec<Option<&str>> = vec![Some("Google"); 12];
    values.extend([Some("Reference"); 3]);
    values.extend([Some("Select"); 10]);
    values.push(None);
    let col = text("source", &values);
    let rows: Vec<usize> = (0..values.len()).collect();
    let p = fit_preprocessor(&[col], &rows, &PreprocessOptions::default()).unwrap();
    assert_eq!(p.output_names(), vec!["source = Google", "source = (missing)", "source = (other)"]);
    let mut out = vec![0.0; 3];
    p.transform_into(&[RawValue::Text("Reference")], &mut out).unwrap();
    assert_eq!(out, vec![0.0, 0.0, 1.0]);
    p.transform_into(&[RawValue::Text("never seen")], &mut out).unwrap();
    assert_eq!(out, vec![0.0, 0.0, 1.0]);
    p.transform_into(&[RawValue::Text("Select")], &mut out).unwrap();
    assert_eq!(out, vec![0.0, 1.0, 0.0]);
    p.transform_into(&[RawValue::Null], &mut out).unwrap();
    assert_eq!(out, vec![0.0, 1.0, 0.0]);
}

#[test]
fn levels_are_fitted_on_training_rows_only() {
    let mut values: Vec<Option<&str>> = vec![Some("a"); 10];
    values.extend([Some("b"); 10]);
    let col = text("c", &values);
    let train: Vec<usize> = (0..10).collect();
    let p = fit_preprocessor(&[col], &train, &PreprocessOptions::default()).unwrap();
    assert_eq!(p.output_names(), vec!["c = a", "c = (other)"]);
}

#[test]
fn native_missing_mode_keeps_nan_and_adds_no_indicator() {
    let col = numeric("visits", vec![Some(1.0), None, Some(3.0)]);
    let opts = PreprocessOptions { impute_numeric: false, ..Default::default() };
    let p = fit_preprocessor(&[col], &[0, 1, 2], &opts).unwrap();
    assert_eq!(p.width(), 1);
    let mut out = vec![0.0];
    p.transform_into(&[RawValue::Null], &mut out).unwrap();
    assert!(out[0].is_nan());
}

#[test]
fn all_null_numeric_feature_is_an_error() {
    let col = numeric("x", vec![None, None]);
    let err = fit_preprocessor(&[col], &[0, 1], &PreprocessOptions::default()).unwrap_err();
    assert!(err.message.contains("\"x\""));
    assert_eq!(err.kind, crate::ErrorKind::InsufficientData);
}

#[test]
fn transform_rows_builds_the_design_matrix() {
    let cols = vec![numeric("x", vec![Some(0.0), Some(2.0)]), text("t", &[Some("u"), Some("v")])];
    let opts = PreprocessOptions { min_level_count: 1, ..Default::default() };
    let p = fit_preprocessor(&cols, &[0, 1], &opts).unwrap();
    let x = p.transform_rows_dense(&cols, &[1, 0]).unwrap();
    assert_eq!(x.shape(), &[2, 4]);
    assert_eq!(x.row(0).to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
    assert_eq!(x.row(1).to_vec(), vec![-1.0, 1.0, 0.0, 0.0]);
}

#[test]
fn numbers_match_text_levels_as_postgres_prints_them() {
    let cols = vec![text("n", &[Some("15"); 10])];
    let p = fit_preprocessor(&cols, &(0..10).collect::<Vec<_>>(), &PreprocessOptions::default()).unwrap();
    let mut out = vec![0.0; 2];
    p.transform_into(&[RawValue::Number(15.0)], &mut out).unwrap();
    assert_eq!(out, vec![1.0, 0.0]);
}

fn date(name: &str, v: &[Option<&str>]) -> Column {
    let epochs = v.iter().map(|s| s.map(|s| crate::data::dates::parse_timestamp(s).unwrap())).collect();
    Column { name: name.into(), kind: FeatureKind::Date, data: ColumnData::Numeric(epochs) }
}

#[test]
fn log_scaling_is_fitted_on_the_logged_values() {
    let col = numeric("revenue", vec![Some(0.0), Some((1f64).exp_m1()), Some((2f64).exp_m1()), Some(-(1f64).exp_m1())]);
    let opts = PreprocessOptions { log_columns: vec!["revenue".into()], ..Default::default() };
    let p = fit_preprocessor(&[col], &[0, 1, 2, 3], &opts).unwrap();
    let FeatureTransform::Numeric { log: true, scaling, .. } = &p.features[0] else { panic!("{:?}", p.features[0]) };
    // ln(1+x) of 0, e-1, e²-1 and -(e-1) is 0, 1, 2, -1: mean 0.5.
    assert!((scaling.mean - 0.5).abs() < 1e-12, "{scaling:?}");
    assert_eq!(p.output_names(), vec!["log revenue"]);
    let mut out = vec![0.0];
    p.transform_into(&[RawValue::Number((2f64).exp_m1())], &mut out).unwrap();
    assert!((out[0] - (2.0 - 0.5) / scaling.scale).abs() < 1e-12);
}

#[test]
fn quantile_bins_are_one_hot_with_a_missing_bin() {
    let mut v: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i))).collect();
    v.push(None);
    let opts = PreprocessOptions { bins: vec![("employees".into(), 4)], ..Default::default() };
    let p = fit_preprocessor(&[numeric("employees", v)], &(0..101).collect::<Vec<_>>(), &opts).unwrap();
    assert_eq!(
        p.output_names(),
        vec!["employees < 25", "employees 25 to < 50", "employees 50 to < 75", "employees >= 75", "employees (missing)"]
    );
    let mut out = vec![0.0; 5];
    p.transform_into(&[RawValue::Number(60.0)], &mut out).unwrap();
    assert_eq!(out, vec![0.0, 0.0, 1.0, 0.0, 0.0]);
    p.transform_into(&[RawValue::Null], &mut out).unwrap();
    assert_eq!(out, vec![0.0, 0.0, 0.0, 0.0, 1.0]);
    p.transform_into(&[RawValue::Text("1e6")], &mut out).unwrap();
    assert_eq!(out, vec![0.0, 0.0, 0.0, 1.0, 0.0]);
}

#[test]
fn dates_become_days_before_as_of_and_a_day_of_week() {
    let col = date("created_at", &[Some("2025-03-01"), Some("2025-03-03"), None, Some("2025-03-05")]);
    let as_of = crate::data::dates::parse_timestamp("2025-03-11").unwrap();
    let opts = PreprocessOptions { as_of: Some(as_of), ..Default::default() };
    let p = fit_preprocessor(&[col], &[0, 1, 2, 3], &opts).unwrap();
    let FeatureTransform::Date { scaling, .. } = &p.features[0] else { panic!() };
    // Days before as-of: 10, 8, (median 8), 6.
    assert_eq!((scaling.median, scaling.mean, scaling.indicator), (8.0, 8.0, true));
    assert_eq!(p.width(), 9);
    assert_eq!(p.output_names()[8], "created_at on Sunday");
    let mut out = vec![0.0; 9];
    // Text (a jsonb lead) and epoch seconds (a table row) give the same inputs.
    p.transform_into(&[RawValue::Text("2025-03-03T12:00:00Z")], &mut out).unwrap();
    let by_text = out.clone();
    p.transform_into(&[RawValue::Number(as_of - 7.5 * 86_400.0)], &mut out).unwrap();
    assert_eq!(by_text, out);
    assert!((out[0] + 0.5 / scaling.scale).abs() < 1e-12 && out[1] == 0.0);
    assert_eq!(&out[2..], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "Monday");
    p.transform_into(&[RawValue::Null], &mut out).unwrap();
    assert_eq!(out[1], 1.0);
    assert!(out[2..].iter().all(|&x| x == 0.0));
    let err = p.transform_into(&[RawValue::Text("next week")], &mut out).unwrap_err();
    assert!(err.message.contains("ISO 8601"), "{err}");
}

#[test]
fn interactions_multiply_a_number_with_each_level() {
    let mut levels: Vec<Option<&str>> = vec![Some("a"); 10];
    levels.extend([Some("b"); 10]);
    let x: Vec<Option<f64>> = (0..20).map(|i| Some(f64::from(i % 2))).collect();
    let opts = PreprocessOptions { interactions: vec![("x".into(), "t".into())], ..Default::default() };
    let p = fit_preprocessor(&[numeric("x", x), text("t", &levels)], &(0..20).collect::<Vec<_>>(), &opts).unwrap();
    assert_eq!(p.feature_width(), 4);
    assert_eq!(p.width(), 7);
    assert_eq!(&p.output_names()[4..], &["x × t = a", "x × t = b", "x × t = (other)"]);
    let mut out = vec![0.0; 7];
    p.transform_into(&[RawValue::Number(1.0), RawValue::Text("b")], &mut out).unwrap();
    // x scaled: (1 - 0.5) / 0.5 = 1.
    assert_eq!(out, vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
}

#[test]
fn options_naming_unknown_or_wrong_columns_are_errors() {
    let cols = vec![numeric("x", vec![Some(1.0), Some(2.0)]), text("t", &[Some("a"), Some("b")])];
    let rows = [0, 1];
    let fit = |opts: PreprocessOptions| fit_preprocessor(&cols, &rows, &opts).unwrap_err().message;
    assert!(fit(PreprocessOptions { log_columns: vec!["nope".into()], ..Default::default() })
        .contains("\"nope\", which is not one of"));
    let unknown = PreprocessOptions { interactions: vec![("x".into(), "nope".into())], ..Default::default() };
    assert_eq!(fit_preprocessor(&cols, &rows, &unknown).unwrap_err().kind, crate::ErrorKind::UnknownColumn);
    let not_numeric = PreprocessOptions { log_columns: vec!["t".into()], ..Default::default() };
    assert_eq!(fit_preprocessor(&cols, &rows, &not_numeric).unwrap_err().kind, crate::ErrorKind::InvalidArgument);
    assert!(fit(PreprocessOptions { log_columns: vec!["t".into()], ..Default::default() }).contains("not numeric"));
    assert!(fit(PreprocessOptions { bins: vec![("t".into(), 4)], ..Default::default() }).contains("not numeric"));
    assert!(fit(PreprocessOptions { interactions: vec![("x".into(), "x".into())], ..Default::default() }).contains("with itself"));
    let twice = vec![("x".into(), "t".into()), ("t".into(), "x".into())];
    assert!(fit(PreprocessOptions { interactions: twice, ..Default::default() }).contains("twice"));
    let dates = vec![date("d", &[Some("2025-01-01"), Some("2025-01-02")])];
    assert!(fit_preprocessor(&dates, &rows, &PreprocessOptions::default()).unwrap_err().message.contains("as-of"));
}

#[test]
fn transform_rows_by_dictionary_equals_transforming_each_row() {
    // Levels kept, rare levels, placeholders, NULLs and levels the training rows never saw,
    // next to a number and an interaction with the text column; more rows than one chunk of
    // the threaded build.
    let n = 2 * TRANSFORM_CHUNK + 300;
    let names = ["Google", "Direct", "Select", "", "rare", "Olark"];
    let values: Vec<Option<&str>> = (0..n).map(|i| if i % 17 == 0 { None } else { Some(names[(i * 7) % 6]) }).collect();
    let mut values = values;
    values[5] = Some("rare");
    values[250] = Some("unseen later");
    let columns =
        vec![text("source", &values), numeric("visits", (0..n).map(|i| (i % 5 != 0).then_some((i % 9) as f64)).collect())];
    let train: Vec<usize> = (0..200).collect();
    let opts = PreprocessOptions { interactions: vec![("visits".into(), "source".into())], ..PreprocessOptions::default() };
    let p = fit_preprocessor(&columns, &train, &opts).unwrap();
    let rows: Vec<usize> = (0..n).rev().collect();
    let x = p.transform_rows_dense(&columns, &rows).unwrap();
    let mut raw = Vec::new();
    let mut expected = vec![0.0; p.width()];
    for (k, &r) in rows.iter().enumerate() {
        crate::data::values::row_values(&columns, r, &mut raw);
        p.transform_into(&raw, &mut expected).unwrap();
        assert_eq!(x.row(k).to_vec(), expected, "row {r}");
    }
}

#[test]
fn columns_fitted_side_by_side_equal_each_column_fitted_alone() {
    // Enough training rows for the columns to be fitted on worker threads, in groups: every
    // transform, the capped levels and the first error come out in column order.
    let n = PARALLEL_ROWS + 500;
    let levels = ["Google", "Direct", "Select", "", "Olark", "Referral"];
    let source: Vec<Option<&str>> = (0..n).map(|i| (i % 13 != 0).then_some(levels[(i * 7) % 6])).collect();
    let city: Vec<Option<&str>> = (0..n).map(|i| Some(["a", "b", "c", "d"][i % 4])).collect();
    let columns = vec![
        numeric("visits", (0..n).map(|i| (i % 5 != 0).then_some((i % 97) as f64)).collect()),
        text("source", &source),
        numeric("spend", (0..n).map(|i| Some((i as f64).sqrt())).collect()),
        text("city", &city),
        numeric("pages", (0..n).map(|i| Some((i % 31) as f64)).collect()),
    ];
    let opts = PreprocessOptions {
        log_columns: vec!["spend".into()],
        bins: vec![("pages".into(), 4)],
        max_levels: 2,
        ..PreprocessOptions::default()
    };
    let rows: Vec<usize> = (0..n).collect();
    let (together, capped) = fit_preprocessor_reporting(&columns, &rows, &opts).unwrap();
    let mut alone_capped = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        let alone_opts = PreprocessOptions {
            log_columns: opts.log_columns.iter().filter(|c| **c == column.name).cloned().collect(),
            bins: opts.bins.iter().filter(|(c, _)| *c == column.name).cloned().collect(),
            ..opts.clone()
        };
        let (alone, cap) = fit_preprocessor_reporting(std::slice::from_ref(column), &rows, &alone_opts).unwrap();
        assert_eq!(together.features[i], alone.features[0], "column {}", column.name);
        alone_capped.extend(cap);
    }
    assert_eq!(capped, alone_capped);
    assert_eq!(capped.iter().map(|c| c.feature.as_str()).collect::<Vec<_>>(), ["source", "city"]);
    // Placeholders ("Select", "") count as missing, once per level, not per row.
    let FeatureTransform::Categorical { levels: kept, .. } = &together.features[1] else { panic!("{:?}", together.features[1]) };
    assert!(kept.iter().all(|l| l != "Select" && !l.is_empty()), "{kept:?}");
    // Two columns that cannot be fitted: the error is the first one's.
    let mut bad = columns.clone();
    bad[2] = numeric("empty", vec![None; n]);
    bad[4] = numeric("also_empty", vec![None; n]);
    let err = fit_preprocessor(&bad, &rows, &PreprocessOptions::default()).unwrap_err();
    assert!(err.message.contains("\"empty\""), "{err}");
}
