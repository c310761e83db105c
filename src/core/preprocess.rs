//! Preprocessing fitted on the training part only and stored inside the model, so scoring runs
//! exactly the same transform as training (no training/serving skew):
//! - numbers: placeholder/NULL to the training median, plus a 0/1 "missing" indicator when the
//!   training part had missing values, then standard scaling;
//! - text and booleans: one-hot over the levels seen at least `min_level_count` times in
//!   training; rarer levels and levels never seen in training share one "(other)" column;
//!   NULL and placeholder values ('' and 'Select' by default) are the level "(missing)".

use serde::{Deserialize, Serialize};

use super::values::{Column, ColumnData, FeatureKind, RawValue, NULL_CODE};
use super::CoreResult;
use crate::core_err;

pub const MISSING_LEVEL: &str = "(missing)";
pub const OTHER_LEVEL: &str = "(other)";

/// Settings that shape the fitted transform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessOptions {
    /// Strings that mean "no value" (form defaults such as 'Select').
    pub missing_values: Vec<String>,
    /// Levels seen fewer times than this in training are pooled into "(other)".
    pub min_level_count: usize,
    /// Impute missing numbers with the median plus an indicator (linear models); when false a
    /// missing number stays NaN for a booster that routes missing values itself.
    pub impute_numeric: bool,
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        PreprocessOptions { missing_values: vec![String::new(), "Select".to_string()], min_level_count: 10, impute_numeric: true }
    }
}

/// The fitted transform of one source column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FeatureTransform {
    Numeric {
        name: String,
        median: f64,
        mean: f64,
        scale: f64,
        /// Whether a missing-value indicator column follows the scaled value.
        indicator: bool,
    },
    Categorical {
        name: String,
        kind: FeatureKind,
        /// Kept levels, one output column each, then one "(other)" column.
        levels: Vec<String>,
    },
}

impl FeatureTransform {
    pub fn name(&self) -> &str {
        match self {
            FeatureTransform::Numeric { name, .. } | FeatureTransform::Categorical { name, .. } => name,
        }
    }

    pub fn kind(&self) -> FeatureKind {
        match self {
            FeatureTransform::Numeric { .. } => FeatureKind::Numeric,
            FeatureTransform::Categorical { kind, .. } => *kind,
        }
    }

    /// Number of model inputs this column becomes.
    pub fn width(&self) -> usize {
        match self {
            FeatureTransform::Numeric { indicator, .. } => 1 + *indicator as usize,
            FeatureTransform::Categorical { levels, .. } => levels.len() + 1,
        }
    }

    /// Names of the model inputs, for coefficients and explanations.
    pub fn output_names(&self) -> Vec<String> {
        match self {
            FeatureTransform::Numeric { name, indicator, .. } => {
                let mut v = vec![name.clone()];
                if *indicator {
                    v.push(format!("{name} {MISSING_LEVEL}"));
                }
                v
            }
            FeatureTransform::Categorical { name, levels, .. } => levels
                .iter()
                .map(|l| format!("{name} = {l}"))
                .chain(std::iter::once(format!("{name} = {OTHER_LEVEL}")))
                .collect(),
        }
    }
}

/// The whole fitted transform: one entry per source column, in the model's feature order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub features: Vec<FeatureTransform>,
    pub missing_values: Vec<String>,
    /// See [`PreprocessOptions::impute_numeric`].
    pub impute_numeric: bool,
}

impl Preprocessor {
    /// Total number of model inputs.
    pub fn width(&self) -> usize {
        self.features.iter().map(FeatureTransform::width).sum()
    }

    pub fn output_names(&self) -> Vec<String> {
        self.features.iter().flat_map(|f| f.output_names()).collect()
    }

    fn is_placeholder(&self, s: &str) -> bool {
        self.missing_values.iter().any(|m| m == s)
    }

