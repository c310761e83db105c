//! `report(model_name, funnel)`: the model report as one self-contained HTML page (see
//! `core::report`), drawn from the model's catalog row, its model card, the latest
//! monitoring run and, when asked for, `funnel()` over a CRM source.

use pgrx::prelude::*;

use crate::api::evaluation::funnel::funnel_rows;
use crate::api::governance::model_card::card_markdown;
use crate::catalog::models::{load_model_row, parse_model_spec, stored_for_report, StoredForReport};
use crate::catalog::monitoring::latest_monitoring;
use crate::core::evaluation::Tiers;
use crate::core::explain::Importance;
use crate::core::models::decode_scored_labels;
use crate::core::report::{render_report, FunnelSection, ReportInput, SegmentTiers};
use crate::errors::{bad_data, invalid, quote_literal, raise_core, raise_with_hint, required};
use crate::executor::source::resolve_source;
use pgrx::PgSqlErrorCode;
use serde_json::Value;

const FUNNEL_KEYS: [&str; 5] = ["source", "tier", "period", "cost_per_lead", "options"];

/// One HTML page for the deployed version of `model_name` (or 'name@3'): headline test
/// metrics, ROC and precision-recall curves, calibration plot, lift by decile (from the
/// validation predictions stored at training), feature importance, the tier table, the latest
/// monitoring run with its drift, and the model card. Inline CSS and SVG only: save it as a
/// .html file and open it in any browser, or mail it. `funnel` adds a Funnel section:
/// `{"source": ..., "tier": ..., "period": ..., "cost_per_lead": ..., "options": {...}}` are
/// `funnel()`'s arguments; without `tier`, leads are tiered by this version of the model.
#[pg_extern(stable, parallel_unsafe)]
fn report(model_name: Option<&str>, funnel: default!(Option<pgrx::JsonB>, "NULL")) -> String {
    let spec = parse_model_spec(required(model_name, "model_name"));
    let row = load_model_row(&spec);
    let card_markdown = card_markdown(&spec);
    let label = format!("{}@{}", row.name, row.version);
    let StoredForReport { status, algorithm, created_at, metrics, predictions, importance } = stored_for_report(&row);
    let (scores, labels) = decode_scored_labels(&predictions)
        .unwrap_or_else(|e| raise_core(e.context(format!("model \"{label}\" has unreadable validation predictions"))));
    let importance: Vec<Importance> = serde_json::from_value(importance)
        .unwrap_or_else(|e| bad_data(format!("model \"{label}\" has unreadable importance: {e}")));
    // Shown only: any finite bound reads (a regression's tiers are amounts).
    let tiers = Tiers::from_json_scaled(&row.tiers, crate::core::evaluation::TierScale::Amount)
        .unwrap_or_else(|e| raise_core(e.context(format!("model \"{label}\" has unreadable tiers"))));
    render_report(&ReportInput {
        name: row.name.clone(),
        version: row.version,
        status,
        algorithm,
        created_at,
        threshold: row.threshold,
        tiers,
        segment_tiers: segment_tiers(&row, &label),
        metrics,
        card_markdown,
        scores,
        labels,
        importance,
        monitoring: latest_monitoring(&row.name),
        funnel: funnel.map(|f| funnel_section(&f.0, &label)),
    })
}

/// The segments of a version trained with `options.segment_tiers`, each with the threshold chosen
/// on its validation leads and its tiers as stored (set_tiers(..., segment) may have changed them).
fn segment_tiers(row: &crate::catalog::models::ModelRow, label: &str) -> Vec<SegmentTiers> {
    crate::catalog::segments::segment_entries(row)
        .iter()
        .filter_map(|e| {
            let tiers = Tiers::from_json(e.get("tiers")?)
                .unwrap_or_else(|err| raise_core(err.context(format!("model \"{label}\" has unreadable tiers for a segment"))));
            Some(SegmentTiers {
                segment: e.get("segment")?.as_str()?.to_string(),
                threshold: e.get("threshold").and_then(Value::as_f64),
                tiers,
            })
        })
        .collect()
}

/// The Funnel section for the `funnel` argument, tiers from the model `label` (name@version)
/// unless it names a tier column.
fn funnel_section(f: &Value, label: &str) -> FunnelSection {
    let Some(o) = f.as_object() else { invalid(format!("funnel must be a JSON object, got {f}")) };
    if let Some(unknown) = o.keys().find(|k| !FUNNEL_KEYS.contains(&k.as_str())) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("unknown funnel key \"{unknown}\""),
            format!("the keys are {} (funnel()'s arguments)", FUNNEL_KEYS.join(", ")),
        );
    }
    let text = |key: &str| match o.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(v) => invalid(format!("funnel.{key} must be a non-empty string, got {v}")),
    };
    let Some(source) = text("source") else { invalid("funnel.source is required: the CRM table, view or SELECT to count") };
    let period = text("period").unwrap_or_else(|| "month".into());
    let cost_per_lead = match o.get("cost_per_lead") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_f64().unwrap_or_else(|| invalid(format!("funnel.cost_per_lead must be a number, got {v}")))),
    };
    let options = o.get("options").cloned().unwrap_or_else(|| Value::Object(Default::default()));
    let given = resolve_source(&source);
    let (src, tier, tiers_from) = match text("tier") {
        Some(column) => (given, column.clone(), format!("column {column}")),
        // The model's own tiers: the same scoring as tier() in a query.
        None => {
            let query = format!(
                "SELECT s.*, lead_scoring.tier({}, s) AS lead_scoring_tier FROM (SELECT * FROM {}) AS s",
                quote_literal(label),
                given.from_sql
            );
            let mut src = resolve_source(&query);
            src.display = given.display;
            (src, "lead_scoring_tier".to_string(), format!("tiers of {label}"))
        }
    };
    let rows = funnel_rows(&src, Some(&tier), &period, cost_per_lead, &options);
    FunnelSection { source: src.display, period, tiers_from, rows: rows.into_iter().map(|(_, r)| r).collect() }
}
