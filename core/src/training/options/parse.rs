//! Parsing the `options` jsonb strictly: an unknown key or a value of the wrong type is an
//! error that names the key, never silently ignored.

use serde_json::Value;

use super::choices::Task;
use super::choices::{AlphaSpace, CalibrationChoice, ClassWeight, Engine, SearchSpec};
use super::task::{check_task_options, parse_value_tiers};
use super::train_options::*;
use crate::core_err;
use crate::data::Resample;
use crate::data::{parse_preprocess_option, PREPROCESS_KEYS};
use crate::data::{SplitMethod, SplitSpec};
use crate::evaluation::{TierScale, Tiers};
use crate::governance::{DeployPolicy, DeployRule};
use crate::models::{MAX_TREES, MAX_TREE_DEPTH};
use crate::resources::{parse_memory_size, LimitOrigin, MemoryLimit};
use crate::training::outcomes::OutcomeDefinition;
use crate::CoreResult;

/// Parses the options object. `Value::Null` means all defaults.
pub fn parse_train_options(value: &Value) -> CoreResult<TrainOptions> {
    let mut o = TrainOptions::default();
    let map = match value {
        Value::Null => return Ok(o),
        Value::Object(m) => m,
        other => return Err(core_err!(InvalidArgument, "options must be a jsonb object, got {other}")),
    };
    // `seed` first, so a split object can still override it.
    if let Some(v) = map.get("seed") {
        o.split.seed = non_negative_int("seed", v)? as u64;
    }
    // `task` first too: it decides how `tiers` is read.
    if let Some(v) = map.get("task") {
        o.task = Task::parse(v)?;
    }
    let tier_scale = if o.task == Task::Regression { TierScale::Amount } else { TierScale::Probability };
    for (key, v) in map {
        match key.as_str() {
            "seed" => {}
            "alpha" => o.alpha = non_negative("alpha", v)?,
            "class_weight" => o.class_weight = parse_class_weight(v)?,
            "exclude" => o.exclude = string_list("exclude", v)?,
            "max_iter" => o.max_iter = bounded_int("max_iter", v, MAX_ITER_BOUND)?,
            "max_memory" => {
                o.max_memory = MemoryLimit { bytes: parse_memory_size("max_memory", v)?, origin: LimitOrigin::Option }
            }
            "min_class_rows" => o.min_class_rows = positive_int("min_class_rows", v)?,
            k if PREPROCESS_KEYS.contains(&k) => parse_preprocess_option(k, v, &mut o.preprocess)?,
            "positive_label" => o.positive_label = Some(scalar_text("positive_label", v)?),
            "outcomes" => o.outcomes = Some(OutcomeDefinition::parse(v)?),
            "mature_after" => o.window.set_mature_after(v)?,
            "since" => o.window.set_since(v)?,
            "created_column" => o.window.set_created_column(v)?,
            "split" => o.split = parse_split(v, o.split.seed)?,
            "threshold" => o.threshold = Some(probability("threshold", v)?),
            // A regression's tiers are amounts of the predicted value, not probabilities.
            "tiers" => o.tiers = Some(Tiers::from_json_scaled(v, tier_scale).map_err(|e| e.context("option \"tiers\""))?),
            "task" => {}
            "value_tiers" => o.value_tiers = Some(parse_value_tiers(v)?),
            "trees" => o.gbm.trees = bounded_int("trees", v, MAX_TREES)?,
            "learning_rate" => o.gbm.learning_rate = positive_number("learning_rate", v)?,
            "max_depth" => o.gbm.max_depth = bounded_int("max_depth", v, MAX_TREE_DEPTH)?,
            "max_leaves" => o.gbm.max_leaves = bounded_int("max_leaves", v, MAX_TREE_LEAVES)?.max(2),
            "min_child_weight" => o.gbm.min_child_weight = non_negative("min_child_weight", v)?,
            "subsample" => {
                o.gbm.subsample = positive_number("subsample", v)?;
                if o.gbm.subsample > 1.0 {
                    return Err(core_err!(
                        InvalidArgument,
                        "option \"subsample\" must be above 0 and at most 1, got {}",
                        o.gbm.subsample
                    ));
                }
            }
            "l2" => o.gbm.l2 = non_negative("l2", v)?,
            "early_stopping_rounds" => {
                o.gbm.early_stopping_rounds = match non_negative_int("early_stopping_rounds", v)? {
                    0 => None,
                    k if k > MAX_TREES as u64 => {
                        return Err(core_err!(
                            InvalidArgument,
                            "option \"early_stopping_rounds\" must be at most {MAX_TREES}, got {k}"
                        ))
                    }
                    k => Some(k as usize),
                }
            }
            "threads" => {
                let t = positive_int("threads", v)?;
                if t > 64 {
                    return Err(core_err!(InvalidArgument, "option \"threads\" must be at most 64, got {t}"));
                }
                o.gbm.threads = t;
            }
            "min_gain" => o.min_gain = non_negative("min_gain", v)?,
            "calibration" => o.calibration = parse_calibration(v)?,
            "cv" => o.cv = parse_cv(v)?,
            "search" => o.search = Some(parse_search(v)?),
            "resample" => o.resample = parse_resample(v)?,
            "leakage" => o.leakage = crate::audit::parse_leakage_policy(v)?,
            "deploy" => o.deploy = DeployPolicy::parse(v)?,
            "deploy_margin" => o.deploy_margin = DeployRule::parse_margin(v)?,
            "deploy_test" => o.deploy_test_significant = DeployRule::parse_test(v)?,
            "retrain_on_alert" => o.retrain_on_alert = flag("retrain_on_alert", v)?,
            "use_feedback" => o.use_feedback = flag("use_feedback", v)?,
            "skip_unchanged" => o.skip_unchanged = flag("skip_unchanged", v)?,
            "key" => o.key = Some(scalar_text("key", v)?),
            "segment_by" => o.segment_by = Some(scalar_text("segment_by", v)?),
            "segment_tiers" => {
                o.segment_tiers = v
                    .as_bool()
                    .ok_or_else(|| core_err!(InvalidArgument, "option \"segment_tiers\" must be true or false, got {v}"))?
            }
            "engine" => o.engine = Engine::parse(v)?,
            "sample_rows" => o.sample_rows = positive_int("sample_rows", v)?,
            "tol" => {
                o.tol = non_negative("tol", v)?;
                if o.tol == 0.0 {
                    return Err(core_err!(InvalidArgument, "option \"tol\" must be greater than 0"));
                }
            }
            other => {
                return Err(core_err!(
                    InvalidArgument,
                    "unknown option \"{other}\"; known options are: {}",
                    KNOWN_OPTIONS.join(", ")
                ))
            }
        }
    }
    if o.outcomes.is_some() && o.positive_label.is_some() {
        return Err(core_err!(
            InvalidArgument,
            "options \"outcomes\" and \"positive_label\" cannot be used together; list the converted values in outcomes.converted"
        ));
    }
    o.window.check()?;
    check_task_options(&o, map)?;
    if o.segment_tiers && o.segment_by.is_none() {
        return Err(core_err!(
            InvalidArgument,
            "option \"segment_tiers\" needs option \"segment_by\", the column whose segments get their own tiers"
        ));
    }
    if o.segment_tiers && (o.tiers.is_some() || o.threshold.is_some()) {
        return Err(core_err!(
            InvalidArgument,
            "option \"segment_tiers\" chooses each segment's threshold and tiers; it cannot be combined with options \"tiers\" or \"threshold\""
        ));
    }
    o.deploy_rule().check(map.contains_key("deploy_margin"), map.contains_key("deploy_test"))?;
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
        _ => Err(core_err!(
            InvalidArgument,
            "option \"calibration\" must be \"platt\", \"isotonic\", \"none\" or \"auto\", got {v}"
        )),
    }
}

