//! `lead_scoring.evaluate(model, source)`: the model's metrics on any labelled table, view or query.

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use super::cache;
use super::errors::bad_data;
use super::rows::{read_rows, LabelSpec, ReadRequest};
use super::score::probability;
use super::source::{describe, find_column, resolve_source};
use crate::core::metrics::part_metrics;
use crate::core::values::row_values;

/// Scores every labelled row of `source` with the model and returns the same metrics train()
/// stores per part (ROC AUC, PR AUC, log loss, Brier, and precision/recall/F1/accuracy and the
/// confusion matrix at the model's threshold), plus the model and row counts.
#[pg_extern(stable, parallel_unsafe, strict)]
fn evaluate(model_name: &str, source: &str) -> JsonB {
    let model = cache::get(model_name);
    let src = resolve_source(source);
    let columns = describe(&src);
    let label = find_column(&columns, &model.row.label, "label", &src);
    let features = model.model.feature_names().map(|f| find_column(&columns, f, "feature", &src)).collect();
    let read = read_rows(&ReadRequest {
        source: &src,
        features,
        label: LabelSpec { column: label, positive: model.row.positive_label.as_deref() },
        key: None,
    });
    let data = &read.data;
    if data.labels.is_empty() {
        bad_data(format!("source {} has no rows with a non-NULL label \"{}\"", src.display, label.name));
    }
    let mut raw = Vec::with_capacity(data.columns.len());
    let mut scores = Vec::with_capacity(data.labels.len());
    for row in 0..data.labels.len() {
        if row % 10_000 == 0 {
            pgrx::check_for_interrupts!();
        }
        row_values(&data.columns, row, &mut raw);
        scores.push(probability(&model, &raw));
    }
    let metrics = part_metrics(&scores, &data.labels, model.row.threshold);
    let mut out = serde_json::to_value(metrics).expect("metrics serialize");
    out["model"] = json!(format!("{}@{}", model.row.name, model.row.version));
    out["skipped_null_labels"] = json!(read.null_labels);
    JsonB(out)
}
