//! `model_card(model_name)`: the markdown model card of the deployed version (or 'name@3').

use pgrx::prelude::*;

use crate::catalog::events::events_of;
use crate::catalog::governance::{card_input, edited_card};
use crate::catalog::models::{load_model_row, parse_model_spec, ModelSpec};
use crate::core::report::render_model_card;
use crate::errors::required;

/// The earliest and latest value of the time split column in the source, as it is now.
fn time_window(source: &str, split: &serde_json::Value) -> Option<(String, String)> {
    if split["method"].as_str() != Some("time") {
        return None;
    }
    let column = split["column"].as_str()?;
    let oid = Spi::get_one_with_args::<pg_sys::Oid>("SELECT to_regclass($1)::oid", &[source.into()]).ok().flatten()?;
    let sql = Spi::get_one_with_args::<String>(
        "SELECT pg_catalog.format('SELECT pg_catalog.min(%1$I)::text || '' / '' || pg_catalog.max(%1$I)::text FROM %2$s', $1, $2::regclass)",
        &[column.into(), oid.into()],
    )
    .ok()
    .flatten()?;
    let range = Spi::get_one::<String>(&sql).ok().flatten()?;
    let (a, b) = range.split_once(" / ")?;
    Some((a.to_string(), b.to_string()))
}

/// A markdown model card for `model_name` (its deployed version, or 'name@version'): owner,
/// intended use, training data and window, features, algorithm and hyperparameters, metrics per
/// part, threshold and tiers, known limitations, the decision log and the change history from
/// `model_events`.
#[pg_extern(stable, parallel_safe)]
fn model_card(model_name: Option<&str>) -> String {
    card_markdown(&parse_model_spec(required(model_name, "model_name")))
}

/// The model card's markdown for a model spec (also the card section of `report()`).
pub fn card_markdown(spec: &ModelSpec) -> String {
    let row = load_model_row(spec);
    let mut card = card_input(&row);
    card.time_window = time_window(&card.source, &card.split);
    card.events = events_of(&row.name);
    card.edited = edited_card(&row.name);
    render_model_card(&card)
}
