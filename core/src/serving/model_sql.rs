//! A logistic model written out as one plain SQL expression over the raw source columns, for
//! portability (any SQL engine with CASE, exp and ln) and as a baseline for the scoring
//! benchmarks. The expression computes what [`LeadModel::probability`] computes:
//!
//! - numeric column: `CASE WHEN "x" IS NULL THEN <imputed term> ELSE ("x"::float8 - mean) / scale * coef END`
//!   (the imputed term folds the median and the missing indicator into one constant);
//! - text / boolean column: one `CASE` mapping NULL and the placeholder values to the
//!   "(missing)" level, every kept level to its coefficient and anything else to "(other)";
//! - the sigmoid of the sum, with the log-odds clamped to +-700 so `exp` never overflows;
//! - calibration: Platt as its formula, isotonic as a `CASE` over its steps. Both need the
//!   uncalibrated probability more than once, so it is computed once in a scalar subquery.
//!
//! Gradient boosted models are refused with a clear error: hundreds of trees as nested CASEs
//! would be a very long expression and much slower than `score()`.

use crate::core_err;
use crate::data::{FeatureTransform, Preprocessor, Scaling, MISSING_LEVEL};
use crate::models::{Calibration, PLATT_EPS};
use crate::models::{Estimator, LeadModel};
use crate::CoreResult;

/// Log-odds are clamped to this in SQL: `exp(710)` overflows and `exp(-746)` underflows,
/// both ERRORs in Postgres; beyond 700 the probability is 0 or 1 to 300 digits anyway.
const LOG_ODDS_CLAMP: f64 = 700.0;

