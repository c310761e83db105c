//! Scoring a loaded model on one lead: its raw feature values read from a whole row or a jsonb
//! object, the probability through the model's fast plan when it has one, and the ERROR that
//! names the model when a lead cannot be scored. Every scoring path (score(), the planner's
//! `*_fields` functions, the rescoring trigger, explain()) goes through here.

use pgrx::prelude::*;
use pgrx::{AnyElement, JsonB, PgSqlErrorCode};

use crate::core::data::RawValue;
use crate::errors::{bad_data, raise_core, raise_with_hint};
use crate::executor::cache::LoadedModel;
use crate::executor::rows_binding::read_row_features;

thread_local! {
    /// The last argument type found to be a row type.
    static CHECKED_ROW_TYPE: std::cell::Cell<pg_sys::Oid> = const { std::cell::Cell::new(pg_sys::InvalidOid) };
}

/// The model's raw feature values read from a whole-row argument.
pub fn row_raw_values<'a>(model: &LoadedModel, lead: &'a AnyElement) -> Vec<RawValue<'a>> {
    // The type check is a catalog lookup: once per argument type, not once per row.
    // SAFETY: a type cache lookup by oid from the backend's main thread.
    if CHECKED_ROW_TYPE.get() != lead.oid() && !unsafe { pg_sys::type_is_rowtype(lead.oid()) } {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!("lead must be a table row, got a value of type {}", crate::executor::source::type_name(lead.oid())),
            "pass the whole row, as in score('model', l) FROM leads l, or a jsonb object",
        );
    }
    CHECKED_ROW_TYPE.set(lead.oid());
    let mut raw: Vec<RawValue<'_>> = Vec::with_capacity(model.model.preprocessor.features.len());
    // SAFETY: `lead` is a non-NULL (score() is strict) datum of a row type, checked just above.
    unsafe { read_row_features(model, lead.datum(), &mut raw) };
    raw
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
            Some(other) => {
                bad_data(format!("feature \"{name}\" must be a number, string, boolean or null in the jsonb lead, got {other}"))
            }
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
pub(crate) fn probability_of<'a>(
    model: &LoadedModel,
    value: impl Fn(usize) -> RawValue<'a>,
    buffer: &mut Vec<RawValue<'a>>,
) -> f64 {
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
    raise_core(e.context(format!("model \"{}@{}\"", model.row.name, model.row.version)))
}

/// The expected value of a lead from its probability and predicted value. A negative predicted
/// value (a linear model extrapolating) counts as 0: a lead is never worth less than nothing.
pub fn expected_value_of(probability: f64, predicted_value: f64) -> f64 {
    probability * predicted_value.max(0.0)
}

/// expected_value()'s first model must give probabilities (a classification model).
pub(crate) fn require_probability_model(model: &LoadedModel) {
    model.require_classification("expected_value()'s model (the first argument)");
}

/// expected_value()'s value model must predict an amount (a regression model).
pub(crate) fn require_value_model(model: &LoadedModel) {
    model.require_regression("expected_value()'s value_model");
}

pub(crate) fn percent(p: f64) -> i32 {
    (p * 100.0).round() as i32
}
