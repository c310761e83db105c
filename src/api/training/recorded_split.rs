//! What train() records of its split beyond the method and fractions: the lead keys of each
//! part (for `split_of()`) and, for a time split, each part's first and last time.

use pgrx::prelude::*;
use serde_json::{json, Value};

use crate::core::data::{format_timestamp, part_time_ranges, ColumnClass, PartKeys, SplitKey};
use crate::core::data::{Part, SourceColumn};
use crate::core::training::TrainedModel;
use crate::errors::core_ok;
use crate::executor::rows::{KeyKind, ReadResult};

/// What `models.split` and `models.split_keys` record beyond the method: the lead keys of each
/// part (when a lead key is known) and, for a time split, each part's first and last time.
pub struct RecordedSplit {
    pub extra: serde_json::Map<String, Value>,
    pub keys: Option<Vec<u8>>,
}

pub fn record_split(
    time_key: Option<(&SourceColumn, KeyKind)>,
    lead_key: Option<&SourceColumn>,
    read: &ReadResult,
    trained: &TrainedModel,
) -> RecordedSplit {
    let mut extra = serde_json::Map::new();
    let mut keys = None;
    if let (Some(column), true) = (lead_key, read.lead_keys.len() == trained.parts.len()) {
        let (hashes, parts): (Vec<u64>, Vec<Part>) =
            read.lead_keys.iter().zip(&trained.parts).filter_map(|(k, p)| k.map(|k| (k, *p))).unzip();
        let part_keys = core_ok(PartKeys::from_rows(&hashes, &parts));
        let encoded = part_keys.encode();
        let shared = part_keys.shared();
        if shared > 0 {
            notice!("{shared} lead keys of \"{}\" are in more than one part: the key is not unique in the rows read; split_of() answers the first of train, validation, test", column.name);
        }
        extra.insert(
            "lead_keys".into(),
            json!({
                "column": column.name,
                "type": column.type_name,
                "train": part_keys.count(Part::Train),
                "validation": part_keys.count(Part::Validation),
                "test": part_keys.count(Part::Test),
                "null_keys": read.lead_keys.len() - hashes.len(),
                "in_two_parts": shared,
                "bytes": encoded.len(),
            }),
        );
        keys = Some(encoded);
    }
    if let (Some((column, KeyKind::Time)), SplitKey::Time(times)) = (time_key, &read.data.split_key) {
        let temporal = column.class == ColumnClass::Temporal;
        let shown = |t: f64| if temporal { json!(timestamp_micros(t)) } else { json!(t) };
        let ranges = part_time_ranges(times, &trained.parts);
        let by_part: serde_json::Map<String, Value> = Part::ALL
            .iter()
            .zip(ranges)
            .filter_map(|(p, r)| r.map(|(lo, hi)| (p.as_str().to_string(), json!({"from": shown(lo), "to": shown(hi)}))))
            .collect();
        extra.insert("time_ranges".into(), Value::Object(by_part));
    }
    RecordedSplit { extra, keys }
}

/// An ISO 8601 UTC time to the microsecond, as PostgreSQL stores it, so that the first and last
/// time of a part read back as the exact bounds ("2026-03-01", "2026-03-01T09:30:00.250000Z").
fn timestamp_micros(t: f64) -> String {
    let seconds = t.floor();
    let micros = ((t - seconds) * 1e6).round() as i64;
    let (seconds, micros) = if micros >= 1_000_000 { (seconds + 1.0, 0) } else { (seconds, micros) };
    let whole = format_timestamp(seconds);
    if micros == 0 {
        return whole;
    }
    let whole = if whole.contains('T') { whole.trim_end_matches('Z').to_string() } else { format!("{whole}T00:00:00") };
    format!("{whole}.{micros:06}Z")
}
