//! The preprocessing keys of train()'s options: what counts as missing, rare levels, log
//! scaling, quantile bins, interaction terms and the as-of time of date features.

use serde_json::Value;

use crate::core_err;
use crate::data::dates::parse_timestamp;
use crate::CoreResult;
use serde::{Deserialize, Serialize};

/// Levels kept per text column unless `options.max_levels` says otherwise.
pub const DEFAULT_MAX_LEVELS: usize = 1000;

/// Settings that shape the fitted transform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessOptions {
    /// Strings that mean "no value" (form defaults such as 'Select').
    pub missing_values: Vec<String>,
    /// Levels seen fewer times than this in training are pooled into "(other)".
    pub min_level_count: usize,
    /// At most this many levels per text column are kept (the most frequent); the rest are
    /// pooled into "(other)" too, so a column with 20,000 company names stays trainable.
    pub max_levels: usize,
    /// Impute missing numbers with the median plus an indicator (linear models); when false a
    /// missing number stays NaN for a booster that routes missing values itself.
    pub impute_numeric: bool,
    /// Numeric columns put through sign(x)·ln(1 + |x|) first: skewed counts and amounts.
    pub log_columns: Vec<String>,
    /// Numeric columns cut into (up to) this many quantile bins instead of a linear term.
    pub bins: Vec<(String, usize)>,
    /// Pairs of columns whose interaction terms the model also gets.
    pub interactions: Vec<(String, String)>,
    /// Reference time of date features, in seconds since 1970-01-01 UTC.
    pub as_of: Option<f64>,
    /// Text columns become one input each, their level's code, for boosted trees that split on
    /// categories themselves (LightGBM's categorical features); false: one-hot inputs. Columns
    /// in an interaction pair stay one-hot (a term multiplies inputs).
    #[serde(default)]
    pub text_codes: bool,
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        PreprocessOptions {
            missing_values: vec![String::new(), "Select".to_string()],
            min_level_count: 10,
            max_levels: DEFAULT_MAX_LEVELS,
            impute_numeric: true,
            log_columns: Vec::new(),
            bins: Vec::new(),
            interactions: Vec::new(),
            as_of: None,
            text_codes: false,
        }
    }
}

/// Option keys handled here.
pub const PREPROCESS_KEYS: &[&str] = &["as_of", "bins", "interactions", "log", "max_levels", "min_level_count", "missing_values"];

/// Upper bound of `options.max_levels`: one-hot inputs per text column (a logistic fit's
/// Newton system grows with the square of the inputs).
pub const MAX_LEVELS_BOUND: usize = 100_000;
/// Upper bound of the number of `options.interactions` pairs.
pub const MAX_INTERACTION_PAIRS: usize = 100;

/// Bins when `options.bins` lists a column without a count.
pub const DEFAULT_BINS: usize = 10;

fn names(key: &str, v: &Value) -> CoreResult<Vec<String>> {
    let err = || core_err!(InvalidArgument, "option \"{key}\" must be an array of column names, got {v}");
    v.as_array().ok_or_else(err)?.iter().map(|x| x.as_str().map(str::to_string).ok_or_else(err)).collect()
}

fn bin_count(column: &str, v: &Value) -> CoreResult<usize> {
    match v.as_u64() {
        Some(k) if (2..=100).contains(&k) => Ok(k as usize),
        _ => Err(core_err!(
            InvalidArgument,
            "option \"bins\": the bins of \"{column}\" must be a whole number from 2 to 100, got {v}"
        )),
    }
}

