//! Per-segment tiers of a segmented version (`options.segment_tiers`), kept in its
//! `training.segments` entries: read when the model is loaded for scoring.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::catalog::models::ModelRow;
use crate::errors::invalid;
use crate::pg::catalog_settings::CatalogSettings;

/// (segment value, its tiers as stored) for each segment entry of the version that has tiers.
pub fn segment_tiers(row: &ModelRow) -> Vec<(String, serde_json::Value)> {
    let _settings = CatalogSettings::pin();
    let entries = Spi::get_one_with_args::<JsonB>(
        "SELECT training #> '{segments,segments}' FROM lead_scoring.models WHERE name = $1 AND version = $2",
        &[row.name.as_str().into(), row.version.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")))
    .map(|j| j.0);
    let Some(serde_json::Value::Array(entries)) = entries else { return Vec::new() };
    entries
        .into_iter()
        .filter_map(|mut e| {
            let tiers = e.get_mut("tiers")?.take();
            Some((e.get("segment")?.as_str()?.to_string(), tiers))
        })
        .collect()
}
