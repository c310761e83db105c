//! `lead_scoring.lead_feedback`: the labels reps say are right, written by `flag()` and read by
//! retraining with `options.use_feedback` (the latest flag per lead wins).

use pgrx::prelude::*;

use crate::errors::{invalid, quote_literal};
use crate::pg::catalog_settings::CatalogSettings;

/// Stores one rep's label for a lead; returns the feedback row's id.
pub fn record_feedback(model: &str, lead_key: &str, correct_label: bool, note: Option<&str>) -> i64 {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<i64>(
        "INSERT INTO lead_scoring.lead_feedback (model_name, lead_key, correct_label, note) VALUES ($1, $2, $3, $4) RETURNING id",
        &[model.into(), lead_key.into(), correct_label.into(), note.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot write lead_scoring.lead_feedback: {e}")))
    .unwrap_or_default()
}

/// SQL of a `LEFT JOIN LATERAL` giving `<alias>.correct_label`, the latest label flagged for the
/// lead whose key is `key_sql` (an expression over the joined row, compared as text), or NULL.
pub fn latest_feedback_join(model: &str, key_sql: &str, alias: &str) -> String {
    let model_literal = quote_literal(model);
    format!(
        "LEFT JOIN LATERAL (SELECT f.correct_label FROM lead_scoring.lead_feedback f
                WHERE f.model_name OPERATOR(pg_catalog.=) {model_literal}::text
                  AND f.lead_key OPERATOR(pg_catalog.=) ({key_sql})::text ORDER BY f.id DESC LIMIT 1) AS {alias} ON true"
    )
}
