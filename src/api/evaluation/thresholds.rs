//! Thresholds and tiers after training: `optimal_threshold` (F1, expected value, precision
//! target) on the validation predictions stored with the model, and `set_tiers`.

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::catalog::events::log_event;
use crate::catalog::models::{load_model_row, lock_model_name, parse_model_spec, store_tiers, validation_predictions};
use crate::catalog::segments::{segment_tiers, store_segment_tiers};
use crate::core::evaluation::Tiers;
use crate::core::evaluation::{expected_value_threshold, f1_threshold, precision_target_threshold, Economics};
use crate::core::models::decode_scored_labels;
use crate::errors::{bad_data, core_ok, invalid, raise_core, required};

/// Validation predictions of a model version: (name@version, scores, labels).
fn validation_of(model_name: &str) -> (String, Vec<f64>, Vec<bool>) {
    crate::executor::cache::get(model_name).require_classification("optimal_threshold()");
    let spec = parse_model_spec(model_name);
    let row = load_model_row(&spec);
    let bytes = validation_predictions(&row);
    let (scores, labels) = core_ok(decode_scored_labels(&bytes));
    if scores.is_empty() {
        bad_data(format!("model \"{}@{}\" has no validation predictions", row.name, row.version));
    }
    (format!("{}@{}", row.name, row.version), scores, labels)
}

/// The threshold a model should use, chosen on its validation leads:
/// - `f1`: the threshold that maximizes F1;
/// - `expected_value`: pursue a lead when p x deal_value - cost_per_lead > 0 (on calibrated
///   probabilities), with the expected and realized profit per 1000 leads;
/// - `precision`: the lowest threshold whose precision is at least `precision_at_least`.
///
/// Economics are optional for `f1` and `precision` (they add the profit columns).
/// `expected_value` with `value_model` (a regression model of deal value) instead of `deal_value`
/// prices each validation lead by its own predicted value: pursue when p x value > cost_per_lead
/// (threshold is then NULL: there is no single probability threshold). The leads are read again
/// from the model's source by their recorded keys (`value_threshold.rs`).
/// `segment` (a segmented version) chooses on that segment's validation leads only, read again
/// the same way (`segment_threshold.rs`): the threshold to give it with `set_tiers(..., segment)`.
#[allow(clippy::type_complexity)]
#[pg_extern(stable, parallel_safe)]
fn optimal_threshold(
    model_name: Option<&str>,
    method: Option<&str>,
    deal_value: default!(Option<f64>, "NULL"),
    cost_per_lead: default!(Option<f64>, "NULL"),
    precision_at_least: default!(Option<f64>, "NULL"),
    value_model: default!(Option<&str>, "NULL"),
    segment: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(model, String),
        name!(method, String),
        name!(threshold, Option<f64>),
        name!(precision, f64),
        name!(recall, f64),
        name!(f1, f64),
        name!(share_pursued, f64),
        name!(expected_profit_per_1000, Option<f64>),
        name!(realized_profit_per_1000, Option<f64>),
    ),
> {
    let model_name = required(model_name, "model_name");
    let method = required(method, "method");
    if let Some(value_model) = value_model {
        if segment.is_some() {
            invalid("give value_model or segment, not both");
        }
        if method != "expected_value" {
            invalid(format!("value_model prices leads for method \"expected_value\" only, not \"{method}\""));
        }
        if deal_value.is_some() || precision_at_least.is_some() {
            invalid("give deal_value or value_model, not both (and no precision_at_least)");
        }
        let cost = cost_per_lead.unwrap_or_else(|| invalid("method \"expected_value\" needs cost_per_lead"));
        let (model, c) = crate::api::evaluation::value_threshold::per_lead_value_threshold(model_name, value_model, cost);
        return TableIterator::once((
            model,
            c.method,
            c.threshold,
            c.precision,
            c.recall,
            c.f1,
            c.share_pursued,
            c.expected_profit_per_1000,
            c.realized_profit_per_1000,
        ));
    }
    let economics = match (deal_value, cost_per_lead) {
        (Some(v), Some(c)) => Some(core_ok(Economics::new(v, c))),
        (None, None) => None,
        _ => invalid("give both deal_value and cost_per_lead, or neither"),
    };
    // An argument the method does not read is an error, not silently ignored.
    if method != "precision" && precision_at_least.is_some() {
        invalid(format!("method \"{method}\" does not use precision_at_least; use method \"precision\" or leave it NULL"));
    }
    let (model, scores, labels) = match segment {
        Some(s) => crate::api::evaluation::segment_threshold::segment_validation(model_name, s),
        None => validation_of(model_name),
    };
    let choice = match method {
        "f1" => core_ok(f1_threshold(&scores, &labels, economics)),
        "expected_value" => {
            let e = economics.unwrap_or_else(|| invalid("method \"expected_value\" needs deal_value and cost_per_lead"));
            expected_value_threshold(&scores, &labels, e)
        }
        "precision" => {
            let target = precision_at_least.unwrap_or_else(|| invalid("method \"precision\" needs precision_at_least"));
            core_ok(precision_target_threshold(&scores, &labels, target, economics))
        }
        other => invalid(format!("unknown threshold method \"{other}\"; use f1, expected_value or precision")),
    };
    TableIterator::once((
        model,
        choice.method,
        choice.threshold,
        choice.precision,
        choice.recall,
        choice.f1,
        choice.share_pursued,
        choice.expected_profit_per_1000,
        choice.realized_profit_per_1000,
    ))
}

/// Replaces a model version's tiers (the deployed version, or 'name@3'), for example
/// `'{"hot": 0.6, "warm": 0.3, "cold": 0}'` or grades `'{"A": 0.8, "B": 0.5, "C": 0.2, "D": 0}'`.
/// Logs the change and takes effect in every session. Returns the stored tiers. `segment`
/// replaces the tiers of that segment's model instead (a version trained with
/// `options.segment_tiers`).
#[pg_extern(volatile, parallel_unsafe)]
fn set_tiers(
    model_name: Option<&str>,
    tiers: Option<JsonB>,
    reason: default!(Option<&str>, "NULL"),
    segment: default!(Option<&str>, "NULL"),
) -> JsonB {
    let spec = parse_model_spec(required(model_name, "model_name"));
    let tiers = required(tiers, "tiers");
    // A regression model's tiers are amounts of its predicted value.
    let scale = crate::executor::cache::get(&format!("{}{}", spec.name, spec.version.map_or(String::new(), |v| format!("@{v}"))))
        .model
        .tier_scale();
    let parsed = Tiers::from_json_scaled(&tiers.0, scale).unwrap_or_else(|e| raise_core(e.context("tiers")));
    lock_model_name(&spec.name);
    let row = load_model_row(&spec);
    match segment {
        Some(segment) => {
            let from = segment_tiers(&row).into_iter().find(|(s, _)| s == segment).map(|(_, t)| t);
            store_segment_tiers(&row, segment, parsed.to_json());
            let change = json!({"segment": segment, "from": from, "to": parsed.to_json()});
            log_event(&row.name, Some(row.version), "tiers_changed", change, reason);
        }
        None => {
            store_tiers(&row, parsed.to_json());
            log_event(&row.name, Some(row.version), "tiers_changed", json!({"from": row.tiers, "to": parsed.to_json()}), reason);
        }
    }
    crate::catalog::invalidation::models_changed();
    JsonB(parsed.to_json())
}
