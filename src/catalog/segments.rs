//! Per-segment tiers of a segmented version (`options.segment_tiers`), kept in its
//! `training.segments` entries: read when the model is loaded for scoring.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::catalog::models::ModelRow;
use crate::errors::invalid;
use crate::pg::catalog_settings::CatalogSettings;

/// The version's `training.segments` entries (one object per segment value), empty for a
/// version without segments.
pub fn segment_entries(row: &ModelRow) -> Vec<serde_json::Value> {
    let _settings = CatalogSettings::pin();
    let entries = Spi::get_one_with_args::<JsonB>(
        "SELECT training #> '{segments,segments}' FROM lead_scoring.models WHERE name = $1 AND version = $2",
        &[row.name.as_str().into(), row.version.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")))
    .map(|j| j.0);
    match entries {
        Some(serde_json::Value::Array(entries)) => entries,
        _ => Vec::new(),
    }
}

/// (segment value, its tiers as stored) for each segment entry of the version that has tiers.
pub fn segment_tiers(row: &ModelRow) -> Vec<(String, serde_json::Value)> {
    segment_entries(row)
        .into_iter()
        .filter_map(|mut e| {
            let tiers = e.get_mut("tiers")?.take();
            Some((e.get("segment")?.as_str()?.to_string(), tiers))
        })
        .collect()
}

/// Replaces the tiers of one segment's model in the version's `training.segments` entry.
/// Raises `22023` when the version has no entry for `segment` with tiers of its own.
pub fn store_segment_tiers(row: &ModelRow, segment: &str, tiers: serde_json::Value) {
    let _settings = CatalogSettings::pin();
    let updated = Spi::get_one_with_args::<i64>(
        "WITH entry AS (
           SELECT e.n - 1 AS i FROM lead_scoring.models m,
                  jsonb_array_elements(m.training #> '{segments,segments}') WITH ORDINALITY AS e(v, n)
            WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.version OPERATOR(pg_catalog.=) $2
              AND e.v ->> 'segment' OPERATOR(pg_catalog.=) $3 AND e.v ? 'tiers')
         , changed AS (
           UPDATE lead_scoring.models m
              SET training = jsonb_set(m.training, ARRAY['segments', 'segments', (SELECT i FROM entry)::text, 'tiers'], $4)
            WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.version OPERATOR(pg_catalog.=) $2 AND EXISTS (SELECT 1 FROM entry)
           RETURNING 1)
         SELECT count(*) FROM changed",
        &[row.name.as_str().into(), row.version.into(), segment.into(), JsonB(tiers).into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot update the segment's tiers: {e}")));
    if updated != Some(1) {
        let kept: Vec<String> = segment_tiers(row).into_iter().map(|(s, _)| s).collect();
        crate::errors::raise_with_hint(
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("model \"{}@{}\" has no tiers of its own for segment \"{segment}\"", row.name, row.version),
            if kept.is_empty() {
                "only versions trained with options.segment_tiers have per-segment tiers; set the version's tiers without segment"
                    .to_string()
            } else {
                format!("segments with their own tiers: {}", kept.join(", "))
            },
        );
    }
}
