//! `lead_scoring.model_events`: the append-only log of who trained, deployed, rolled back,
//! retired or changed what, and why.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::core::governance::HistoryEvent;
use crate::core::report::CardEvent;
use crate::errors::invalid;
use crate::pg::catalog_settings::CatalogSettings;

/// Appends to the event log.
pub fn log_event(name: &str, version: Option<i32>, event: &str, detail: serde_json::Value, reason: Option<&str>) {
    let _settings = CatalogSettings::pin();
    Spi::run_with_args(
        "INSERT INTO lead_scoring.model_events (model_name, version, event, detail, reason) VALUES ($1, $2, $3, $4, $5)",
        &[name.into(), version.into(), event.into(), JsonB(detail).into(), reason.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot write lead_scoring.model_events: {e}")));
}

/// Every event of a model name, oldest first (the model card's change history).
pub fn events_of(name: &str) -> Vec<CardEvent> {
    let _settings = CatalogSettings::pin();
    Spi::connect(|client| {
        let t = client.select(
            "SELECT to_char(at, 'YYYY-MM-DD HH24:MI:SS'), event, version, actor::text, reason, detail
               FROM lead_scoring.model_events WHERE model_name = $1 ORDER BY id",
            None,
            &[name.into()],
        )?;
        t.map(|r| {
            Ok(CardEvent {
                at: r.get(1)?.unwrap_or_default(),
                event: r.get(2)?.unwrap_or_default(),
                version: r.get(3)?,
                actor: r.get(4)?.unwrap_or_default(),
                reason: r.get(5)?,
                detail: r.get::<JsonB>(6)?.map(|j| j.0).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.model_events: {e}")))
}

/// The deployment history of a name (deploys, rollbacks, retirements), oldest first.
pub fn deployment_history(name: &str) -> Vec<HistoryEvent> {
    let _settings = CatalogSettings::pin();
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT event, version, (detail->>'from')::int, (detail->>'to')::int FROM lead_scoring.model_events
              WHERE model_name = $1 AND event IN ('deployed', 'rolled_back', 'retired') ORDER BY id",
            None,
            &[name.into()],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let event: String = r.get(1)?.unwrap_or_default();
            let version: Option<i32> = r.get(2)?;
            out.push(match (event.as_str(), version) {
                ("deployed", Some(v)) => HistoryEvent::Deployed(v),
                ("retired", Some(v)) => HistoryEvent::Retired(v),
                ("rolled_back", _) => match (r.get::<i32>(3)?, r.get::<i32>(4)?) {
                    (Some(from), Some(to)) => HistoryEvent::RolledBack { from, to },
                    _ => continue,
                },
                _ => continue,
            });
        }
        Ok::<_, pgrx::spi::Error>(out)
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.model_events: {e}")))
}
