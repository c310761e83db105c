//! The model registry: resolving 'name' / 'name@3' to a stored version, version numbering,
//! deployment and the event log.

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::json;

use crate::catalog::events::log_event;
use crate::core::report::version_status;
use crate::core::training::OutcomeDefinition;
use crate::errors::{core_ok, invalid, raise_with_hint};
use crate::pg::catalog_settings::CatalogSettings;

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
    /// options.outcomes of the version: its labels are read through these lists.
    pub outcomes: Option<OutcomeDefinition>,
    pub threshold: f64,
    pub tiers: serde_json::Value,
    pub artifact: Vec<u8>,
}

/// Loads a model version, or raises an ERROR saying what is missing.
pub fn load_model_row(spec: &ModelSpec) -> ModelRow {
    let _settings = CatalogSettings::pin();
    let row = Spi::connect(|client| {
        let table = client.select(
            "SELECT name, version, label, positive_label, threshold, tiers, artifact, retired_at IS NOT NULL,
                    options OPERATOR(pg_catalog.->) 'outcomes'
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
            // A retired version cannot be scored by version or deployed again.
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
            outcomes: r.get::<JsonB>(9)?.map(|j| core_ok(OutcomeDefinition::parse(&j.0))),
            threshold: r.get(5)?.unwrap_or_default(),
            tiers: r.get::<JsonB>(6)?.map(|j| j.0).unwrap_or_default(),
            artifact: r.get(7)?.unwrap_or_default(),
        }))
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")));
    row.unwrap_or_else(|| missing_model(spec))
}

pub fn missing_model(spec: &ModelSpec) -> ! {
    let _settings = CatalogSettings::pin();
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

/// Serializes concurrent version allocation and deployment for one model name, and checks that
/// the caller may change it (every change of a model takes this lock: train, deploy, rollback,
/// retire, set_tiers).
pub fn lock_model_name(name: &str) {
    lock_name(name);
    require_owner(name);
}

/// The lock of [`lock_model_name`] without its rights check, for callers that check other
/// rights (approvers, see `catalog::governance`).
pub fn lock_name(name: &str) {
    let _settings = CatalogSettings::pin();
    Spi::run_with_args("SELECT pg_advisory_xact_lock(hashtextextended('lead_scoring.models:' || $1, 0))", &[name.into()])
        .unwrap_or_else(|e| invalid(format!("cannot lock model \"{name}\": {e}")));
}

/// A model name belongs to the role that trained its first version: only that role, its
/// members and superusers may train, deploy, roll back, retire, re-tier or schedule retraining
/// of it. A name nobody trained yet is free; a name whose owner role was dropped belongs to
/// superusers.
pub fn require_owner(name: &str) {
    if let Some(owner) = refused_owner(name) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("only the role that trained model \"{name}\" first, its members and superusers may change it"),
            format!("it belongs to role \"{owner}\"; GRANT \"{owner}\" TO a role to share it"),
        );
    }
}

/// The owning role of `name` when the caller may not change it (see [`require_owner`]).
pub fn refused_owner(name: &str) -> Option<String> {
    let _settings = CatalogSettings::pin();
    let found = Spi::get_two_with_args::<String, bool>(
        "SELECT m.created_by::text,
                coalesce(pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'),
                         (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user))
           FROM (SELECT created_by FROM lead_scoring.models WHERE name OPERATOR(pg_catalog.=) $1
                  ORDER BY version LIMIT 1) AS m
           LEFT JOIN pg_catalog.pg_roles AS r ON r.rolname OPERATOR(pg_catalog.=) m.created_by",
        &[name.into()],
    );
    match found {
        Ok((Some(owner), Some(false))) => Some(owner),
        _ => None,
    }
}

/// A version's number, algorithm, deployed flag and metrics (in that column order) from a
/// query's first row: what train() returns for a version it did not store. `None`: no row.
pub fn version_summary(t: pgrx::spi::SpiTupleTable) -> Result<Option<(i32, String, bool, JsonB)>, pgrx::spi::Error> {
    if t.is_empty() {
        return Ok(None);
    }
    let r = t.first();
    Ok(Some((
        r.get::<i32>(1)?.unwrap_or_default(),
        r.get::<String>(2)?.unwrap_or_default(),
        r.get::<bool>(3)?.unwrap_or_default(),
        r.get::<JsonB>(4)?.unwrap_or(JsonB(serde_json::Value::Null)),
    )))
}

