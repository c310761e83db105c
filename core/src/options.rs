//! The `options` jsonb of `train()`, parsed strictly: an unknown key or a value of the wrong
//! type is an error that names the key, never silently ignored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::gbm::GbmOptions;
use super::memory::{parse_memory_size, LimitOrigin, MemoryLimit};
use super::governance::DeployPolicy;
use super::preprocess::PreprocessOptions;
use super::preprocess_options::{parse_preprocess_option, PREPROCESS_KEYS};
use super::resample::Resample;
use super::split::{SplitMethod, SplitSpec};
use super::tiers::Tiers;
use super::CoreResult;
use crate::core_err;

/// Upper bounds of the size options, checked before any work so an absurd value is an error
/// naming the option instead of hours of work or an allocation that cannot succeed.
pub const MAX_ITER_BOUND: usize = 10_000;
pub const MAX_TREES: usize = 100_000;
pub const MAX_TREE_DEPTH: usize = 64;
pub const MAX_TREE_LEAVES: usize = 65_536;
pub const MAX_SEARCH_CANDIDATES: usize = 1_000;
pub const MAX_SMOTE_NEIGHBOURS: usize = 100;

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

/// Which estimator to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    Logistic,
    Gbm,
    /// Fit both; keep logistic unless gbm wins on validation ROC AUC by more than `min_gain`.
    Auto,
}

impl Algorithm {
    pub const NAMES: &'static [&'static str] = &["logistic", "gbm", "auto"];

    pub fn parse(name: &str) -> CoreResult<Algorithm> {
        match name {
            "logistic" => Ok(Algorithm::Logistic),
            "gbm" => Ok(Algorithm::Gbm),
            "auto" => Ok(Algorithm::Auto),
            other => Err(core_err!("unknown algorithm \"{other}\"; available: {}", Algorithm::NAMES.join(", "))),
        }
    }
}

/// Probability calibration fitted on the validation part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CalibrationChoice {
    /// Platt when class weights or resampling distort probabilities, otherwise none.
    Auto,
    None,
    Platt,
    Isotonic,
}

/// Hyperparameter search scored by cross-validated ROC AUC on the training part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchSpec {
    /// Every combination (grid) or `n_iter` of them drawn with the seed (random).
    pub random_iterations: Option<usize>,
    pub alphas: AlphaSpace,
    pub class_weights: Vec<ClassWeight>,
    /// Booster settings to try (empty: keep the configured one).
    pub learning_rates: Vec<f64>,
    pub max_depths: Vec<usize>,
    pub max_leaves: Vec<usize>,
}

/// Candidate alphas: a list, or a log-uniform range for random search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlphaSpace {
    List(Vec<f64>),
    LogRange { min: f64, max: f64 },
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
    pub calibration: CalibrationChoice,
    /// Folds of cross-validation on the training part, if any.
    pub cv: Option<usize>,
    pub search: Option<SearchSpec>,
    /// Resampling of the training part only.
    pub resample: Resample,
    /// Set from train()'s `algorithm` argument.
    pub algorithm: Algorithm,
    pub gbm: GbmOptions,
    /// How much better (validation ROC AUC) gbm must be for `auto` to prefer it.
    pub min_gain: f64,
    /// What to do with leakage suspects (see core::audit).
    pub leakage: super::audit::LeakagePolicy,
    /// Whether retraining deploys the new version (issue 6, `core::governance`).
    pub deploy: DeployPolicy,
    /// Apply rep feedback (`lead_scoring.lead_feedback`) to the labels, matched on `key`.
    pub use_feedback: bool,
    /// The source's lead key column (matched against the feedback's lead_key as text).
    pub key: Option<String>,
    /// Train one model per value of this feature column, plus the global fallback.
    pub segment_by: Option<String>,
    /// How a logistic model is fitted: in memory or by aggregate passes (issue 8, `core::aggregate_fit`).
    pub engine: super::aggregate_fit::Engine,
    /// The most memory this training may use (`options.max_memory`, else the
    /// `lead_scoring.max_memory` setting, else a quarter of the machine).
    pub max_memory: MemoryLimit,
}

