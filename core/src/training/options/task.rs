//! What `options.task = 'regression'` (a numeric label such as deal value) accepts: its own
//! options (value tiers by quantile), the options that do not apply to it, and its algorithm.

use serde_json::Value;

use super::choices::{Algorithm, Task};
use super::train_options::TrainOptions;
use crate::core_err;
use crate::evaluation::Tiers;
use crate::CoreResult;

/// `options.value_tiers` = `{"Gold": 0.9, "Silver": 0.6, "Bronze": 0}`: a regression model's tiers
/// at quantiles of its predicted value on the validation part ("Gold" = the top 10%).
/// Each number is the quantile (0 to 1) where the tier starts; stored as amounts after training.
pub fn parse_value_tiers(v: &Value) -> CoreResult<Tiers> {
    // The same names, uniqueness and bound checks as probability tiers: quantiles are in [0, 1].
    Tiers::from_json(v).map_err(|e| e.context("option \"value_tiers\" (quantiles of the predicted value, 0 to 1)"))
}

/// The default value tiers of a regression model: Gold the top 10% of predicted values on
/// validation, Silver the next 30%, Bronze the rest.
pub fn default_value_tiers() -> Tiers {
    Tiers::from_json(&serde_json::json!({"Gold": 0.9, "Silver": 0.6, "Bronze": 0})).expect("valid default value tiers")
}

/// Options a regression model cannot use: they are about classes or probabilities.
const CLASSIFICATION_ONLY_OPTIONS: &[&str] = &[
    "positive_label",
    "outcomes",
    "threshold",
    "calibration",
    "class_weight",
    "resample",
    "cv",
    "search",
    "segment_by",
    "segment_tiers",
    "use_feedback",
    "mature_after",
];

/// Refuses the combinations a regression cannot take, naming the option; `value_tiers` is
/// refused on a classification. Checked once the whole options object is parsed.
pub fn check_task_options(o: &TrainOptions, map: &serde_json::Map<String, Value>) -> CoreResult<()> {
    if o.task == Task::Classification {
        if map.contains_key("value_tiers") {
            return Err(core_err!(
                InvalidArgument,
                "option \"value_tiers\" applies to options.task 'regression' only; a classification's tiers are set by options.tiers"
            ));
        }
        return Ok(());
    }
    if let Some(key) = CLASSIFICATION_ONLY_OPTIONS.iter().find(|k| map.contains_key(**k)) {
        return Err(core_err!(
            InvalidArgument,
            "option \"{key}\" does not apply to options.task 'regression' (a numeric label such as deal value); remove it"
        ));
    }
    if map.contains_key("tiers") && map.contains_key("value_tiers") {
        return Err(core_err!(
            InvalidArgument,
            "options \"tiers\" (amounts) and \"value_tiers\" (quantiles) cannot be used together; choose one"
        ));
    }
    if map.get("engine").and_then(Value::as_str) == Some("aggregate") {
        return Err(core_err!(
            Unsupported,
            "options.engine 'aggregate' fits logistic classification only; a regression (options.task 'regression') is fitted in memory"
        ));
    }
    Ok(())
}

/// The algorithm a regression fits: `logistic` and `auto` mean the linear family (ridge
/// regression), `gbm` boosted trees of squared error (LightGBM's `regression` objective).
pub fn regression_algorithm(algorithm: Algorithm) -> CoreResult<Algorithm> {
    match algorithm {
        Algorithm::Logistic | Algorithm::Auto => Ok(Algorithm::Logistic),
        Algorithm::Gbm => Ok(Algorithm::Gbm),
    }
}
