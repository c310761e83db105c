//! `model_card(model_name)`: the markdown model card of the deployed version (or 'name@3').

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::errors::{invalid, required};
use crate::catalog::models::{load_model_row, parse_model_spec, ModelSpec};
use crate::core::report::model_card::{render_model_card, CardEvent, CardInput};

/// The earliest and latest value of the time split column in the source, as it is now.
fn time_window(source: &str, split: &serde_json::Value) -> Option<(String, String)> {
    if split["method"].as_str() != Some("time") {
        return None;
    }
    let column = split["column"].as_str()?;
    let oid = Spi::get_one_with_args::<pg_sys::Oid>("SELECT to_regclass($1)::oid", &[source.into()]).ok().flatten()?;
    let sql = Spi::get_one_with_args::<String>(
        "SELECT format('SELECT min(%1$I)::text || '' / '' || max(%1$I)::text FROM %2$s', $1, $2::regclass)",
        &[column.into(), oid.into()],
    )
    .ok()
    .flatten()?;
    let range = Spi::get_one::<String>(&sql).ok().flatten()?;
    let (a, b) = range.split_once(" / ")?;
    Some((a.to_string(), b.to_string()))
}

/// A markdown model card for `model_name` (its deployed version, or 'name@version'): intended
/// use, training data and window, features, algorithm and hyperparameters, metrics per part,
/// threshold and tiers, known limitations, and the change history from `model_events`.
#[pg_extern(stable, parallel_safe)]
fn model_card(model_name: Option<&str>) -> String {
    card_markdown(&parse_model_spec(required(model_name, "model_name")))
}

/// The model card's markdown for a model spec (also the card section of `report()`).
pub fn card_markdown(spec: &ModelSpec) -> String {
    let row = load_model_row(spec);
    let mut card = Spi::connect(|client| {
        let t = client.select(
            "SELECT deployed, retired_at IS NOT NULL, algorithm, label, positive_label, source,
                    to_char(created_at, 'YYYY-MM-DD HH24:MI:SS TZ'), created_by::text, features, split, training, metrics,
                    threshold, tiers
               FROM lead_scoring.models WHERE name = $1 AND version = $2",
            Some(1),
            &[row.name.as_str().into(), row.version.into()],
        )?;
        let r = t.first();
        let json = |i: usize| -> Result<serde_json::Value, pgrx::spi::Error> { Ok(r.get::<JsonB>(i)?.map(|j| j.0).unwrap_or_default()) };
        Ok::<_, pgrx::spi::Error>(CardInput {
            name: row.name.clone(),
            version: row.version,
            deployed: r.get(1)?.unwrap_or(false),
            retired: r.get(2)?.unwrap_or(false),
            algorithm: r.get(3)?.unwrap_or_default(),
            label: r.get(4)?.unwrap_or_default(),
            positive_label: r.get(5)?,
            source: r.get(6)?.unwrap_or_default(),
            created_at: r.get(7)?.unwrap_or_default(),
            created_by: r.get(8)?.unwrap_or_default(),
            time_window: None,
            features: json(9)?,
            split: json(10)?,
            training: json(11)?,
            metrics: json(12)?,
            threshold: r.get(13)?.unwrap_or_default(),
            tiers: json(14)?,
            events: Vec::new(),
        })
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")));
    card.time_window = time_window(&card.source, &card.split);
    card.events = Spi::connect(|client| {
        let t = client.select(
            "SELECT to_char(at, 'YYYY-MM-DD HH24:MI:SS'), event, version, actor::text, reason, detail
               FROM lead_scoring.model_events WHERE model_name = $1 ORDER BY id",
            None,
            &[row.name.as_str().into()],
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
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.model_events: {e}")));
    render_model_card(&card)
}