impl TrainOptions {
    /// The calibration to fit: `auto` means Platt exactly when class weights or resampling
    /// shift the predicted probabilities away from the real conversion rate.
    pub fn effective_calibration(&self) -> CalibrationChoice {
        match self.calibration {
            CalibrationChoice::Auto if self.class_weight != ClassWeight::None || self.resample != Resample::None => {
                CalibrationChoice::Platt
            }
            CalibrationChoice::Auto => CalibrationChoice::None,
            other => other,
        }
    }
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
            calibration: CalibrationChoice::Auto,
            cv: None,
            search: None,
            resample: Resample::None,
            algorithm: Algorithm::Logistic,
            gbm: GbmOptions::default(),
            min_gain: 0.01,
            leakage: super::audit::LeakagePolicy::Warn,
            deploy: DeployPolicy::IfBetter,
            use_feedback: false,
            key: None,
            segment_by: None,
            engine: super::aggregate_fit::Engine::Auto,
            max_memory: MemoryLimit::default(),
        }
    }
}

pub const KNOWN_OPTIONS: &[&str] = &[
    "alpha",
    "as_of",
    "bins",
    "calibration",
    "class_weight",
    "cv",
    "deploy",
    "early_stopping_rounds",
    "engine",
    "exclude",
    "interactions",
    "key",
    "l2",
    "leakage",
    "learning_rate",
    "log",
    "max_depth",
    "max_iter",
    "max_leaves",
    "max_levels",
    "max_memory",
    "min_child_weight",
    "min_class_rows",
    "min_gain",
    "min_level_count",
    "missing_values",
    "positive_label",
    "resample",
    "search",
    "seed",
    "segment_by",
    "split",
    "subsample",
    "threads",
    "threshold",
    "tiers",
    "tol",
    "trees",
    "use_feedback",
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
            "max_iter" => o.max_iter = bounded_int("max_iter", v, MAX_ITER_BOUND)?,
            "max_memory" => o.max_memory = MemoryLimit { bytes: parse_memory_size("max_memory", v)?, origin: LimitOrigin::Option },
            "min_class_rows" => o.min_class_rows = positive_int("min_class_rows", v)?,
            k if PREPROCESS_KEYS.contains(&k) => parse_preprocess_option(k, v, &mut o.preprocess)?,
            "positive_label" => o.positive_label = Some(scalar_text("positive_label", v)?),
            "split" => o.split = parse_split(v, o.split.seed)?,
            "threshold" => o.threshold = Some(probability("threshold", v)?),
            "tiers" => o.tiers = Some(Tiers::from_json(v).map_err(|e| core_err!("option \"tiers\": {e}"))?),
            "trees" => o.gbm.trees = bounded_int("trees", v, MAX_TREES)?,
            "learning_rate" => o.gbm.learning_rate = positive_number("learning_rate", v)?,
            "max_depth" => o.gbm.max_depth = bounded_int("max_depth", v, MAX_TREE_DEPTH)?,
            "max_leaves" => o.gbm.max_leaves = bounded_int("max_leaves", v, MAX_TREE_LEAVES)?.max(2),
            "min_child_weight" => o.gbm.min_child_weight = non_negative("min_child_weight", v)?,
            "subsample" => {
                o.gbm.subsample = positive_number("subsample", v)?;
                if o.gbm.subsample > 1.0 {
                    return Err(core_err!("option \"subsample\" must be above 0 and at most 1, got {}", o.gbm.subsample));
                }
            }
            "l2" => o.gbm.l2 = non_negative("l2", v)?,
            "early_stopping_rounds" => {
                o.gbm.early_stopping_rounds = match non_negative_int("early_stopping_rounds", v)? {
                    0 => None,
                    k if k > MAX_TREES as u64 => {
                        return Err(core_err!("option \"early_stopping_rounds\" must be at most {MAX_TREES}, got {k}"))
                    }
                    k => Some(k as usize),
                }
            }
            "threads" => {
                let t = positive_int("threads", v)?;
                if t > 64 {
                    return Err(core_err!("option \"threads\" must be at most 64, got {t}"));
                }
                o.gbm.threads = t;
            }
            "min_gain" => o.min_gain = non_negative("min_gain", v)?,
            "calibration" => o.calibration = parse_calibration(v)?,
            "cv" => o.cv = parse_cv(v)?,
            "search" => o.search = Some(parse_search(v)?),
            "resample" => o.resample = parse_resample(v)?,
            "leakage" => o.leakage = super::audit::parse_leakage_policy(v)?,
            "deploy" => o.deploy = DeployPolicy::parse(v)?,
            "use_feedback" => {
                o.use_feedback = v.as_bool().ok_or_else(|| core_err!("option \"use_feedback\" must be true or false, got {v}"))?
            }
            "key" => o.key = Some(scalar_text("key", v)?),
            "segment_by" => o.segment_by = Some(scalar_text("segment_by", v)?),
            "engine" => o.engine = super::aggregate_fit::Engine::parse(v)?,
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
    if o.search.is_some() && o.cv.is_none() {
        o.cv = Some(5);
    }
    Ok(o)
}