    /// Writes the model inputs for one lead into `out` (length [`Self::width`]).
    /// `raw` holds one value per feature, in feature order.
    pub fn transform_into(&self, raw: &[RawValue<'_>], out: &mut [f64]) -> CoreResult<()> {
        debug_assert_eq!(raw.len(), self.features.len());
        debug_assert_eq!(out.len(), self.width());
        let mut at = 0;
        for (feature, value) in self.features.iter().zip(raw) {
            match feature {
                FeatureTransform::Numeric { name, median, mean, scale, indicator } => {
                    let x = match *value {
                        RawValue::Null => None,
                        RawValue::Number(x) => Some(x),
                        RawValue::Text(s) if self.is_placeholder(s) => None,
                        RawValue::Text(s) => Some(s.trim().parse::<f64>().map_err(|_| {
                            core_err!("feature \"{name}\" is numeric but got the text '{s}'")
                        })?),
                    };
                    if let Some(x) = x {
                        if !x.is_finite() {
                            return Err(core_err!("feature \"{name}\" is {x}; NaN and Infinity are not valid feature values"));
                        }
                    }
                    out[at] = match x {
                        Some(x) => (x - mean) / scale,
                        None if self.impute_numeric => (median - mean) / scale,
                        None => f64::NAN,
                    };
                    if *indicator {
                        out[at + 1] = x.is_none() as u8 as f64;
                    }
                }
                FeatureTransform::Categorical { levels, .. } => {
                    let slots = &mut out[at..at + levels.len() + 1];
                    slots.fill(0.0);
                    let number_text;
                    let level = match *value {
                        RawValue::Null => MISSING_LEVEL,
                        RawValue::Text(s) if self.is_placeholder(s) => MISSING_LEVEL,
                        RawValue::Text(s) => s,
                        RawValue::Number(x) => {
                            number_text = format_number(x);
                            &number_text
                        }
                    };
                    let slot = levels.iter().position(|l| l == level).unwrap_or(levels.len());
                    slots[slot] = 1.0;
                }
            }
            at += feature.width();
        }
        Ok(())
    }

    /// Transforms the given rows of a columnar table into a row-major matrix.
    pub fn transform_rows(&self, columns: &[Column], rows: &[usize]) -> CoreResult<ndarray::Array2<f64>> {
        let width = self.width();
        let mut x = ndarray::Array2::<f64>::zeros((rows.len(), width));
        let mut raw = Vec::with_capacity(columns.len());
        for (out_row, &row) in rows.iter().enumerate() {
            super::values::row_values(columns, row, &mut raw);
            let slice = x.row_mut(out_row).into_slice().expect("standard layout");
            self.transform_into(&raw, slice)?;
        }
        Ok(x)
    }
}

/// Numbers given for a text feature (for example in jsonb) match the level written the way
/// Postgres prints them: integers without a decimal point.
pub(crate) fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Fits the transform on the training rows of `columns`.
pub fn fit_preprocessor(columns: &[Column], train_rows: &[usize], opts: &PreprocessOptions) -> CoreResult<Preprocessor> {
    if train_rows.is_empty() {
        return Err(core_err!("the training part is empty"));
    }
    let mut features = Vec::with_capacity(columns.len());
    for column in columns {
        features.push(match &column.data {
            ColumnData::Numeric(values) => fit_numeric(&column.name, values, train_rows, opts.impute_numeric)?,
            ColumnData::Categorical { dictionary, codes } => {
                fit_categorical(column, dictionary, codes, train_rows, opts)
            }
        });
    }
    Ok(Preprocessor { features, missing_values: opts.missing_values.clone(), impute_numeric: opts.impute_numeric })
}

fn fit_numeric(name: &str, values: &[Option<f64>], train_rows: &[usize], impute: bool) -> CoreResult<FeatureTransform> {
    let mut present: Vec<f64> = Vec::with_capacity(train_rows.len());
    for &r in train_rows {
        if let Some(x) = values[r] {
            if !x.is_finite() {
                return Err(core_err!("feature \"{name}\" contains {x}; NaN and Infinity are not valid feature values"));
            }
            present.push(x);
        }
    }
    if present.is_empty() {
        return Err(core_err!("feature \"{name}\" is NULL in every training row; exclude it"));
    }
    let missing = train_rows.len() - present.len();
    present.sort_by(f64::total_cmp);
    let m = present.len();
    let median = if m % 2 == 1 { present[m / 2] } else { (present[m / 2 - 1] + present[m / 2]) / 2.0 };
    // Scaling statistics are taken after imputation, as a scikit-learn imputer-then-scaler pipeline does.
    let n = train_rows.len() as f64;
    let sum: f64 = present.iter().sum::<f64>() + median * missing as f64;
    let mean = sum / n;
    let sq: f64 = present.iter().map(|x| (x - mean).powi(2)).sum::<f64>() + (median - mean).powi(2) * missing as f64;
    let std = (sq / n).sqrt();
    // A constant column keeps scale 1 (it then carries no signal, and no division by zero).
    let scale = if std > 1e-12 * mean.abs().max(1.0) { std } else { 1.0 };
    Ok(FeatureTransform::Numeric { name: name.to_string(), median, mean, scale, indicator: impute && missing > 0 })
}

fn fit_categorical(
    column: &Column,
    dictionary: &[String],
    codes: &[u32],
    train_rows: &[usize],
    opts: &PreprocessOptions,
) -> FeatureTransform {
    let mut counts = vec![0usize; dictionary.len()];
    let mut missing = 0usize;
    for &r in train_rows {
        match codes[r] {
            NULL_CODE => missing += 1,
            c if opts.missing_values.iter().any(|m| *m == dictionary[c as usize]) => missing += 1,
            c => counts[c as usize] += 1,
        }
    }
    let mut kept: Vec<(usize, &str)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &k)| k >= opts.min_level_count.max(1))
        .map(|(c, &k)| (k, dictionary[c].as_str()))
        .collect();
    if missing >= opts.min_level_count.max(1) {
        kept.push((missing, MISSING_LEVEL));
    }
    // Most frequent first; ties by name so the order never depends on the row order.
    kept.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    FeatureTransform::Categorical {
        name: column.name.clone(),
        kind: column.kind,
        levels: kept.into_iter().map(|(_, l)| l.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::values::CategoricalBuilder;

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
            FeatureTransform::Numeric { median, mean, scale, indicator, .. } => {
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
        assert!(err.0.contains("NaN"), "{err}");
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
        assert!(err.0.contains("\"x\""));
    }

    #[test]
    fn transform_rows_builds_the_design_matrix() {
        let cols = vec![numeric("x", vec![Some(0.0), Some(2.0)]), text("t", &[Some("u"), Some("v")])];
        let opts = PreprocessOptions { min_level_count: 1, ..Default::default() };
        let p = fit_preprocessor(&cols, &[0, 1], &opts).unwrap();
        let x = p.transform_rows(&cols, &[1, 0]).unwrap();
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
}