/// The latest version of `name` when it was trained on rows with this content fingerprint and
/// with these options (`options.skip_unchanged`): its version, algorithm, deployed flag, metrics.
pub fn latest_version_if_unchanged(
    name: &str,
    fingerprint: &str,
    options: &serde_json::Value,
) -> Option<(i32, String, bool, JsonB)> {
    let _settings = CatalogSettings::pin();
    Spi::connect(|client| {
        let t = client.select(
            "SELECT version, algorithm, deployed, metrics FROM lead_scoring.models
              WHERE name OPERATOR(pg_catalog.=) $1
                AND version OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(version) FROM lead_scoring.models WHERE name OPERATOR(pg_catalog.=) $1)
                AND training->>'source_fingerprint' OPERATOR(pg_catalog.=) $2
                AND options OPERATOR(pg_catalog.=) $3::pg_catalog.jsonb",
            Some(1),
            &[name.into(), fingerprint.into(), JsonB(options.clone()).into()],
        )?;
        version_summary(t)
    })
    .unwrap_or_else(|e| invalid(format!("cannot read the latest version of model \"{name}\": {e}")))
}

/// The next version number for a name (call under [`lock_model_name`]).
pub fn next_version(name: &str) -> i32 {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<i32>("SELECT coalesce(max(version), 0) + 1 FROM lead_scoring.models WHERE name = $1", &[name.into()])
        .ok()
        .flatten()
        .unwrap_or(1)
}

/// The deployed version of a name, if any.
pub fn deployed_version(name: &str) -> Option<i32> {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<i32>("SELECT version FROM lead_scoring.models WHERE name = $1 AND deployed", &[name.into()])
        .ok()
        .flatten()
}

/// Makes `version` the deployed version of `name`, logs it and tells every session's cache.
pub fn deploy_version(name: &str, version: i32, reason: Option<&str>) -> Option<i32> {
    let _settings = CatalogSettings::pin();
    lock_model_name(name);
    deploy_locked(name, version, reason)
}

/// [`deploy_version`] for a caller that holds the name's lock and checked the caller's rights.
/// A version pending approval or rejected is refused: only `approve()` deploys those.
pub fn deploy_locked(name: &str, version: i32, reason: Option<&str>) -> Option<i32> {
    let _settings = CatalogSettings::pin();
    load_model_row(&ModelSpec { name: name.to_string(), version: Some(version) });
    match approval_of(name, version).as_deref() {
        Some("pending") => raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("version {version} of model \"{name}\" is pending approval and cannot be deployed directly"),
            "an approver deploys it with lead_scoring.approve(model, version, reason)",
        ),
        Some("rejected") => raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("version {version} of model \"{name}\" was rejected and cannot be deployed"),
            "train a new version, or deploy another one",
        ),
        _ => {}
    }
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