fn parse_cv(v: &Value) -> CoreResult<Option<usize>> {
    match v {
        Value::Bool(true) => Ok(Some(5)),
        Value::Bool(false) | Value::Null => Ok(None),
        _ => match v.as_u64() {
            Some(k) if (2..=20).contains(&k) => Ok(Some(k as usize)),
            _ => Err(core_err!(InvalidArgument, "option \"cv\" must be true, false or a number of folds from 2 to 20, got {v}")),
        },
    }
}

fn parse_search(v: &Value) -> CoreResult<SearchSpec> {
    let m = v.as_object().ok_or_else(|| {
        core_err!(InvalidArgument, "option \"search\" must be an object like {{\"alpha\": [0.1, 1, 10]}}, got {v}")
    })?;
    let mut method = "grid";
    let mut n_iter = 10usize;
    let mut alphas = AlphaSpace::List(vec![1.0]);
    let mut class_weights = Vec::new();
    let (mut learning_rates, mut max_depths, mut max_leaves) = (Vec::new(), Vec::new(), Vec::new());
    let list = |key: &str, x: &Value| -> CoreResult<Vec<Value>> {
        x.as_array()
            .filter(|a| !a.is_empty())
            .cloned()
            .ok_or_else(|| core_err!(InvalidArgument, "option \"search.{key}\" must be a non-empty array, got {x}"))
    };
    for (key, x) in m {
        match key.as_str() {
            "method" => {
                method = x.as_str().filter(|s| *s == "grid" || *s == "random").ok_or_else(|| {
                    core_err!(InvalidArgument, "option \"search.method\" must be \"grid\" or \"random\", got {x}")
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
                                _ => Err(core_err!(InvalidArgument, "option \"search.alpha.{k}\" must be a positive number")),
                            }
                        };
                        let (min, max) = (bound("min")?, bound("max")?);
                        if min >= max {
                            return Err(core_err!(InvalidArgument, "option \"search.alpha\" needs min below max"));
                        }
                        AlphaSpace::LogRange { min, max }
                    }
                    _ => return Err(core_err!(InvalidArgument, "option \"search.alpha\" must be a non-empty array or {{\"min\": .., \"max\": ..}}, got {x}")),
                }
            }
            "class_weight" => {
                let items = x.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
                    core_err!(InvalidArgument, "option \"search.class_weight\" must be a non-empty array, got {x}")
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
                    InvalidArgument,
                    "unknown option \"search.{other}\"; known search options are: method, n_iter, alpha, class_weight, learning_rate, max_depth, max_leaves"
                ))
            }
        }
    }
    if method == "grid" && matches!(alphas, AlphaSpace::LogRange { .. }) {
        return Err(core_err!(InvalidArgument, "a grid search needs \"alpha\" as a list; a range needs \"method\": \"random\""));
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
                InvalidArgument,
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
            m.get("method")
                .and_then(Value::as_str)
                .ok_or_else(|| core_err!(InvalidArgument, "option \"resample.method\" must be \"smote\" or \"undersample\""))?,
            Some(m),
        ),
        _ => {
            return Err(core_err!(
                InvalidArgument,
                "option \"resample\" must be \"smote\", \"undersample\", \"none\" or an object, got {v}"
            ))
        }
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
                        return Err(core_err!(
                            InvalidArgument,
                            "option \"resample.ratio\" must be above 0 and at most 1, got {ratio}"
                        ));
                    }
                }
                other => {
                    return Err(core_err!(
                        InvalidArgument,
                        "unknown option \"resample.{other}\"; known resample options are: method, k, ratio"
                    ))
                }
            }
        }
    }
    match method {
        "none" => Ok(Resample::None),
        "smote" => Ok(Resample::Smote { k, ratio }),
        "undersample" => Ok(Resample::Undersample { ratio }),
        other => Err(core_err!(InvalidArgument, "unknown resample method \"{other}\"; use smote, undersample or none")),
    }
}

