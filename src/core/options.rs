//! The `options` jsonb of `train()`, parsed strictly: an unknown key or a value of the wrong
//! type is an error that names the key, never silently ignored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::preprocess::PreprocessOptions;
use super::split::{SplitMethod, SplitSpec};
use super::tiers::Tiers;
use super::CoreResult;
use crate::core_err;

/// How the two classes are weighted in the fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ClassWeight {
    /// Every row weighs 1.
    None,
    /// Each class weighs n / (2 * rows of that class), as scikit-learn's "balanced".
    Balanced,
    /// Positive rows weigh this much, negative rows 1.
    Positive(f64),
}

impl ClassWeight {
    /// (negative weight, positive weight) for a training part with these counts.
    pub fn weights(self, negatives: usize, positives: usize) -> (f64, f64) {
        match self {
            ClassWeight::None => (1.0, 1.0),
            ClassWeight::Positive(w) => (1.0, w),
            ClassWeight::Balanced => {
                let n = (negatives + positives) as f64;
                (n / (2.0 * negatives as f64), n / (2.0 * positives as f64))
            }
        }
    }
}

/// Everything `train()` can be told through `options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub split: SplitSpec,
    /// L2 penalty (1/C in scikit-learn terms).
    pub alpha: f64,
    pub class_weight: ClassWeight,
    pub preprocess: PreprocessOptions,
    /// Columns never used as features.
    pub exclude: Vec<String>,
    /// The label value that means "converted", for labels that are not boolean or 0/1.
    pub positive_label: Option<String>,
    pub tiers: Option<Tiers>,
    /// A fixed decision threshold instead of the F1-maximizing one.
    pub threshold: Option<f64>,
    pub max_iter: usize,
    pub tol: f64,
    /// Minimum rows of each class in the training part.
    pub min_class_rows: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            split: SplitSpec::default(),
            alpha: 1.0,
            class_weight: ClassWeight::None,
            preprocess: PreprocessOptions::default(),
            exclude: Vec::new(),
            positive_label: None,
            tiers: None,
            threshold: None,
            max_iter: 100,
            tol: 1e-8,
            min_class_rows: 10,
        }
    }
}

pub const KNOWN_OPTIONS: &[&str] = &[
    "alpha",
    "class_weight",
    "exclude",
    "max_iter",
    "min_class_rows",
    "min_level_count",
    "missing_values",
    "positive_label",
    "seed",
    "split",
    "threshold",
    "tiers",
    "tol",
];

/// Parses the options object. `Value::Null` means all defaults.
pub fn parse_train_options(value: &Value) -> CoreResult<TrainOptions> {
    let mut o = TrainOptions::default();
    let map = match value {
        Value::Null => return Ok(o),
        Value::Object(m) => m,
        other => return Err(core_err!("options must be a jsonb object, got {other}")),
    };
    // `seed` first, so a split object can still override it.
    if let Some(v) = map.get("seed") {
        o.split.seed = non_negative_int("seed", v)? as u64;
    }
    for (key, v) in map {
        match key.as_str() {
            "seed" => {}
            "alpha" => o.alpha = non_negative("alpha", v)?,
            "class_weight" => o.class_weight = parse_class_weight(v)?,
            "exclude" => o.exclude = string_list("exclude", v)?,
            "max_iter" => o.max_iter = positive_int("max_iter", v)?,
            "min_class_rows" => o.min_class_rows = positive_int("min_class_rows", v)?,
            "min_level_count" => o.preprocess.min_level_count = positive_int("min_level_count", v)?,
            "missing_values" => o.preprocess.missing_values = string_list("missing_values", v)?,
            "positive_label" => o.positive_label = Some(scalar_text("positive_label", v)?),
            "split" => o.split = parse_split(v, o.split.seed)?,
            "threshold" => o.threshold = Some(probability("threshold", v)?),
            "tiers" => o.tiers = Some(Tiers::from_json(v).map_err(|e| core_err!("option \"tiers\": {e}"))?),
            "tol" => {
                o.tol = non_negative("tol", v)?;
                if o.tol == 0.0 {
                    return Err(core_err!("option \"tol\" must be greater than 0"));
                }
            }
            other => {
                return Err(core_err!("unknown option \"{other}\"; known options are: {}", KNOWN_OPTIONS.join(", ")))
            }
        }
    }
    Ok(o)
}

fn number(key: &str, v: &Value) -> CoreResult<f64> {
    v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| core_err!("option \"{key}\" must be a number, got {v}"))
}

fn non_negative(key: &str, v: &Value) -> CoreResult<f64> {
    let x = number(key, v)?;
    if x < 0.0 {
        return Err(core_err!("option \"{key}\" must not be negative, got {x}"));
    }
    Ok(x)
}

fn probability(key: &str, v: &Value) -> CoreResult<f64> {
    let x = number(key, v)?;
    if !(x > 0.0 && x < 1.0) {
        return Err(core_err!("option \"{key}\" must be between 0 and 1 (exclusive), got {x}"));
    }
    Ok(x)
}

fn non_negative_int(key: &str, v: &Value) -> CoreResult<u64> {
    v.as_u64().ok_or_else(|| core_err!("option \"{key}\" must be a non-negative integer, got {v}"))
}

fn positive_int(key: &str, v: &Value) -> CoreResult<usize> {
    match v.as_u64() {
        Some(x) if x > 0 => Ok(x as usize),
        _ => Err(core_err!("option \"{key}\" must be a positive integer, got {v}")),
    }
}

fn string_list(key: &str, v: &Value) -> CoreResult<Vec<String>> {
    let items = v.as_array().ok_or_else(|| core_err!("option \"{key}\" must be an array of strings, got {v}"))?;
    items
        .iter()
        .map(|i| i.as_str().map(str::to_string).ok_or_else(|| core_err!("option \"{key}\" must be an array of strings, got {i}")))
        .collect()
}

