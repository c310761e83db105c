//! `report(model_name)`: the model report as one self-contained HTML page (see
//! `core::report`), drawn from the model's catalog row, its model card and the latest
//! monitoring run.

use pgrx::prelude::*;

use crate::api::governance::model_card::card_markdown;
use crate::catalog::models::{load_model_row, parse_model_spec, stored_for_report, StoredForReport};
use crate::catalog::monitoring::latest_monitoring;
use crate::core::evaluation::Tiers;
use crate::core::explain::Importance;
use crate::core::models::decode_scored_labels;
use crate::core::report::{render_report, ReportInput};
use crate::errors::{bad_data, raise_core, required};

/// One HTML page for the deployed version of `model_name` (or 'name@3'): headline test
/// metrics, ROC and precision-recall curves, calibration plot, lift by decile (from the
/// validation predictions stored at training), feature importance, the tier table, the latest
/// monitoring run with its drift, and the model card. Inline CSS and SVG only: save it as a
/// .html file and open it in any browser, or mail it.
#[pg_extern(stable, parallel_safe)]
fn report(model_name: Option<&str>) -> String {
    let spec = parse_model_spec(required(model_name, "model_name"));
    let row = load_model_row(&spec);
    let card_markdown = card_markdown(&spec);
    let label = format!("{}@{}", row.name, row.version);
    let StoredForReport { status, algorithm, created_at, metrics, predictions, importance } = stored_for_report(&row);
    let (scores, labels) = decode_scored_labels(&predictions)
        .unwrap_or_else(|e| raise_core(e.context(format!("model \"{label}\" has unreadable validation predictions"))));
    let importance: Vec<Importance> = serde_json::from_value(importance)
        .unwrap_or_else(|e| bad_data(format!("model \"{label}\" has unreadable importance: {e}")));
    let tiers =
        Tiers::from_json(&row.tiers).unwrap_or_else(|e| raise_core(e.context(format!("model \"{label}\" has unreadable tiers"))));
    render_report(&ReportInput {
        name: row.name.clone(),
        version: row.version,
        status,
        algorithm,
        created_at,
        threshold: row.threshold,
        tiers,
        metrics,
        card_markdown,
        scores,
        labels,
        importance,
        monitoring: latest_monitoring(&row.name),
    })
}