fn number(key: &str, v: &Value) -> CoreResult<f64> {
    v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| core_err!(InvalidArgument, "option \"{key}\" must be a number, got {v}"))
}

fn positive_number(key: &str, v: &Value) -> CoreResult<f64> {
    let x = number(key, v)?;
    if x <= 0.0 {
        return Err(core_err!(InvalidArgument, "option \"{key}\" must be greater than 0, got {x}"));
    }
    Ok(x)
}

fn non_negative(key: &str, v: &Value) -> CoreResult<f64> {
    let x = number(key, v)?;
    if x < 0.0 {
        return Err(core_err!(InvalidArgument, "option \"{key}\" must not be negative, got {x}"));
    }
    Ok(x)
}

fn probability(key: &str, v: &Value) -> CoreResult<f64> {
    let x = number(key, v)?;
    if !(x > 0.0 && x < 1.0) {
        return Err(core_err!(InvalidArgument, "option \"{key}\" must be between 0 and 1 (exclusive), got {x}"));
    }
    Ok(x)
}

fn non_negative_int(key: &str, v: &Value) -> CoreResult<u64> {
    v.as_u64().ok_or_else(|| core_err!(InvalidArgument, "option \"{key}\" must be a non-negative integer, got {v}"))
}

fn positive_int(key: &str, v: &Value) -> CoreResult<usize> {
    match v.as_u64() {
        Some(x) if x > 0 => Ok(x as usize),
        _ => Err(core_err!(InvalidArgument, "option \"{key}\" must be a positive integer, got {v}")),
    }
}

