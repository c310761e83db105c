//! `optimal_threshold(model, 'expected_value', cost_per_lead => ..., value_model => ...)`: the
//! expected-value rule with each lead's own deal value, predicted by a regression model, instead
//! of one deal_value for all. The validation predictions train() stores are (probability,
//! label) pairs without the leads' features, so the leads of the model's validation part are
//! read again from its source, by the lead keys the version recorded (as split_of() finds them).

use crate::api::evaluation::evaluate::score_rows;
use crate::api::evaluation::validation_leads::validation_leads;
use crate::core::data::SplitKey;
use crate::core::evaluation::{per_lead_value_choice, ThresholdChoice};
use crate::errors::{bad_data, core_ok, quote_literal};
use crate::executor::cache;
use crate::executor::source::resolve_source;

/// The column the value model's prediction is read from in the re-read source.
const VALUE_COLUMN: &str = "lead_scoring_lead_value";

/// The per-lead expected-value choice on `model_name`'s validation leads, each priced by
/// `value_model`'s prediction. Returns the model as name@version and the choice.
pub fn per_lead_value_threshold(model_name: &str, value_model: &str, cost_per_lead: f64) -> (String, ThresholdChoice) {
    let model = cache::get(model_name);
    model.require_classification("optimal_threshold()");
    let values = cache::get(value_model);
    values.require_regression("optimal_threshold()'s value_model");
    let spec = format!("{}@{}", model.row.name, model.row.version);
    let leads = validation_leads(
        &spec,
        "for value_model",
        "train on a table or a view (CREATE VIEW ... AS your query), or give one deal_value",
    );
    let value_spec = format!("{}@{}", values.row.name, values.row.version);
    let query = format!(
        "SELECT s.*, lead_scoring.score({value}, s) AS {VALUE_COLUMN} FROM {relation} s WHERE {validation}",
        value = quote_literal(&value_spec),
        relation = leads.relation,
        validation = leads.condition(),
    );
    // The value is read as the rows' numeric key, one number per row in row order.
    let scored = score_rows(model.clone(), &resolve_source(&query), true, Some(VALUE_COLUMN));
    let SplitKey::Time(per_lead) = scored.split_key else { unreachable!("a numeric key column reads as numbers") };
    let lead_values: Vec<f64> = per_lead.iter().map(|v| v.unwrap_or(0.0)).collect();
    if lead_values.is_empty() {
        bad_data(format!("none of the validation leads of model \"{spec}\" is in {} any more", leads.relation));
    }
    (spec, core_ok(per_lead_value_choice(&scored.scores, &scored.labels, &lead_values, cost_per_lead)))
}
