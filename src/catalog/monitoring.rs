//! `lead_scoring.monitoring`: one row per `monitor()` check (DDL in sql/monitoring.sql), and the
//! latest check that `report()` shows.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::catalog::models::version_summary;
use crate::core::report::{drift_rows_from_json, MonitoringSnapshot};
use crate::errors::invalid;
use crate::pg::catalog_settings::CatalogSettings;

pgrx::extension_sql_file!("../../sql/monitoring.sql", name = "monitoring", requires = ["catalog"]);

/// One check as `monitor()` records it.
pub struct MonitoringCheck<'a> {
    pub model: &'a str,
    pub version: i32,
    pub source: &'a str,
    pub leads: i64,
    pub conversions: i64,
    pub metrics: serde_json::Value,
    pub baseline: serde_json::Value,
    pub drift: serde_json::Value,
    pub status: &'a str,
    pub recommendation: &'a str,
}

/// Stores a check; returns its id, time and the role that ran it.
pub fn record_check(c: &MonitoringCheck<'_>) -> (i64, TimestampWithTimeZone, String) {
    let _settings = CatalogSettings::pin();
    Spi::connect_mut(|client| {
        let t = client.update(
            "INSERT INTO lead_scoring.monitoring
               (model_name, version, source, rows, positives, metrics, baseline, drift, status, recommendation)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             RETURNING id, checked_at, checked_by::text",
            Some(1),
            &[
                c.model.into(),
                c.version.into(),
                c.source.into(),
                c.leads.into(),
                c.conversions.into(),
                JsonB(c.metrics.clone()).into(),
                JsonB(c.baseline.clone()).into(),
                JsonB(c.drift.clone()).into(),
                c.status.into(),
                c.recommendation.into(),
            ],
        )?;
        let r = t.first();
        Ok::<_, pgrx::spi::Error>((
            r.get::<i64>(1)?.unwrap_or_default(),
            r.get::<TimestampWithTimeZone>(2)?.expect("checked_at is NOT NULL"),
            r.get::<String>(3)?.unwrap_or_default(),
        ))
    })
    .unwrap_or_else(|e| invalid(format!("cannot write lead_scoring.monitoring: {e}")))
}

/// The latest row of `lead_scoring.monitoring` for the model, when that table exists (it is
/// written by `monitor()`) and has one.
pub fn latest_monitoring(name: &str) -> Option<MonitoringSnapshot> {
    let _settings = CatalogSettings::pin();
    let exists =
        Spi::get_one::<bool>("SELECT to_regclass('lead_scoring.monitoring') IS NOT NULL").ok().flatten().unwrap_or(false);
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
        let json =
            |i: usize| -> Result<serde_json::Value, pgrx::spi::Error> { Ok(r.get::<JsonB>(i)?.map(|j| j.0).unwrap_or_default()) };
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

/// The latest version of `name` when `monitor()` recorded no `alert` for the model since that
/// version was stored (`options.retrain_on_alert`): its version, algorithm, deployed flag and
/// metrics. `None` when there was such an alert, or when the name has no version yet.
pub fn latest_version_without_alert(name: &str) -> Option<(i32, String, bool, JsonB)> {
    let _settings = CatalogSettings::pin();
    Spi::connect(|client| {
        let t = client.select(
            "SELECT m.version, m.algorithm, m.deployed, m.metrics FROM lead_scoring.models AS m
              WHERE m.name OPERATOR(pg_catalog.=) $1
                AND m.version OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(version) FROM lead_scoring.models
                                                        WHERE name OPERATOR(pg_catalog.=) $1)
                AND NOT EXISTS (SELECT 1 FROM lead_scoring.monitoring AS c
                                 WHERE c.model_name OPERATOR(pg_catalog.=) $1
                                   AND c.status OPERATOR(pg_catalog.=) 'alert'
                                   AND c.checked_at OPERATOR(pg_catalog.>) m.created_at)",
            Some(1),
            &[name.into()],
        )?;
        version_summary(t)
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.monitoring: {e}")))
}