/// A positive whole number no larger than `max`.
fn bounded_int(key: &str, v: &Value, max: usize) -> CoreResult<usize> {
    let x = positive_int(key, v)?;
    if x > max {
        return Err(core_err!(InvalidArgument, "option \"{key}\" must be at most {max}, got {x}"));
    }
    Ok(x)
}

fn string_list(key: &str, v: &Value) -> CoreResult<Vec<String>> {
    let items =
        v.as_array().ok_or_else(|| core_err!(InvalidArgument, "option \"{key}\" must be an array of strings, got {v}"))?;
    items
        .iter()
        .map(|i| {
            i.as_str()
                .map(str::to_string)
                .ok_or_else(|| core_err!(InvalidArgument, "option \"{key}\" must be an array of strings, got {i}"))
        })
        .collect()
}

/// A label value given as a string, number or boolean, compared as Postgres prints it.
fn flag(key: &str, v: &Value) -> CoreResult<bool> {
    v.as_bool().ok_or_else(|| core_err!(InvalidArgument, "option \"{key}\" must be true or false, got {v}"))
}

fn scalar_text(key: &str, v: &Value) -> CoreResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(core_err!(InvalidArgument, "option \"{key}\" must be a string, number or boolean, got {other}")),
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
                return Err(core_err!(InvalidArgument, "option \"class_weight\" must be positive, got {w}"));
            }
            Ok(ClassWeight::Positive(w))
        }
        other => Err(core_err!(
            InvalidArgument,
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
                x.as_str().ok_or_else(|| core_err!(InvalidArgument, "option \"split.method\" must be a string, got {x}"))
            })?;
            (method, Some(m))
        }
        other => {
            return Err(core_err!(
                InvalidArgument,
                "option \"split\" must be an object like {{\"method\": \"stratified\"}}, got {other}"
            ))
        }
    };
    let mut column = None;
    if let Some(m) = map {
        for (key, x) in m {
            match key.as_str() {
                "method" => {}
                "column" => {
                    column = Some(
                        x.as_str()
                            .ok_or_else(|| core_err!(InvalidArgument, "option \"split.column\" must be a string, got {x}"))?
                            .to_string(),
                    )
                }
                "train" => spec.train_fraction = probability("split.train", x)?,
                "validation" => spec.validation_fraction = probability("split.validation", x)?,
                "seed" => spec.seed = non_negative_int("split.seed", x)?,
                other => {
                    return Err(core_err!(
                        InvalidArgument,
                        "unknown option \"split.{other}\"; known split options are: method, column, train, validation, seed"
                    ))
                }
            }
        }
    }
    let need_column = |m: &str| column.clone().ok_or_else(|| core_err!(InvalidArgument, "split method \"{m}\" needs \"column\""));
    let no_column = |m: &str| {
        match &column {
        Some(c) => Err(core_err!(
            InvalidArgument,
            "split method \"{m}\" takes no \"column\" (got \"{c}\"); to split by a column's values use {{\"method\": \"column\", \"column\": \"{c}\"}}"
        )),
        None => Ok(()),
    }
    };
    spec.method = match method {
        "stratified" => no_column("stratified").map(|_| SplitMethod::Stratified)?,
        "random" => no_column("random").map(|_| SplitMethod::Random)?,
        "time" => SplitMethod::Time { column: need_column("time")? },
        "group" => SplitMethod::Group { column: need_column("group")? },
        "column" => SplitMethod::Column { column: need_column("column")? },
        other => {
            return Err(core_err!(
                InvalidArgument,
                "unknown split method \"{other}\"; use stratified, random, time, group or column"
            ))
        }
    };
    if spec.train_fraction + spec.validation_fraction >= 1.0 {
        return Err(core_err!(InvalidArgument, "split fractions train + validation must be below 1 to leave a test part"));
    }
    Ok(spec)
}
