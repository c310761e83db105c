//! `lead_scoring.monitor(model, source)`: the model's performance on newly labelled leads
//! against its test baseline, with drift, written to `lead_scoring.monitoring` (DDL in
//! sql/monitoring.sql) and announced on the `lead_scoring_alerts` channel when it alerts.

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::api::evaluation::evaluate::score_rows;
use crate::api::monitoring::drift::{drift_of, reference_of};
use crate::catalog::monitoring::{record_check, MonitoringCheck};
use crate::core::monitoring::{
    baseline_json, compare_with_baseline, group_metrics, metrics_json, overall_status, recommendation, tier_rates, tier_rates_of,
};
use crate::core::monitoring::{Status, DEFAULT_ALERT, DEFAULT_WARN};
use crate::errors::{invalid, required};
use crate::executor::attachment::ALERT_CHANNEL;
use crate::executor::source::resolve_source;

type MonitoringRow = (i64, String, i32, String, TimestampWithTimeZone, i64, i64, JsonB, JsonB, JsonB, String, String, String);

/// Checks `model_name` (its deployed version, or 'name@3') on the labelled leads of `source`:
/// ROC AUC, PR AUC, precision/recall/F1 at the model's threshold, calibration error and
/// conversion per tier, compared with the model's test metrics, plus drift of the same rows.
/// status is `alert` when a metric is 5% (relative) or more below its baseline or drift says
/// alert. Writes a row to lead_scoring.monitoring, sends pg_notify('lead_scoring_alerts', ...)
/// on alert, and returns the row with a recommendation.
#[pg_extern(volatile, parallel_unsafe)]
fn monitor(
    model_name: Option<&str>,
    source: Option<&str>,
) -> TableIterator<
    'static,
    (
        name!(id, i64),
        name!(model_name, String),
        name!(version, i32),
        name!(source, String),
        name!(checked_at, TimestampWithTimeZone),
        name!(rows, i64),
        name!(positives, i64),
        name!(metrics, JsonB),
        name!(baseline, JsonB),
        name!(drift, JsonB),
        name!(status, String),
        name!(recommendation, String),
        name!(checked_by, String),
    ),
> {
    let name = required(model_name, "model_name");
    let source = required(source, "source").trim();
    let model = crate::executor::cache::get(name);
    model.require_classification("monitor()");
    let (reference, test) = reference_of(&model);
    let scored = score_rows(model.clone(), &resolve_source(source), true, None);

    let current = group_metrics(&scored.scores, &scored.labels, model.row.threshold);
    let checks = compare_with_baseline(&current, &test);
    let tiers = if model.segment_tiers.is_empty() {
        tier_rates(&scored.scores, &scored.labels, &model.tiers)
    } else {
        // options.segment_tiers: each lead in its segment's tiers, as tier() puts it.
        let assigned =
            scored.scores.iter().enumerate().map(|(row, &p)| model.tiers_for(|i| scored.columns[i].value(row)).assign(p));
        tier_rates_of(assigned, &scored.labels, &model.tiers)
    };
    let drift = drift_of(&scored, &reference, DEFAULT_WARN, DEFAULT_ALERT);
    let status = overall_status(&checks, &drift);
    let advice = recommendation(&checks, &drift);

    let (id, checked_at, checked_by) = record_check(&MonitoringCheck {
        model: &model.row.name,
        version: model.row.version,
        source,
        leads: current.leads as i64,
        conversions: current.conversions as i64,
        metrics: metrics_json(&current, &checks, &tiers),
        baseline: baseline_json(&test),
        drift: serde_json::to_value(&drift).expect("drift serializes"),
        status: status.as_str(),
        recommendation: &advice,
    });

    if status == Status::Alert {
        let payload = json!({
            "monitoring_id": id, "model": model.row.name, "version": model.row.version, "source": source,
            "status": status.as_str(), "recommendation": advice,
        });
        Spi::run_with_args("SELECT pg_notify($1, $2)", &[ALERT_CHANNEL.into(), payload.to_string().into()])
            .unwrap_or_else(|e| invalid(format!("cannot notify {ALERT_CHANNEL}: {e}")));
    }

    let out: MonitoringRow = (
        id,
        model.row.name.clone(),
        model.row.version,
        source.to_string(),
        checked_at,
        current.leads as i64,
        current.conversions as i64,
        JsonB(metrics_json(&current, &checks, &tiers)),
        JsonB(baseline_json(&test)),
        JsonB(serde_json::to_value(&drift).expect("drift serializes")),
        status.as_str().to_string(),
        advice,
        checked_by,
    );
    TableIterator::once(out)
}
