//! The split record of a version: its `split` jsonb and the lead keys of each part
//! (`models.split_keys`) and the source they came from, read by `split_of()`, `compare()` and
//! `optimal_threshold()` with a value model.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::catalog::models::{missing_model, ModelSpec};
use crate::errors::invalid;
use crate::pg::catalog_settings::CatalogSettings;

/// A version's split as stored.
pub struct SplitRecord {
    pub name: String,
    pub version: i32,
    pub split: serde_json::Value,
    /// `PartKeys::encode`'s bytes; None for a version trained without a lead key.
    pub keys: Option<Vec<u8>>,
    /// The source the leads were read from, as train() recorded it: a relation name, or "query".
    pub source: String,
}

/// The split of `spec`'s version (the deployed one when it names none), or an ERROR naming
/// what is missing. Retired versions answer too: which leads a model saw does not expire.
pub fn split_record(spec: &ModelSpec) -> SplitRecord {
    let _settings = CatalogSettings::pin();
    let row = Spi::connect(|client| {
        let t = client.select(
            "SELECT name, version, split, split_keys, source FROM lead_scoring.models
              WHERE name = $1 AND ($2::int IS NULL AND deployed OR version = $2::int)",
            Some(1),
            &[spec.name.as_str().into(), spec.version.into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        Ok::<_, pgrx::spi::Error>(Some(SplitRecord {
            name: r.get(1)?.unwrap_or_default(),
            version: r.get(2)?.unwrap_or_default(),
            split: r.get::<JsonB>(3)?.map(|j| j.0).unwrap_or_default(),
            keys: r.get(4)?,
            source: r.get(5)?.unwrap_or_default(),
        }))
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")));
    row.unwrap_or_else(|| missing_model(spec))
}