/// A double-quoted SQL identifier; embedded quotes doubled, so any column name is safe.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A SQL string literal; quotes doubled, and backslashes escaped in an E'' literal so the
/// result does not depend on `standard_conforming_strings`.
pub fn quote_literal(text: &str) -> String {
    if text.contains('\\') {
        format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// A float8 constant that reads back as exactly the same double (Rust prints the shortest
/// representation that round-trips; the numeric-to-float8 cast rounds correctly).
pub fn float(x: f64) -> String {
    debug_assert!(x.is_finite());
    let text = format!("{x:?}");
    if x < 0.0 {
        format!("({text})::float8")
    } else {
        format!("{text}::float8")
    }
}

/// The SQL expression for the calibrated probability of a logistic `model`.
pub fn model_sql(model: &LeadModel) -> CoreResult<String> {
    let fit = match &model.estimator {
        Estimator::Logistic(fit) => fit,
        Estimator::Gbm(_) => {
            return Err(core_err!(
                Unsupported,
                "model_sql supports logistic models only; this model is gbm (gradient boosted trees), score it with lead_scoring.score()"
            ))
        }
        Estimator::Linear(_) => {
            return Err(core_err!(
                Unsupported,
                "model_sql supports logistic models only; this model is a linear regression (options.task 'regression'), score it with lead_scoring.score()"
            ))
        }
    };
    if model.segments.is_some() {
        return Err(core_err!(
            Unsupported,
            "model_sql does not support segment models (options.segment_by) yet; score them with lead_scoring.score()"
        ));
    }
    if !model.preprocessor.interactions.is_empty() {
        return Err(core_err!(
            Unsupported,
            "model_sql does not support interaction terms yet; score this model with lead_scoring.score()"
        ));
    }
    if fit.coefficients.len() != model.preprocessor.width() {
        return Err(core_err!(
            CorruptArtifact,
            "model is corrupt: {} coefficients for {} inputs",
            fit.coefficients.len(),
            model.preprocessor.width()
        ));
    }
    let mut terms = vec![float(fit.intercept)];
    let mut at = 0;
    for feature in &model.preprocessor.features {
        let coef = &fit.coefficients[at..at + feature.width()];
        terms.push(feature_term(feature, coef, &model.preprocessor.missing_values, model.preprocessor.impute_numeric)?);
        at += feature.width();
    }
    let log_odds = format!("({})", terms.join("\n + "));
    let clamped = format!("least(greatest({log_odds}, {}), {})", float(-LOG_ODDS_CLAMP), float(LOG_ODDS_CLAMP));
    let probability = format!("(1::float8 / (1::float8 + exp(-{clamped})))");
    Ok(match &model.calibration {
        Calibration::None => probability,
        calibration => {
            // The inner column is named so that no outer column can capture it: inner scope wins.
            let p = "lead_scoring_p";
            format!(
                "(SELECT {} FROM (SELECT {probability} AS {p}) AS lead_scoring_uncalibrated)",
                calibration_sql(calibration, p)
            )
        }
    })
}

fn feature_term(feature: &FeatureTransform, coef: &[f64], placeholders: &[String], impute: bool) -> CoreResult<String> {
    Ok(match feature {
        FeatureTransform::Numeric { name, log, scaling: Scaling { median, mean, scale, indicator } } => {
            if !impute {
                return Err(core_err!(Unsupported, "feature \"{name}\" keeps missing values as NaN, which only trees accept"));
            }
            let col = quote_identifier(name);
            let missing = coef[0] * ((median - mean) / scale) + if *indicator { coef[1] } else { 0.0 };
            format!(
                "CASE WHEN {col} IS NULL THEN {} ELSE ({} - {}) / {} * {} END",
                float(missing),
                numeric_value(&col, *log),
                float(*mean),
                float(*scale),
                float(coef[0])
            )
        }
        FeatureTransform::Binned { name, .. }
        | FeatureTransform::Date { name, .. }
        | FeatureTransform::TextCodes { name, .. } => return Err(unsupported(name)),
        FeatureTransform::Categorical { name, levels, .. } => {
            let col = quote_identifier(name);
            let other = coef[levels.len()];
            let missing = levels.iter().position(|l| l == MISSING_LEVEL).map_or(other, |i| coef[i]);
            // Placeholders first: the model maps them to "(missing)" before looking at levels.
            let mut arms: Vec<String> =
                placeholders.iter().map(|m| format!("WHEN {} THEN {}", quote_literal(m), float(missing))).collect();
            for (level, c) in levels.iter().zip(coef) {
                arms.push(format!("WHEN {} THEN {}", quote_literal(level), float(*c)));
            }
            format!(
                "CASE WHEN {col} IS NULL THEN {} ELSE CASE {col}::text {} ELSE {} END END",
                float(missing),
                arms.join(" "),
                float(other)
            )
        }
    })
}

/// The model inputs of one row as two SQL array expressions over the raw columns, for the
/// aggregate engine's passes: ascending input indexes (`int4[]`) and their values (`float8[]`).
/// Numbers give their scaled value (and missing indicator); a text column gives the index of
/// its one-hot input that is 1, as [`Preprocessor::transform_into`] would set it.
pub fn input_sql(preprocessor: &Preprocessor) -> CoreResult<(String, String)> {
    let (mut indexes, mut values) = (Vec::new(), Vec::new());
    let mut at = 0usize;
    for feature in &preprocessor.features {
        match feature {
            FeatureTransform::Numeric { name, log, scaling: Scaling { median, mean, scale, indicator } } => {
                if !preprocessor.impute_numeric {
                    return Err(core_err!(
                        Unsupported,
                        "feature \"{name}\" keeps missing values as NaN, which only trees accept"
                    ));
                }
                let col = quote_identifier(name);
                indexes.push(at.to_string());
                values.push(format!(
                    "CASE WHEN {col} IS NULL THEN {} ELSE ({} - {}) / {} END",
                    float((median - mean) / scale),
                    numeric_value(&col, *log),
                    float(*mean),
                    float(*scale)
                ));
                if *indicator {
                    indexes.push((at + 1).to_string());
                    values.push(format!("CASE WHEN {col} IS NULL THEN 1::float8 ELSE 0::float8 END"));
                }
            }
            FeatureTransform::Categorical { name, levels, .. } => {
                let col = quote_identifier(name);
                let other = at + levels.len();
                let missing = levels.iter().position(|l| l == MISSING_LEVEL).map_or(other, |i| at + i);
                let mut arms: Vec<String> =
                    preprocessor.missing_values.iter().map(|m| format!("WHEN {} THEN {missing}", quote_literal(m))).collect();
                arms.extend(levels.iter().enumerate().map(|(i, l)| format!("WHEN {} THEN {}", quote_literal(l), at + i)));
                indexes.push(format!(
                    "CASE WHEN {col} IS NULL THEN {missing} ELSE CASE {col}::text {} ELSE {other} END END",
                    arms.join(" ")
                ));
                values.push("1::float8".to_string());
            }
            FeatureTransform::Binned { name, .. }
            | FeatureTransform::Date { name, .. }
            | FeatureTransform::TextCodes { name, .. } => return Err(unsupported(name)),
        }
        at += feature.width();
    }
    Ok((format!("ARRAY[{}]::int4[]", indexes.join(", ")), format!("ARRAY[{}]::float8[]", values.join(", "))))
}

/// A numeric column as float8, log-scaled as [`signed_log1p`](crate::data::signed_log1p) when the model says so.
pub fn numeric_value(col: &str, log: bool) -> String {
    if log {
        format!("(sign({col}::float8) * ln(1::float8 + abs({col}::float8)))")
    } else {
        format!("{col}::float8")
    }
}

fn unsupported(name: &str) -> crate::CoreError {
    core_err!(Unsupported, "model_sql does not support quantile bins or date features yet (feature \"{name}\"); score this model with lead_scoring.score()")
}

/// Calibration of the uncalibrated probability held in column `p`, as `Calibration::apply` does it.
fn calibration_sql(calibration: &Calibration, p: &str) -> String {
    match calibration {
        Calibration::None => p.to_string(),
        Calibration::Platt { a, b } => {
            let s = format!("least(greatest({p}, {}), {})", float(PLATT_EPS), float(1.0 - PLATT_EPS));
            format!("1::float8 / (1::float8 + exp({} * ln({s} / (1::float8 - {s})) + {}))", float(*a), float(*b))
        }
        Calibration::Isotonic { x, y } => {
            if x.is_empty() || x.len() != y.len() {
                return p.to_string(); // as apply(): a malformed calibration is ignored
            }
            if x.len() == 1 {
                return float(y[0]);
            }
            // interpolate(): clip to [x0, xn], then the segment whose upper knot is the first >= t.
            let n = x.len();
            let mut arms = vec![format!("WHEN {p} <= {} THEN {}", float(x[0]), float(y[0]))];
            for hi in 1..n {
                let lo = hi - 1;
                let slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
                let segment = format!("{} * ({p} - {}) + {}", float(slope), float(x[lo]), float(y[lo]));
                if hi == n - 1 {
                    arms.push(format!("WHEN {p} < {} THEN {segment}", float(x[hi])));
                } else {
                    arms.push(format!("WHEN {p} <= {} THEN {segment}", float(x[hi])));
                }
            }
            // At or above the last knot: the last segment evaluated at x[n-1], as the clip does.
            let slope = (y[n - 1] - y[n - 2]) / (x[n - 1] - x[n - 2]);
            let top = slope * (x[n - 1] - x[n - 2]) + y[n - 2];
            format!("CASE {} ELSE {} END", arms.join(" "), float(top))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::FeatureKind;
    use crate::data::Preprocessor;
    use crate::models::LogisticFit;

    fn model(calibration: Calibration) -> LeadModel {
        LeadModel {
            preprocessor: Preprocessor {
                features: vec![
                    FeatureTransform::Numeric {
                        name: "visits".into(),
                        log: false,
                        scaling: Scaling { median: 3.0, mean: 3.5, scale: 2.0, indicator: true },
                    },
                    FeatureTransform::Categorical {
                        name: "Lead \"Source\"".into(),
                        kind: FeatureKind::Categorical,
                        levels: vec!["Google".into(), MISSING_LEVEL.into(), "O'Reilly".into()],
                    },
                ],
                missing_values: vec!["".into(), "Select".into()],
                impute_numeric: true,
                interactions: Vec::new(),
                level_index: Default::default(),
            },
            estimator: Estimator::Logistic(LogisticFit {
                intercept: -0.5,
                coefficients: vec![0.25, 0.125, 1.5, -0.75, 0.5, -2.0],
                iterations: 5,
                converged: true,
                objective: 1.0,
            }),
            calibration,
            input_means: vec![0.0; 6],
            segments: None,
        }
    }

    #[test]
    fn identifiers_and_literals_cannot_break_out() {
        assert_eq!(quote_identifier("a\"; DROP TABLE x; --"), "\"a\"\"; DROP TABLE x; --\"");
        assert_eq!(quote_literal("O'Reilly"), "'O''Reilly'");
        assert_eq!(quote_literal("C:\\x'"), "E'C:\\\\x'''");
    }

    #[test]
    fn constants_round_trip_exactly() {
        for x in [0.1, -1.0 / 3.0, 1e-300, 123_456_789.123_456_78, -2.5e17] {
            let text = float(x);
            let digits = text.trim_start_matches('(').split(')').next().unwrap().split("::").next().unwrap();
            assert_eq!(digits.parse::<f64>().unwrap(), x, "{text}");
        }
    }

    #[test]
    fn logistic_expression_has_one_case_per_column() {
        let sql = model_sql(&model(Calibration::None)).unwrap();
        assert_eq!(sql.matches("CASE WHEN").count(), 2, "{sql}");
        assert!(sql.contains("\"Lead \"\"Source\"\"\"::text"), "{sql}");
        // NULL visits: 0.25 * (3 - 3.5) / 2 + 0.125 (the indicator).
        assert!(sql.contains("CASE WHEN \"visits\" IS NULL THEN 0.0625::float8 ELSE"), "{sql}");
        // Placeholders and NULL share the "(missing)" coefficient; unseen levels get "(other)".
        assert!(sql.contains("WHEN 'Select' THEN (-0.75)::float8"), "{sql}");
        assert!(sql.contains("WHEN 'O''Reilly' THEN 0.5::float8"), "{sql}");
        assert!(sql.contains("ELSE (-2.0)::float8 END END"), "{sql}");
        assert!(sql.starts_with("(1::float8 / (1::float8 + exp(-least(greatest(((-0.5)::float8"), "{sql}");
    }

    #[test]
    fn calibrations_use_the_uncalibrated_probability_once() {
        let platt = model_sql(&model(Calibration::Platt { a: -1.1, b: 0.2 })).unwrap();
        assert!(platt.starts_with("(SELECT 1::float8 / (1::float8 + exp((-1.1)::float8 * ln("), "{platt}");
        assert_eq!(platt.matches("\"visits\" IS NULL").count(), 1);
        let iso = model_sql(&model(Calibration::Isotonic { x: vec![0.1, 0.5, 0.9], y: vec![0.0, 0.4, 1.0] })).unwrap();
        assert!(iso.contains("WHEN lead_scoring_p <= 0.1::float8 THEN 0.0::float8"), "{iso}");
        assert!(iso.contains("WHEN lead_scoring_p < 0.9::float8 THEN 1.4999999999999998::float8 * (lead_scoring_p - 0.5::float8) + 0.4::float8"), "{iso}");
        assert!(iso.contains("ELSE 1.0::float8 END"), "{iso}");
    }

    #[test]
    fn isotonic_steps_match_apply() {
        // Evaluate the generated CASE by hand at points around every knot, against apply().
        let (x, y) = (vec![0.1, 0.3, 0.3000001, 0.8], vec![0.0, 0.2, 0.6, 0.9]);
        let cal = Calibration::Isotonic { x: x.clone(), y: y.clone() };
        let eval = |t: f64| -> f64 {
            if t <= x[0] {
                return y[0];
            }
            for hi in 1..x.len() {
                let last = hi == x.len() - 1;
                if (last && t < x[hi]) || (!last && t <= x[hi]) {
                    return (y[hi] - y[hi - 1]) / (x[hi] - x[hi - 1]) * (t - x[hi - 1]) + y[hi - 1];
                }
            }
            let n = x.len();
            (y[n - 1] - y[n - 2]) / (x[n - 1] - x[n - 2]) * (x[n - 1] - x[n - 2]) + y[n - 2]
        };
        for t in [0.0, 0.1, 0.2, 0.3, 0.30000005, 0.3000001, 0.5, 0.8, 0.95, 1.0] {
            assert!((eval(t) - cal.apply(t)).abs() < 1e-15, "t = {t}: {} vs {}", eval(t), cal.apply(t));
        }
    }

    #[test]
    fn inputs_are_sparse_arrays_in_model_order() {
        let m = model(Calibration::None);
        let (idx, val) = input_sql(&m.preprocessor).unwrap();
        assert!(idx.starts_with("ARRAY[0, 1, CASE WHEN \"Lead \"\"Source\"\"\" IS NULL THEN 3 ELSE CASE"), "{idx}");
        assert!(idx.contains("WHEN 'Select' THEN 3 WHEN 'Google' THEN 2 WHEN '(missing)' THEN 3 WHEN 'O''Reilly' THEN 4 ELSE 5 END END]::int4[]"), "{idx}");
        assert!(val.starts_with("ARRAY[CASE WHEN \"visits\" IS NULL THEN (-0.25)::float8 ELSE (\"visits\"::float8 - 3.5::float8) / 2.0::float8 END"), "{val}");
        assert!(val.ends_with("CASE WHEN \"visits\" IS NULL THEN 1::float8 ELSE 0::float8 END, 1::float8]::float8[]"), "{val}");
    }

    #[test]
    fn trees_are_refused_with_a_clear_error() {
        let mut m = model(Calibration::None);
        let (x, y) = ((0..40).map(|i| i as f64).collect(), (0..40).map(|i| i % 3 == 0).collect());
        let data =
            crate::models::GbmData { x, rows: 40, cols: 1, y, weights: vec![1.0; 40], categorical: Vec::new(), targets: None };
        let opts = crate::models::GbmOptions { trees: 2, ..Default::default() };
        m.estimator = Estimator::Gbm(crate::models::fit_gbm(data, None, &opts, &mut |_, _| Ok(())).unwrap());
        let err = model_sql(&m).unwrap_err();
        assert!(err.message.contains("logistic models only"), "{err}");
        assert_eq!(err.kind, crate::ErrorKind::Unsupported);
    }
}