/// `models.approval` of a version: `pending`, `approved`, `rejected`, or `None` (not trained
/// under `options.deploy = 'approval'`).
pub fn approval_of(name: &str, version: i32) -> Option<String> {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<String>(
        "SELECT approval FROM lead_scoring.models WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
        &[name.into(), version.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")))
}

/// Whether any version of `name` exists (retired ones included).
pub fn model_exists(name: &str) -> bool {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<bool>("SELECT EXISTS (SELECT 1 FROM lead_scoring.models WHERE name = $1)", &[name.into()])
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// The encoded validation predictions stored with a version (see `decode_scored_labels`).
pub fn validation_predictions(row: &ModelRow) -> Vec<u8> {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<Vec<u8>>(
        "SELECT validation_predictions FROM lead_scoring.models WHERE name = $1 AND version = $2",
        &[row.name.as_str().into(), row.version.into()],
    )
    .ok()
    .flatten()
    .unwrap_or_default()
}

/// The global importance stored with a version (jsonb; null when absent).
pub fn stored_importance(row: &ModelRow) -> serde_json::Value {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<JsonB>(
        "SELECT importance FROM lead_scoring.models WHERE name = $1 AND version = $2",
        &[row.name.as_str().into(), row.version.into()],
    )
    .ok()
    .flatten()
    .map(|j| j.0)
    .unwrap_or_default()
}

/// The reference distributions and the test metrics stored with a version.
pub fn reference_and_test_metrics(row: &ModelRow) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
    let _settings = CatalogSettings::pin();
    Spi::connect(|client| {
        let t = client.select(
            "SELECT reference, metrics -> 'test' FROM lead_scoring.models WHERE name = $1 AND version = $2",
            Some(1),
            &[row.name.as_str().into(), row.version.into()],
        )?;
        let r = t.first();
        Ok::<_, pgrx::spi::Error>((r.get::<JsonB>(1)?.map(|j| j.0), r.get::<JsonB>(2)?.map(|j| j.0)))
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")))
}

/// Replaces the tiers of a version.
pub fn store_tiers(row: &ModelRow, tiers: serde_json::Value) {
    let _settings = CatalogSettings::pin();
    Spi::run_with_args(
        "UPDATE lead_scoring.models SET tiers = $3 WHERE name = $1 AND version = $2",
        &[row.name.as_str().into(), row.version.into(), JsonB(tiers).into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot update tiers: {e}")));
}

/// Marks a version retired.
pub fn mark_retired(name: &str, version: i32) {
    let _settings = CatalogSettings::pin();
    Spi::run_with_args(
        "UPDATE lead_scoring.models SET retired_at = now() WHERE name = $1 AND version = $2",
        &[name.into(), version.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot retire model \"{name}\": {e}")));
}

/// What `report()` shows of a version beside its model card.
pub struct StoredForReport {
    /// deployed, retired, pending approval, rejected or not deployed.
    pub status: String,
    pub algorithm: String,
    pub created_at: String,
    pub metrics: serde_json::Value,
    /// Encoded validation predictions (see `decode_scored_labels`).
    pub predictions: Vec<u8>,
    pub importance: serde_json::Value,
}

/// The stored fields `report()` draws from.
pub fn stored_for_report(row: &ModelRow) -> StoredForReport {
    let _settings = CatalogSettings::pin();
    let (status, algorithm, created_at, metrics, predictions, importance) = Spi::connect(|client| {
        let t = client.select(
            "SELECT deployed, algorithm, to_char(created_at, 'YYYY-MM-DD HH24:MI TZ'), metrics, validation_predictions, importance,
                    retired_at IS NOT NULL, approval
               FROM lead_scoring.models WHERE name = $1 AND version = $2",
            Some(1),
            &[row.name.as_str().into(), row.version.into()],
        )?;
        let r = t.first();
        let json =
            |i: usize| -> Result<serde_json::Value, pgrx::spi::Error> { Ok(r.get::<JsonB>(i)?.map(|j| j.0).unwrap_or_default()) };
        let approval = r.get::<String>(8)?;
        let status = version_status(r.get::<bool>(1)?.unwrap_or(false), r.get::<bool>(7)?.unwrap_or(false), approval.as_deref());
        Ok::<_, pgrx::spi::Error>((
            status.to_string(),
            r.get::<String>(2)?.unwrap_or_default(),
            r.get::<String>(3)?.unwrap_or_default(),
            json(4)?,
            r.get::<Vec<u8>>(5)?.unwrap_or_default(),
            json(6)?,
        ))
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")));
    StoredForReport { status, algorithm, created_at, metrics, predictions, importance }
}

/// A newly trained version, stored undeployed (deployment is its own step, see [`deploy_version`]).
pub struct NewVersion<'a> {
    pub name: &'a str,
    pub version: i32,
    pub algorithm: &'a str,
    pub label: &'a str,
    pub positive_label: Option<&'a str>,
    pub source: &'a str,
    pub features: serde_json::Value,
    /// The options as the caller gave them.
    pub options: serde_json::Value,
    pub split: serde_json::Value,
    pub training: serde_json::Value,
    pub metrics: serde_json::Value,
    pub threshold: f64,
    pub tiers: serde_json::Value,
    pub artifact: Vec<u8>,
    pub validation_predictions: Vec<u8>,
    pub importance: serde_json::Value,
    /// Reference distributions for drift() and monitor().
    pub reference: JsonB,
    /// The lead keys of each part (`PartKeys::encode`), when the version had a lead key.
    pub split_keys: Option<Vec<u8>>,
    /// Stored pending approval (`options.deploy = 'approval'`).
    pub pending: bool,
}

/// Stores a new version (call under [`lock_model_name`], with [`next_version`]'s number).
///
/// Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot predates the lock, so a
/// version another session stored in between is invisible to [`next_version`] and the INSERT
/// meets the unique index: that is reported as the serialization failure it is (`40001`, which
/// clients retry), not as a unique violation.
pub fn insert_version(v: NewVersion<'_>) {
    let (name, version) = (v.name.to_string(), v.version);
    PgTryBuilder::new(move || insert_version_row(v))
        .catch_when(PgSqlErrorCode::ERRCODE_UNIQUE_VIOLATION, move |_| {
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE,
                format!(
                    "could not serialize access: another session stored version {version} of model \"{name}\" after this transaction's snapshot was taken"
                ),
                "retry the transaction; in READ COMMITTED (the default) concurrent train() calls of one name simply take the next versions",
            )
        })
        .execute()
}

fn insert_version_row(v: NewVersion<'_>) {
    let _settings = CatalogSettings::pin();
    Spi::run_with_args(
        "INSERT INTO lead_scoring.models
           (name, version, algorithm, label, positive_label, source, features, options, split, training,
            metrics, threshold, tiers, artifact, validation_predictions, deployed, importance, reference, split_keys, approval)
         VALUES ($1, $2, $16, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $17, $18, $19,
                 CASE WHEN $20 THEN 'pending' END)",
        &[
            v.name.into(),
            v.version.into(),
            v.label.into(),
            v.positive_label.into(),
            v.source.into(),
            JsonB(v.features).into(),
            JsonB(v.options).into(),
            JsonB(v.split).into(),
            JsonB(v.training).into(),
            JsonB(v.metrics).into(),
            v.threshold.into(),
            JsonB(v.tiers).into(),
            v.artifact.into(),
            v.validation_predictions.into(),
            false.into(),
            v.algorithm.into(),
            JsonB(v.importance).into(),
            v.reference.into(),
            v.split_keys.into(),
            v.pending.into(),
        ],
    )
    .unwrap_or_else(|e| invalid(format!("cannot store the model: {e}")));
}