/// Applies one preprocessing key to `p`.
pub fn parse_preprocess_option(key: &str, v: &Value, p: &mut PreprocessOptions) -> CoreResult<()> {
    match key {
        "min_level_count" => {
            p.min_level_count = v.as_u64().filter(|&k| k > 0).ok_or_else(|| {
                core_err!(InvalidArgument, "option \"min_level_count\" must be a positive whole number, got {v}")
            })? as usize
        }
        "max_levels" => {
            p.max_levels = v.as_u64().filter(|&k| (1..=MAX_LEVELS_BOUND as u64).contains(&k)).ok_or_else(|| {
                core_err!(InvalidArgument, "option \"max_levels\" must be a whole number from 1 to {MAX_LEVELS_BOUND}, got {v}")
            })? as usize
        }
        "missing_values" => p.missing_values = names("missing_values", v)?,
        "log" => p.log_columns = names("log", v)?,
        "bins" => {
            p.bins = match v {
                Value::Object(m) => m.iter().map(|(c, k)| Ok((c.clone(), bin_count(c, k)?))).collect::<CoreResult<_>>()?,
                Value::Array(_) => names("bins", v)?.into_iter().map(|c| (c, DEFAULT_BINS)).collect(),
                _ => {
                    return Err(core_err!(
                        InvalidArgument,
                        "option \"bins\" must be an object like {{\"employees\": 5}} or an array of column names, got {v}"
                    ))
                }
            }
        }
        "interactions" => {
            let err = || {
                core_err!(
                    InvalidArgument,
                    "option \"interactions\" must be an array of column pairs like [[\"a\", \"b\"]], got {v}"
                )
            };
            p.interactions = v
                .as_array()
                .ok_or_else(err)?
                .iter()
                .map(|pair| match pair.as_array().map(Vec::as_slice) {
                    Some([Value::String(a), Value::String(b)]) => Ok((a.clone(), b.clone())),
                    _ => Err(err()),
                })
                .collect::<CoreResult<_>>()?;
            if p.interactions.len() > MAX_INTERACTION_PAIRS {
                return Err(core_err!(
                    InvalidArgument,
                    "option \"interactions\" lists {} pairs; at most {MAX_INTERACTION_PAIRS} are allowed",
                    p.interactions.len()
                ));
            }
        }
        "as_of" => {
            p.as_of = Some(v.as_str().and_then(parse_timestamp).ok_or_else(|| {
                core_err!(
                    InvalidArgument,
                    "option \"as_of\" must be an ISO 8601 date or timestamp such as \"2026-04-01\", got {v}"
                )
            })?)
        }
        other => return Err(core_err!(InvalidArgument, "\"{other}\" is not a preprocessing option")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(key: &str, v: Value) -> CoreResult<PreprocessOptions> {
        let mut p = PreprocessOptions::default();
        parse_preprocess_option(key, &v, &mut p).map(|_| p)
    }

    #[test]
    fn every_preprocessing_key_parses() {
        assert_eq!(parse("log", json!(["revenue"])).unwrap().log_columns, vec!["revenue"]);
        assert_eq!(parse("bins", json!({"employees": 5})).unwrap().bins, vec![("employees".to_string(), 5)]);
        assert_eq!(parse("bins", json!(["employees"])).unwrap().bins, vec![("employees".to_string(), DEFAULT_BINS)]);
        assert_eq!(parse("interactions", json!([["a", "b"]])).unwrap().interactions, vec![("a".to_string(), "b".to_string())]);
        assert_eq!(parse("as_of", json!("1970-01-02")).unwrap().as_of, Some(86_400.0));
        assert_eq!(parse("min_level_count", json!(3)).unwrap().min_level_count, 3);
        assert_eq!(parse("max_levels", json!(50)).unwrap().max_levels, 50);
    }

    #[test]
    fn bad_values_name_the_key() {
        for (key, v) in [
            ("log", json!("revenue")),
            ("bins", json!({"employees": 1})),
            ("bins", json!(4)),
            ("interactions", json!([["a"]])),
            ("interactions", json!(["a", "b"])),
            ("as_of", json!("last tuesday")),
            ("min_level_count", json!(0)),
            ("max_levels", json!(0)),
            ("max_levels", json!(100_001)),
            ("max_levels", json!("many")),
            ("interactions", Value::Array(vec![json!(["a", "b"]); 101])),
        ] {
            let err = parse(key, v.clone()).unwrap_err();
            assert!(err.message.contains(&format!("\"{key}\"")), "{key} {v}: {err}");
        }
    }
}