fn parse_calibration(v: &Value) -> CoreResult<CalibrationChoice> {
    match v.as_str() {
        Some("auto") => Ok(CalibrationChoice::Auto),
        Some("none") => Ok(CalibrationChoice::None),
        Some("platt") => Ok(CalibrationChoice::Platt),
        Some("isotonic") => Ok(CalibrationChoice::Isotonic),
        _ => Err(core_err!("option \"calibration\" must be \"platt\", \"isotonic\", \"none\" or \"auto\", got {v}")),
    }
}

fn parse_cv(v: &Value) -> CoreResult<Option<usize>> {
    match v {
        Value::Bool(true) => Ok(Some(5)),
        Value::Bool(false) | Value::Null => Ok(None),
        _ => match v.as_u64() {
            Some(k) if (2..=20).contains(&k) => Ok(Some(k as usize)),
            _ => Err(core_err!("option \"cv\" must be true, false or a number of folds from 2 to 20, got {v}")),
        },
    }
}

fn parse_search(v: &Value) -> CoreResult<SearchSpec> {
    let m = v.as_object().ok_or_else(|| core_err!("option \"search\" must be an object like {{\"alpha\": [0.1, 1, 10]}}, got {v}"))?;
    let mut method = "grid";
    let mut n_iter = 10usize;
    let mut alphas = AlphaSpace::List(vec![1.0]);
    let mut class_weights = Vec::new();
    let (mut learning_rates, mut max_depths, mut max_leaves) = (Vec::new(), Vec::new(), Vec::new());
    let list = |key: &str, x: &Value| -> CoreResult<Vec<Value>> {
        x.as_array().filter(|a| !a.is_empty()).cloned().ok_or_else(|| core_err!("option \"search.{key}\" must be a non-empty array, got {x}"))
    };
    for (key, x) in m {
        match key.as_str() {
            "method" => {
                method = x.as_str().filter(|s| *s == "grid" || *s == "random").ok_or_else(|| {
                    core_err!("option \"search.method\" must be \"grid\" or \"random\", got {x}")
                })?
            }
            "n_iter" => n_iter = bounded_int("search.n_iter", x, MAX_SEARCH_CANDIDATES)?,
            "alpha" => {
                alphas = match x {
                    Value::Array(items) if !items.is_empty() => AlphaSpace::List(
                        items.iter().map(|i| non_negative("search.alpha", i)).collect::<CoreResult<_>>()?,
                    ),
                    Value::Object(r) => {
                        let bound = |k: &str| -> CoreResult<f64> {
                            match r.get(k).and_then(Value::as_f64) {
                                Some(b) if b > 0.0 && b.is_finite() => Ok(b),
                                _ => Err(core_err!("option \"search.alpha.{k}\" must be a positive number")),
                            }
                        };
                        let (min, max) = (bound("min")?, bound("max")?);
                        if min >= max {
                            return Err(core_err!("option \"search.alpha\" needs min below max"));
                        }
                        AlphaSpace::LogRange { min, max }
                    }
                    _ => return Err(core_err!("option \"search.alpha\" must be a non-empty array or {{\"min\": .., \"max\": ..}}, got {x}")),
                }
            }
            "class_weight" => {
                let items = x.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
                    core_err!("option \"search.class_weight\" must be a non-empty array, got {x}")
                })?;
                class_weights = items.iter().map(parse_class_weight).collect::<CoreResult<_>>()?;
            }
            "learning_rate" => {
                learning_rates = list("learning_rate", x)?.iter().map(|i| positive_number("search.learning_rate", i)).collect::<CoreResult<_>>()?
            }
            "max_depth" => {
                max_depths =
                    list("max_depth", x)?.iter().map(|i| bounded_int("search.max_depth", i, MAX_TREE_DEPTH)).collect::<CoreResult<_>>()?
            }
            "max_leaves" => {
                max_leaves =
                    list("max_leaves", x)?.iter().map(|i| bounded_int("search.max_leaves", i, MAX_TREE_LEAVES)).collect::<CoreResult<_>>()?
            }
            other => {
                return Err(core_err!(
                    "unknown option \"search.{other}\"; known search options are: method, n_iter, alpha, class_weight, learning_rate, max_depth, max_leaves"
                ))
            }
        }
    }
    if method == "grid" && matches!(alphas, AlphaSpace::LogRange { .. }) {
        return Err(core_err!("a grid search needs \"alpha\" as a list; a range needs \"method\": \"random\""));
    }
    if method == "grid" {
        // Every combination is fitted once per fold: bound the product, not each list.
        let alpha_count = match &alphas {
            AlphaSpace::List(a) => a.len(),
            AlphaSpace::LogRange { .. } => 1,
        };
        let combinations = [alpha_count, class_weights.len(), learning_rates.len(), max_depths.len(), max_leaves.len()]
            .iter()
            .try_fold(1usize, |acc, &k| acc.checked_mul(k.max(1)));
        if combinations.is_none_or(|c| c > MAX_SEARCH_CANDIDATES) {
            return Err(core_err!(
                "option \"search\" makes a grid of {} combinations; at most {MAX_SEARCH_CANDIDATES} are allowed (use \"method\": \"random\" with \"n_iter\")",
                combinations.map_or_else(|| "more".to_string(), |c| c.to_string())
            ));
        }
    }
    Ok(SearchSpec {
        random_iterations: (method == "random").then_some(n_iter),
        alphas,
        class_weights,
        learning_rates,
        max_depths,
        max_leaves,
    })
}

