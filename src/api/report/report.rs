//! `report(model_name)`: the model report as one self-contained HTML page (see
//! `core::report`), drawn from the model's catalog row, its model card and the latest
//! monitoring run.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::errors::{bad_data, invalid, raise_core, required};
use crate::api::governance::model_card::card_markdown;
use crate::catalog::models::{load_model_row, parse_model_spec};
use crate::core::models::artifact::decode_scored_labels;
use crate::core::explain::contributions::Importance;
use crate::core::report::page::{render_report, ReportInput};
use crate::core::report::drift_section::{drift_rows_from_json, MonitoringSnapshot};
use crate::core::evaluation::tiers::Tiers;

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
    let stored = Spi::connect(|client| {
        let t = client.select(
            "SELECT deployed, algorithm, to_char(created_at, 'YYYY-MM-DD HH24:MI TZ'), metrics, validation_predictions, importance
               FROM lead_scoring.models WHERE name = $1 AND version = $2",
            Some(1),
            &[row.name.as_str().into(), row.version.into()],
        )?;
        let r = t.first();
        let json = |i: usize| -> Result<serde_json::Value, pgrx::spi::Error> { Ok(r.get::<JsonB>(i)?.map(|j| j.0).unwrap_or_default()) };
        Ok::<_, pgrx::spi::Error>((
            r.get::<bool>(1)?.unwrap_or(false),
            r.get::<String>(2)?.unwrap_or_default(),
            r.get::<String>(3)?.unwrap_or_default(),
            json(4)?,
            r.get::<Vec<u8>>(5)?.unwrap_or_default(),
            json(6)?,
        ))
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")));
    let (deployed, algorithm, created_at, metrics, predictions, importance) = stored;
    let (scores, labels) =
        decode_scored_labels(&predictions).unwrap_or_else(|e| raise_core(e.context(format!("model \"{label}\" has unreadable validation predictions"))));
    let importance: Vec<Importance> =
        serde_json::from_value(importance).unwrap_or_else(|e| bad_data(format!("model \"{label}\" has unreadable importance: {e}")));
    let tiers = Tiers::from_json(&row.tiers).unwrap_or_else(|e| raise_core(e.context(format!("model \"{label}\" has unreadable tiers"))));
    render_report(&ReportInput {
        name: row.name.clone(),
        version: row.version,
        deployed,
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

/// The latest row of `lead_scoring.monitoring` for the model, when that table exists (it is
/// written by `monitor()`) and has one.
fn latest_monitoring(name: &str) -> Option<MonitoringSnapshot> {
    let exists = Spi::get_one::<bool>("SELECT to_regclass('lead_scoring.monitoring') IS NOT NULL").ok().flatten().unwrap_or(false);
    if !exists {
        return None;
    }
    Spi::connect(|client| {
        let t = client.select(
            "SELECT version::int, source::text, to_char(checked_at, 'YYYY-MM-DD HH24:MI TZ'), rows::bigint, positives::bigint,
                    status::text, recommendation::text, metrics::jsonb, baseline::jsonb, drift::jsonb
               FROM lead_scoring.monitoring WHERE model_name = $1 ORDER BY checked_at DESC, id DESC LIMIT 1",
            Some(1),
            &[name.into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        let json = |i: usize| -> Result<serde_json::Value, pgrx::spi::Error> { Ok(r.get::<JsonB>(i)?.map(|j| j.0).unwrap_or_default()) };
        Ok::<_, pgrx::spi::Error>(Some(MonitoringSnapshot {
            version: r.get(1)?,
            source: r.get(2)?.unwrap_or_default(),
            checked_at: r.get(3)?.unwrap_or_default(),
            rows: r.get(4)?,
            positives: r.get(5)?,
            status: r.get(6)?.unwrap_or_default(),
            recommendation: r.get(7)?.unwrap_or_default(),
            metrics: json(8)?,
            baseline: json(9)?,
            drift: drift_rows_from_json(&json(10)?),
        }))
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.monitoring: {e}")))
}
