//! Scoring: `score(model, lead)` and `tier(model, lead)` for a row of any table or view that
//! has the model's feature columns, or for a jsonb document.

use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::{AnyElement, JsonB, PgSqlErrorCode};

use super::cache::{self, LoadedModel};
use super::errors::{bad_data, raise_with_hint};
use super::rows_binding::read_row_features;
use crate::core::data::values::RawValue;

thread_local! {
    /// The last argument type found to be a row type.
    static CHECKED_ROW_TYPE: std::cell::Cell<pg_sys::Oid> = const { std::cell::Cell::new(pg_sys::InvalidOid) };
}

/// Probability for a composite row.
fn row_probability(model_name: &str, lead: &AnyElement) -> (Rc<LoadedModel>, f64) {
    let model = cache::get(model_name);
    let raw = row_raw_values(&model, lead);
    let p = probability(&model, &raw);
    (model, p)
}

/// The model's raw feature values read from a whole-row argument.
pub fn row_raw_values<'a>(model: &LoadedModel, lead: &'a AnyElement) -> Vec<RawValue<'a>> {
    // The type check is a catalog lookup: once per argument type, not once per row.
    if CHECKED_ROW_TYPE.get() != lead.oid() && !unsafe { pg_sys::type_is_rowtype(lead.oid()) } {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!("lead must be a table row, got a value of type {}", super::source::type_name(lead.oid())),
            "pass the whole row, as in score('model', l) FROM leads l, or a jsonb object",
        );
    }
    CHECKED_ROW_TYPE.set(lead.oid());
    let mut raw: Vec<RawValue<'_>> = Vec::with_capacity(model.model.preprocessor.features.len());
    unsafe { read_row_features(model, lead.datum(), &mut raw) };
    raw
}

/// Probability for a jsonb object keyed by feature name.
fn json_probability(model_name: &str, lead: &JsonB) -> (Rc<LoadedModel>, f64) {
    let model = cache::get(model_name);
    let raw = json_raw_values(&model, lead);
    let p = probability(&model, &raw);
    (model, p)
}

/// The model's raw feature values read from a jsonb object keyed by feature name.
pub fn json_raw_values<'a>(model: &LoadedModel, lead: &'a JsonB) -> Vec<RawValue<'a>> {
    let obj = lead.0.as_object().unwrap_or_else(|| {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            "lead must be a jsonb object with one key per feature",
            "for example '{\"Lead Source\": \"Google\", \"TotalVisits\": 5}'::jsonb",
        )
    });
    let mut raw = Vec::with_capacity(model.model.preprocessor.features.len());
    for name in model.model.feature_names() {
        raw.push(match obj.get(name) {
            None => raise_with_hint(
                PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                format!("the jsonb lead has no key \"{name}\", which model \"{}@{}\" needs", model.row.name, model.row.version),
                "give every feature (use null for an unknown value)",
            ),
            Some(serde_json::Value::Null) => RawValue::Null,
            Some(serde_json::Value::Number(n)) => RawValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            Some(serde_json::Value::String(s)) => RawValue::Text(s),
            Some(serde_json::Value::Bool(b)) => RawValue::Text(if *b { "true" } else { "false" }),
            Some(other) => bad_data(format!("feature \"{name}\" must be a number, string, boolean or null in the jsonb lead, got {other}")),
        });
    }
    raw
}

/// The model's probability for raw values, reusing the model's scratch buffer.
pub fn probability(model: &LoadedModel, raw: &[RawValue<'_>]) -> f64 {
    let result = match &model.plan {
        Some(plan) => plan.probability(&model.model, raw),
        None => model.model.probability(raw, &mut model.scratch.borrow_mut()),
    };
    result.unwrap_or_else(|e| scoring_failed(model, e))
}

/// Probability of a lead whose raw feature values `value(i)` reads: a logistic model reads each
/// as its term needs it, other models from `buffer`, filled with them and emptied again.
#[inline]
pub(crate) fn probability_of<'a>(model: &LoadedModel, value: impl Fn(usize) -> RawValue<'a>, buffer: &mut Vec<RawValue<'a>>) -> f64 {
    match &model.plan {
        Some(plan) => plan.probability_of(&model.model, value).unwrap_or_else(|e| scoring_failed(model, e)),
        None => {
            buffer.clear();
            buffer.extend((0..model.model.preprocessor.features.len()).map(value));
            let p = probability(model, buffer);
            buffer.clear();
            p
        }
    }
}

/// The ERROR for a lead the model cannot score (a NaN, a text in a numeric feature), naming the model.
pub(crate) fn scoring_failed(model: &LoadedModel, e: crate::core::CoreError) -> ! {
    bad_data(format!("model \"{}@{}\": {e}", model.row.name, model.row.version))
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
    let (model, p) = row_probability(model_name, &lead);
    model.tiers.assign(p).to_string()
}

/// The lead's tier, for a jsonb object with one key per feature.
#[pg_extern(stable, parallel_safe, strict, name = "tier")]
fn tier_jsonb(model_name: &str, lead: JsonB) -> String {
    let (model, p) = json_probability(model_name, &lead);
    model.tiers.assign(p).to_string()
}

/// The score as a whole number from 0 to 100 (the probability in percent, rounded), for CRM
/// fields and reps.
#[pg_extern(stable, parallel_safe, strict)]
fn score_100(model_name: &str, lead: AnyElement) -> i32 {
    percent(row_probability(model_name, &lead).1)
}

/// The score from 0 to 100, for a jsonb object with one key per feature.
#[pg_extern(stable, parallel_safe, strict, name = "score_100")]
fn score_100_jsonb(model_name: &str, lead: JsonB) -> i32 {
    percent(json_probability(model_name, &lead).1)
}

pub(crate) fn percent(p: f64) -> i32 {
    (p * 100.0).round() as i32
}