fn parse_resample(v: &Value) -> CoreResult<Resample> {
    let (method, map) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(m) => (
            m.get("method").and_then(Value::as_str).ok_or_else(|| core_err!("option \"resample.method\" must be \"smote\" or \"undersample\""))?,
            Some(m),
        ),
        _ => return Err(core_err!("option \"resample\" must be \"smote\", \"undersample\", \"none\" or an object, got {v}")),
    };
    let mut k = 5usize;
    let mut ratio = 1.0f64;
    if let Some(m) = map {
        for (key, x) in m {
            match key.as_str() {
                "method" => {}
                "k" => k = bounded_int("resample.k", x, MAX_SMOTE_NEIGHBOURS)?,
                "ratio" => {
                    ratio = number("resample.ratio", x)?;
                    if !(ratio > 0.0 && ratio <= 1.0) {
                        return Err(core_err!("option \"resample.ratio\" must be above 0 and at most 1, got {ratio}"));
                    }
                }
                other => return Err(core_err!("unknown option \"resample.{other}\"; known resample options are: method, k, ratio")),
            }
        }
    }
    match method {
        "none" => Ok(Resample::None),
        "smote" => Ok(Resample::Smote { k, ratio }),
        "undersample" => Ok(Resample::Undersample { ratio }),
        other => Err(core_err!("unknown resample method \"{other}\"; use smote, undersample or none")),
    }
}

fn number(key: &str, v: &Value) -> CoreResult<f64> {
    v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| core_err!("option \"{key}\" must be a number, got {v}"))
}

fn positive_number(key: &str, v: &Value) -> CoreResult<f64> {
    let x = number(key, v)?;
    if x <= 0.0 {
        return Err(core_err!("option \"{key}\" must be greater than 0, got {x}"));
    }
    Ok(x)
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

/// A positive whole number no larger than `max`.
fn bounded_int(key: &str, v: &Value, max: usize) -> CoreResult<usize> {
    let x = positive_int(key, v)?;
    if x > max {
        return Err(core_err!("option \"{key}\" must be at most {max}, got {x}"));
    }
    Ok(x)
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
#[path = "options_tests.rs"]
mod tests;