/// A label value given as a string, number or boolean, compared as Postgres prints it.
fn scalar_text(key: &str, v: &Value) -> CoreResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(core_err!("option \"{key}\" must be a string, number or boolean, got {other}")),
    }
}

fn parse_class_weight(v: &Value) -> CoreResult<ClassWeight> {
    match v {
        Value::Null => Ok(ClassWeight::None),
        Value::String(s) if s == "balanced" => Ok(ClassWeight::Balanced),
        Value::String(s) if s == "none" => Ok(ClassWeight::None),
        Value::Number(_) => {
            let w = number("class_weight", v)?;
            if w <= 0.0 {
                return Err(core_err!("option \"class_weight\" must be positive, got {w}"));
            }
            Ok(ClassWeight::Positive(w))
        }
        other => Err(core_err!(
            "option \"class_weight\" must be \"balanced\", \"none\" or the positive class's weight as a number, got {other}"
        )),
    }
}

fn parse_split(v: &Value, seed: u64) -> CoreResult<SplitSpec> {
    let mut spec = SplitSpec { seed, ..SplitSpec::default() };
    let (method, map) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(m) => {
            let method = m.get("method").map_or(Ok("stratified"), |x| {
                x.as_str().ok_or_else(|| core_err!("option \"split.method\" must be a string, got {x}"))
            })?;
            (method, Some(m))
        }
        other => return Err(core_err!("option \"split\" must be an object like {{\"method\": \"stratified\"}}, got {other}")),
    };
    let mut column = None;
    if let Some(m) = map {
        for (key, x) in m {
            match key.as_str() {
                "method" => {}
                "column" => {
                    column = Some(x.as_str().ok_or_else(|| core_err!("option \"split.column\" must be a string, got {x}"))?.to_string())
                }
                "train" => spec.train_fraction = probability("split.train", x)?,
                "validation" => spec.validation_fraction = probability("split.validation", x)?,
                "seed" => spec.seed = non_negative_int("split.seed", x)?,
                other => {
                    return Err(core_err!(
                        "unknown option \"split.{other}\"; known split options are: method, column, train, validation, seed"
                    ))
                }
            }
        }
    }
    let need_column = |m: &str| column.clone().ok_or_else(|| core_err!("split method \"{m}\" needs \"column\""));
    spec.method = match method {
        "stratified" => SplitMethod::Stratified,
        "random" => SplitMethod::Random,
        "time" => SplitMethod::Time { column: need_column("time")? },
        "group" => SplitMethod::Group { column: need_column("group")? },
        "column" => SplitMethod::Column { column: need_column("column")? },
        other => {
            return Err(core_err!(
                "unknown split method \"{other}\"; use stratified, random, time, group or column"
            ))
        }
    };
    if spec.train_fraction + spec.validation_fraction >= 1.0 {
        return Err(core_err!("split fractions train + validation must be below 1 to leave a test part"));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults() {
        let o = parse_train_options(&json!({})).unwrap();
        assert_eq!(o, TrainOptions::default());
        assert_eq!(parse_train_options(&Value::Null).unwrap(), TrainOptions::default());
    }

    #[test]
    fn every_documented_option_parses() {
        let o = parse_train_options(&json!({
            "alpha": 0.5, "class_weight": "balanced", "exclude": ["id"], "max_iter": 50,
            "min_level_count": 5, "missing_values": ["", "N/A"], "positive_label": "won",
            "seed": 7, "split": {"method": "time", "column": "created_at"},
            "tiers": {"A": 0.5, "B": 0}, "tol": 1e-6, "threshold": 0.4, "min_class_rows": 20
        }))
        .unwrap();
        assert_eq!(o.alpha, 0.5);
        assert_eq!(o.class_weight, ClassWeight::Balanced);
        assert_eq!(o.split.seed, 7);
        assert_eq!(o.split.method, SplitMethod::Time { column: "created_at".into() });
        assert_eq!(o.preprocess.min_level_count, 5);
        assert_eq!(o.positive_label.as_deref(), Some("won"));
        assert_eq!(o.threshold, Some(0.4));
        assert_eq!(parse_train_options(&json!({"positive_label": 2})).unwrap().positive_label.as_deref(), Some("2"));
        assert_eq!(parse_train_options(&json!({"class_weight": 3})).unwrap().class_weight, ClassWeight::Positive(3.0));
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (json!({"alhpa": 1}), "\"alhpa\""),
            (json!({"alpha": "big"}), "\"alpha\""),
            (json!({"alpha": -1}), "\"alpha\""),
            (json!({"class_weight": "heavy"}), "\"class_weight\""),
            (json!({"exclude": "id"}), "\"exclude\""),
            (json!({"split": {"method": "time"}}), "needs \"column\""),
            (json!({"split": {"method": "kfold"}}), "\"kfold\""),
            (json!({"split": {"colum": "x"}}), "\"split.colum\""),
            (json!({"threshold": 1.0}), "\"threshold\""),
            (json!({"min_level_count": 0}), "\"min_level_count\""),
            (json!({"tiers": {"hot": 2}}), "\"tiers\""),
            (json!([1]), "object"),
        ];
        for (v, needle) in cases {
            let err = parse_train_options(&v).unwrap_err();
            assert!(err.0.contains(needle), "{v}: {err}");
        }
    }

    #[test]
    fn balanced_weights_match_scikit_learn() {
        assert_eq!(ClassWeight::Balanced.weights(75, 25), (100.0 / 150.0, 2.0));
        assert_eq!(ClassWeight::Positive(3.0).weights(1, 1), (1.0, 3.0));
    }
}
