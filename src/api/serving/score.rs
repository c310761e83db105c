//! Scoring: `score(model, lead)` and `tier(model, lead)` for a row of any table or view that
//! has the model's feature columns, or for a jsonb document.

use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::{AnyElement, JsonB};

use crate::executor::cache::{self, LoadedModel};
use crate::executor::scoring::{json_raw_values, percent, probability, row_raw_values};

/// Probability for a composite row.
fn row_probability(model_name: &str, lead: &AnyElement) -> (Rc<LoadedModel>, f64) {
    let model = cache::get(model_name);
    let raw = row_raw_values(&model, lead);
    let p = probability(&model, &raw);
    (model, p)
}

/// Probability for a jsonb object keyed by feature name.
fn json_probability(model_name: &str, lead: &JsonB) -> (Rc<LoadedModel>, f64) {
    let model = cache::get(model_name);
    let raw = json_raw_values(&model, lead);
    let p = probability(&model, &raw);
    (model, p)
}

/// Probability (0 to 1) that the lead converts, from the deployed version of `model_name`
/// (or the version named as 'name@3'). `lead` is a whole row of any table or view with the
/// model's feature columns.
#[pg_extern(stable, parallel_safe, strict)]
fn score(model_name: &str, lead: AnyElement) -> f64 {
    row_probability(model_name, &lead).1
}

/// Probability that the lead converts, for a jsonb object with one key per feature.
#[pg_extern(stable, parallel_safe, strict, name = "score")]
fn score_jsonb(model_name: &str, lead: JsonB) -> f64 {
    json_probability(model_name, &lead).1
}

/// The lead's tier (for example hot / warm / cold) under the model's stored tiers.
#[pg_extern(stable, parallel_safe, strict)]
fn tier(model_name: &str, lead: AnyElement) -> String {
    let model = cache::get(model_name);
    let raw = row_raw_values(&model, &lead);
    let p = probability(&model, &raw);
    model.tiers_for(|i| raw[i]).assign(p).to_string()
}

/// The lead's tier, for a jsonb object with one key per feature.
#[pg_extern(stable, parallel_safe, strict, name = "tier")]
fn tier_jsonb(model_name: &str, lead: JsonB) -> String {
    let model = cache::get(model_name);
    let raw = json_raw_values(&model, &lead);
    let p = probability(&model, &raw);
    model.tiers_for(|i| raw[i]).assign(p).to_string()
}

/// The score as a whole number from 0 to 100 (the probability in percent, rounded), for CRM
/// fields and reps.
#[pg_extern(stable, parallel_safe, strict)]
fn score_100(model_name: &str, lead: AnyElement) -> i32 {
    let (model, p) = row_probability(model_name, &lead);
    model.require_classification("score_100()");
    percent(p)
}

/// The score from 0 to 100, for a jsonb object with one key per feature.
#[pg_extern(stable, parallel_safe, strict, name = "score_100")]
fn score_100_jsonb(model_name: &str, lead: JsonB) -> i32 {
    let (model, p) = json_probability(model_name, &lead);
    model.require_classification("score_100()");
    percent(p)
}

// A table row passed to score(), tier() or score_100() is given to the executor's `*_fields`
// functions as its columns (executor/score_support.rs), so the row is never formed.
pgrx::extension_sql!(
    r#"
ALTER FUNCTION score(text, anyelement) SUPPORT score_support;
ALTER FUNCTION tier(text, anyelement) SUPPORT score_support;
ALTER FUNCTION score_100(text, anyelement) SUPPORT score_support;
"#,
    name = "score_support_attached",
    requires = [score, tier, score_100, "score_fields"]
);
