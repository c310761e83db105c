//! The approval workflow and the card people write, in the catalog: who may approve
//! (`lead_scoring.approvers`), a version's approval state (`models.approval`), the card fields
//! and the decision log. Card edits and decisions are `model_events` rows (`card_changed`,
//! `decision`), so each keeps who wrote it and when; the card shows the latest value of each
//! field.

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::{json, Value};

use crate::catalog::models::{refused_owner, require_owner, ModelRow};
use crate::core::report::{CardInput, EditedCard};
use crate::errors::{invalid, raise_with_hint};
use crate::pg::catalog_settings::CatalogSettings;

/// The card fields `set_card()` writes, in the order of its arguments.
pub const CARD_FIELDS: [&str; 3] = ["owner", "intended_use", "limitations"];

/// Refuses (`42501`) a caller who may not approve, reject, edit the card of or log decisions
/// about `name`: with `lead_scoring.approvers` set, members of one of its roles and superusers
/// (and, when `owner_too`, the model's owner and its members: the card and the decision log
/// are the owner's too); with it empty, the model's owner, its members and superusers.
pub fn require_approver(name: &str, approvers: &[String], action: &str, owner_too: bool) {
    let _settings = CatalogSettings::pin();
    if approvers.is_empty() {
        require_owner(name);
        return;
    }
    let allowed = Spi::get_one_with_args::<bool>(
        "SELECT coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user), false)
             OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r
                         WHERE r.rolname::text OPERATOR(pg_catalog.=) ANY ($1::text[])
                           AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))",
        &[approvers.to_vec().into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot check lead_scoring.approvers: {e}")));
    if allowed == Some(true) || (owner_too && refused_owner(name).is_none()) {
        return;
    }
    let who = Spi::get_one::<String>("SELECT current_user::text").ok().flatten().unwrap_or_default();
    let owners = if owner_too { " nor of the model's owner" } else { "" };
    raise_with_hint(
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!(
            "role \"{who}\" may not {action} model \"{name}\": it is not a member of a role in lead_scoring.approvers{owners}"
        ),
        format!("lead_scoring.approvers is \"{}\"; GRANT one of these roles to \"{who}\"", approvers.join(", ")),
    );
}

/// Raises `42704` unless model `name` (and `version`, when given; retired ones count) exists.
pub fn require_exists(name: &str, version: Option<i32>) {
    let _settings = CatalogSettings::pin();
    let (model, exact) = Spi::get_two_with_args::<bool, bool>(
        "SELECT EXISTS (SELECT 1 FROM lead_scoring.models WHERE name OPERATOR(pg_catalog.=) $1),
                EXISTS (SELECT 1 FROM lead_scoring.models WHERE name OPERATOR(pg_catalog.=) $1
                           AND ($2::int IS NULL OR version OPERATOR(pg_catalog.=) $2::int))",
        &[name.into(), version.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")));
    if model != Some(true) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{name}\" does not exist"),
            "train it with lead_scoring.train(), or list models in lead_scoring.model_overview",
        );
    }
    if exact != Some(true) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{name}\" has no version {}", version.unwrap_or_default()),
            "list its versions in lead_scoring.model_overview",
        );
    }
}

/// Sets a version's approval state (`approved` or `rejected`).
pub fn set_approval(name: &str, version: i32, state: &str) {
    let _settings = CatalogSettings::pin();
    Spi::run_with_args(
        "UPDATE lead_scoring.models SET approval = $3
          WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
        &[name.into(), version.into(), state.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot update the approval of model \"{name}\": {e}")));
    crate::catalog::invalidation::models_changed();
}

