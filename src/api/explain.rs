//! Explanations in SQL: `explain` (each feature's SHAP contribution for one lead),
//! `top_reasons` (in a rep's words) and `feature_importance` (the global picture, computed at
//! training time and read from the catalog).

use pgrx::prelude::*;
use pgrx::{AnyElement, JsonB};
use serde_json::json;

use crate::catalog::models::{load_model_row, parse_model_spec, stored_importance};
use crate::core::data::RawValue;
use crate::core::explain::{explain as explain_lead, top_reasons as reasons_of, Explanation, Importance};
use crate::errors::{bad_data, invalid, raise_core};
use crate::executor::cache::{self, LoadedModel};
use crate::executor::scoring::{json_raw_values, row_raw_values};

type ExplainRow = (String, Option<String>, f64);

fn explanation(model: &LoadedModel, raw: &[RawValue<'_>]) -> Explanation {
    let mut scratch = model.scratch.borrow_mut();
    explain_lead(&model.model, raw, &mut scratch)
        .unwrap_or_else(|e| raise_core(e.context(format!("model \"{}@{}\"", model.row.name, model.row.version))))
}

fn rows_of(e: Explanation) -> Vec<ExplainRow> {
    std::iter::once(("(baseline)".to_string(), None, e.base_value))
        .chain(e.features.into_iter().map(|c| (c.feature, c.value, c.contribution)))
        .collect()
}

/// Each feature's contribution to this lead's log-odds (SHAP values: exact for logistic, TreeSHAP
/// for gbm), one-hot levels summed into their column, plus a '(baseline)' row; all rows add up
/// to the model's log-odds before calibration.
#[pg_extern(stable, parallel_safe, strict)]
fn explain(
    model_name: &str,
    lead: AnyElement,
) -> TableIterator<'static, (name!(feature, String), name!(value, Option<String>), name!(contribution, f64))> {
    let model = cache::get(model_name);
    let raw = row_raw_values(&model, &lead);
    TableIterator::new(rows_of(explanation(&model, &raw)))
}

/// `explain` for a jsonb object with one key per feature.
#[pg_extern(stable, parallel_safe, strict, name = "explain")]
fn explain_jsonb(
    model_name: &str,
    lead: JsonB,
) -> TableIterator<'static, (name!(feature, String), name!(value, Option<String>), name!(contribution, f64))> {
    let model = cache::get(model_name);
    let raw = json_raw_values(&model, &lead);
    TableIterator::new(rows_of(explanation(&model, &raw)))
}

fn reasons_json(model: &LoadedModel, raw: &[RawValue<'_>], k: i32) -> JsonB {
    if !(1..=100).contains(&k) {
        invalid(format!("k must be between 1 and 100, got {k}"));
    }
    let e = explanation(model, raw);
    // A probability, or a regression model's predicted value (contributions in the label's unit).
    let probability = model.model.for_lead(raw).probability_from_log_odds(e.log_odds);
    let (positive, negative) = reasons_of(&e, k as usize);
    JsonB(json!({
        "model": format!("{}@{}", model.row.name, model.row.version),
        "score": probability,
        "positive": positive,
        "negative": negative,
    }))
}

/// The top `k` reasons raising and lowering this lead's score, biggest first, in words a rep
/// reads ("Lead Source = Reference: raises the score"), with the raw value, the readable
/// condition ("industry = Software", "pricing_visits 3 to < 7") and each contribution.
#[pg_extern(stable, parallel_safe, strict)]
fn top_reasons(model_name: &str, lead: AnyElement, k: default!(i32, 5)) -> JsonB {
    let model = cache::get(model_name);
    let raw = row_raw_values(&model, &lead);
    reasons_json(&model, &raw, k)
}

/// `top_reasons` for a jsonb object with one key per feature.
#[pg_extern(stable, parallel_safe, strict, name = "top_reasons")]
fn top_reasons_jsonb(model_name: &str, lead: JsonB, k: default!(i32, 5)) -> JsonB {
    let model = cache::get(model_name);
    let raw = json_raw_values(&model, &lead);
    reasons_json(&model, &raw, k)
}

/// Global importance of each feature: mean |SHAP| over the validation part (computed at
/// training), how it moves the score, and for logistic models the coefficient and odds ratio
/// per standard deviation (numeric features) or the coefficient per level (text features).
#[allow(clippy::type_complexity)]
#[pg_extern(stable, parallel_safe, strict)]
fn feature_importance(
    model_name: &str,
) -> TableIterator<
    'static,
    (
        name!(feature, String),
        name!(importance, f64),
        name!(direction, String),
        name!(coefficient, Option<f64>),
        name!(odds_ratio, Option<f64>),
        name!(level_coefficients, Option<JsonB>),
    ),
> {
    let row = load_model_row(&parse_model_spec(model_name));
    let stored = stored_importance(&row);
    let items: Vec<Importance> = serde_json::from_value(stored)
        .unwrap_or_else(|e| bad_data(format!("model \"{}@{}\" has unreadable importance: {e}", row.name, row.version)));
    TableIterator::new(items.into_iter().map(|i| {
        let levels = i
            .level_coefficients
            .map(|l| JsonB(serde_json::Value::Object(l.into_iter().map(|(level, c)| (level, json!(c))).collect())));
        (i.feature, i.importance, i.direction, i.coefficient, i.odds_ratio, levels)
    }))
}
