//! Value-based scoring: `expected_value(model, value_model, lead)` = the classification model's
//! probability that the lead converts x the regression model's predicted deal value, and
//! `expected_value_tier`, the lead's tier by that amount.

use pgrx::prelude::*;
use pgrx::{AnyElement, JsonB};

use crate::core::evaluation::{TierScale, Tiers};
use crate::errors::raise_core;
use crate::executor::cache::{self, LoadedModel};
use crate::executor::scoring::{
    expected_value_of, json_raw_values, probability, require_probability_model, require_value_model, row_raw_values,
};

/// The two models, checked: `model` a classification, `value_model` a regression.
fn models(model_name: &str, value_model: &str) -> (std::rc::Rc<LoadedModel>, std::rc::Rc<LoadedModel>) {
    let model = cache::get(model_name);
    require_probability_model(&model);
    let value_model = cache::get(value_model);
    require_value_model(&value_model);
    (model, value_model)
}

fn row_expected_value(model_name: &str, value_model: &str, lead: &AnyElement) -> f64 {
    let (model, value_model) = models(model_name, value_model);
    let p = probability(&model, &row_raw_values(&model, lead));
    let value = probability(&value_model, &row_raw_values(&value_model, lead));
    expected_value_of(p, value)
}

fn json_expected_value(model_name: &str, value_model: &str, lead: &JsonB) -> f64 {
    let (model, value_model) = models(model_name, value_model);
    let p = probability(&model, &json_raw_values(&model, lead));
    let value = probability(&value_model, &json_raw_values(&value_model, lead));
    expected_value_of(p, value)
}

/// The lead's expected value: `score(model, lead)` (probability of converting, from a
/// classification model) x the deal value `value_model` (a regression model, `options.task =
/// 'regression'`) predicts for it, a negative prediction counted as 0. Each model reads its own
/// features from the row.
#[pg_extern(stable, parallel_safe, strict)]
fn expected_value(model_name: &str, value_model: &str, lead: AnyElement) -> f64 {
    row_expected_value(model_name, value_model, &lead)
}

/// `expected_value` for a jsonb object with one key per feature of either model.
#[pg_extern(stable, parallel_safe, strict, name = "expected_value")]
fn expected_value_jsonb(model_name: &str, value_model: &str, lead: JsonB) -> f64 {
    json_expected_value(model_name, value_model, &lead)
}

fn amount_tiers(tiers: &JsonB) -> Tiers {
    Tiers::from_json_scaled(&tiers.0, TierScale::Amount).unwrap_or_else(|e| raise_core(e.context("tiers")))
}

/// The lead's tier by its expected value, under `tiers` given as amounts, for example
/// `'{"Gold": 5000, "Silver": 1000, "Bronze": 0}'` (the lowest tier takes every lower value).
#[pg_extern(stable, parallel_safe, strict)]
fn expected_value_tier(model_name: &str, value_model: &str, lead: AnyElement, tiers: JsonB) -> String {
    let tiers = amount_tiers(&tiers);
    tiers.assign(row_expected_value(model_name, value_model, &lead)).to_string()
}

/// `expected_value_tier` for a jsonb lead.
#[pg_extern(stable, parallel_safe, strict, name = "expected_value_tier")]
fn expected_value_tier_jsonb(model_name: &str, value_model: &str, lead: JsonB, tiers: JsonB) -> String {
    let tiers = amount_tiers(&tiers);
    tiers.assign(json_expected_value(model_name, value_model, &lead)).to_string()
}

// A table row passed to expected_value() is given to `expected_value_fields` as its columns
// (executor/score_support.rs), so the row is never formed.
pgrx::extension_sql!(
    r#"
ALTER FUNCTION expected_value(text, text, anyelement) SUPPORT score_support;
"#,
    name = "expected_value_support_attached",
    requires = [expected_value, "score_fields"]
);
