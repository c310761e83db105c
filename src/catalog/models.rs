//! The model registry: resolving 'name' / 'name@3' to a stored version, version numbering,
//! deployment and the event log.

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::json;

use crate::errors::{invalid, raise_with_hint, required};

/// A model name with an optional version: `inbound` or `inbound@3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub name: String,
    pub version: Option<i32>,
}

/// Parses `name` or `name@version`.
pub fn parse_model_spec(spec: &str) -> ModelSpec {
    let spec = spec.trim();
    match spec.rsplit_once('@') {
        Some((name, v)) => match v.parse::<i32>() {
            Ok(version) if version > 0 && !name.is_empty() => ModelSpec { name: name.to_string(), version: Some(version) },
            _ => invalid(format!("model \"{spec}\" is not a valid model name; use 'name' or 'name@version'")),
        },
        None if spec.is_empty() => invalid("model name must not be empty"),
        None => ModelSpec { name: spec.to_string(), version: None },
    }
}

/// The stored fields scoring and evaluation need.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub name: String,
    pub version: i32,
    pub label: String,
    pub positive_label: Option<String>,
    pub threshold: f64,
    pub tiers: serde_json::Value,
    pub artifact: Vec<u8>,
}

/// Loads a model version, or raises an ERROR saying what is missing.
pub fn load_model_row(spec: &ModelSpec) -> ModelRow {
    let row = Spi::connect(|client| {
        let table = client.select(
            "SELECT name, version, label, positive_label, threshold, tiers, artifact, retired_at IS NOT NULL
               FROM lead_scoring.models
              WHERE name = $1 AND ($2::int IS NULL AND deployed OR version = $2::int)",
            Some(1),
            &[spec.name.as_str().into(), spec.version.into()],
        )?;
        if table.is_empty() {
            return Ok(None);
        }
        let r = table.first();
        if r.get::<bool>(8)? == Some(true) {
            // issue 6: a retired version cannot be scored by version or deployed again.
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("version {} of model \"{}\" is retired", spec.version.unwrap_or_default(), spec.name),
                "use the deployed version, or another version listed in lead_scoring.model_overview",
            );
        }
        Ok::<_, pgrx::spi::Error>(Some(ModelRow {
            name: r.get(1)?.unwrap_or_default(),
            version: r.get(2)?.unwrap_or_default(),
            label: r.get(3)?.unwrap_or_default(),
            positive_label: r.get(4)?,
            threshold: r.get(5)?.unwrap_or_default(),
            tiers: r.get::<JsonB>(6)?.map(|j| j.0).unwrap_or_default(),
            artifact: r.get(7)?.unwrap_or_default(),
        }))
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")));
    row.unwrap_or_else(|| missing_model(spec))
}

fn missing_model(spec: &ModelSpec) -> ! {
    let versions: Vec<i32> = Spi::connect(|client| {
        let t = client.select(
            "SELECT version FROM lead_scoring.models WHERE name = $1 ORDER BY version",
            None,
            &[spec.name.as_str().into()],
        )?;
        t.map(|r| r.get::<i32>(1).map(|v| v.unwrap_or_default())).collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_default();
    if versions.is_empty() {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{}\" does not exist", spec.name),
            "train it with lead_scoring.train(), or list models in lead_scoring.model_overview",
        );
    }
    let list = versions.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
    match spec.version {
        Some(v) => raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{}\" has no version {v}", spec.name),
            format!("existing versions: {list}"),
        ),
        None => raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{}\" has no deployed version", spec.name),
            format!("deploy one of versions {list} with lead_scoring.deploy()"),
        ),
    }
}

/// Serializes concurrent version allocation and deployment for one model name.
pub fn lock_model_name(name: &str) {
    Spi::run_with_args(
        "SELECT pg_advisory_xact_lock(hashtextextended('lead_scoring.models:' || $1, 0))",
        &[name.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot lock model \"{name}\": {e}")));
}

/// The next version number for a name (call under [`lock_model_name`]).
pub fn next_version(name: &str) -> i32 {
    Spi::get_one_with_args::<i32>(
        "SELECT coalesce(max(version), 0) + 1 FROM lead_scoring.models WHERE name = $1",
        &[name.into()],
    )
    .ok()
    .flatten()
    .unwrap_or(1)
}

/// The deployed version of a name, if any.
pub fn deployed_version(name: &str) -> Option<i32> {
    Spi::get_one_with_args::<i32>("SELECT version FROM lead_scoring.models WHERE name = $1 AND deployed", &[name.into()])
        .ok()
        .flatten()
}

/// Appends to the event log.
pub fn log_event(name: &str, version: Option<i32>, event: &str, detail: serde_json::Value, reason: Option<&str>) {
    Spi::run_with_args(
        "INSERT INTO lead_scoring.model_events (model_name, version, event, detail, reason) VALUES ($1, $2, $3, $4, $5)",
        &[name.into(), version.into(), event.into(), JsonB(detail).into(), reason.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot write lead_scoring.model_events: {e}")));
}

/// Makes `version` the deployed version of `name`, logs it and tells every session's cache.
pub fn deploy_version(name: &str, version: i32, reason: Option<&str>) -> Option<i32> {
    lock_model_name(name);
    load_model_row(&ModelSpec { name: name.to_string(), version: Some(version) });
    let previous = deployed_version(name);
    if previous == Some(version) {
        return previous;
    }
    Spi::run_with_args("UPDATE lead_scoring.models SET deployed = false WHERE name = $1 AND deployed", &[name.into()])
        .and_then(|_| {
            Spi::run_with_args(
                "UPDATE lead_scoring.models SET deployed = true WHERE name = $1 AND version = $2",
                &[name.into(), version.into()],
            )
        })
        .unwrap_or_else(|e| invalid(format!("cannot deploy model \"{name}\": {e}")));
    log_event(name, Some(version), "deployed", json!({"previous_version": previous}), reason);
    crate::catalog::invalidation::models_changed();
    previous
}

/// Deploys a version of a model: `score(name, ...)` uses it from then on, in every session.
/// Returns what changed as jsonb.
#[pg_extern(volatile, parallel_unsafe)]
fn deploy(
    model_name: Option<&str>,
    version: Option<i32>,
    reason: default!(Option<&str>, "NULL"),
) -> JsonB {
    let name = required(model_name, "model_name");
    let version = required(version, "version");
    let spec = parse_model_spec(name);
    if spec.version.is_some() {
        invalid("give the version as the second argument, not as 'name@version'");
    }
    let previous = deploy_version(&spec.name, version, reason);
    JsonB(json!({"model": spec.name, "deployed_version": version, "previous_version": previous}))
}