/// The card fields of `name`: for each, the value of its latest `card_changed` event (an
/// empty text clears it).
pub fn edited_card(name: &str) -> EditedCard {
    let _settings = CatalogSettings::pin();
    let fields = Spi::connect(|client| {
        let t = client.select(
            "SELECT f, (SELECT e.detail OPERATOR(pg_catalog.->>) f FROM lead_scoring.model_events AS e
                         WHERE e.model_name OPERATOR(pg_catalog.=) $1 AND e.event OPERATOR(pg_catalog.=) 'card_changed'
                           AND e.detail OPERATOR(pg_catalog.?) f
                         ORDER BY e.id DESC LIMIT 1)
               FROM pg_catalog.unnest($2::text[]) WITH ORDINALITY AS u(f, i) ORDER BY i",
            None,
            &[name.into(), CARD_FIELDS.iter().map(|f| f.to_string()).collect::<Vec<_>>().into()],
        )?;
        t.map(|r| r.get::<String>(2)).collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.model_events: {e}")));
    let field = |i: usize| fields.get(i).cloned().flatten().filter(|v| !v.trim().is_empty());
    EditedCard { owner: field(0), intended_use: field(1), limitations: field(2) }
}

/// Appends a `card_changed` event with the fields given (`changes` maps field to text).
pub fn write_card(name: &str, changes: &Value) {
    crate::catalog::events::log_event(name, None, "card_changed", changes.clone(), None);
}

/// Appends a `decision` event and returns its id.
pub fn log_decision(name: &str, version: Option<i32>, decision: &str) -> i64 {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<i64>(
        "INSERT INTO lead_scoring.model_events (model_name, version, event, detail, reason)
         VALUES ($1, $2, 'decision', $3, $4) RETURNING id",
        &[name.into(), version.into(), JsonB(json!({})).into(), decision.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot write lead_scoring.model_events: {e}")))
    .unwrap_or_else(|| invalid("cannot write lead_scoring.model_events: no id returned"))
}

/// The model card's fields of a version (its change history is filled from the event log).
pub fn card_input(row: &ModelRow) -> CardInput {
    let _settings = CatalogSettings::pin();
    Spi::connect(|client| {
        let t = client.select(
            "SELECT deployed, retired_at IS NOT NULL, algorithm, label, positive_label, source,
                    to_char(created_at, 'YYYY-MM-DD HH24:MI:SS TZ'), created_by::text, features, split, training, metrics,
                    threshold, tiers, approval
               FROM lead_scoring.models WHERE name = $1 AND version = $2",
            Some(1),
            &[row.name.as_str().into(), row.version.into()],
        )?;
        let r = t.first();
        let json =
            |i: usize| -> Result<serde_json::Value, pgrx::spi::Error> { Ok(r.get::<JsonB>(i)?.map(|j| j.0).unwrap_or_default()) };
        Ok::<_, pgrx::spi::Error>(CardInput {
            name: row.name.clone(),
            version: row.version,
            deployed: r.get(1)?.unwrap_or(false),
            retired: r.get(2)?.unwrap_or(false),
            algorithm: r.get(3)?.unwrap_or_default(),
            label: r.get(4)?.unwrap_or_default(),
            positive_label: r.get(5)?,
            converted_values: row.outcomes.as_ref().map(|o| o.converted.clone()).unwrap_or_default(),
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
            approval: r.get(15)?,
            edited: EditedCard::default(),
        })
    })
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")))
}

/// The role that trained version `version` of model `name` (`models.created_by`).
pub fn trained_by(name: &str, version: i32) -> String {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<String>(
        "SELECT created_by::text FROM lead_scoring.models WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
        &[name.into(), version.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.models: {e}")))
    .unwrap_or_default()
}

/// Raises `42501` when the current role trained the version and `lead_scoring.approval_separation`
/// is on: then a second role must approve it.
pub fn require_second_approver(name: &str, version: i32) {
    if !crate::settings::approval_separation() {
        return;
    }
    let _settings = CatalogSettings::pin();
    let trainer = trained_by(name, version);
    let me = Spi::get_one::<String>("SELECT current_user::text").ok().flatten().unwrap_or_default();
    if trainer == me {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("role \"{me}\" trained version {version} of model \"{name}\" and may not approve it: lead_scoring.approval_separation is on"),
            "another role that may approve (lead_scoring.approvers, or the model's owner) approves it; reject() is still allowed",
        );
    }
}
