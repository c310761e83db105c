//! The approval workflow and the card people write: `approve()` and `reject()` of a version
//! trained under `options.deploy = 'approval'`, `set_card()` (owner, intended use, known
//! limitations) and `log_decision()`. Who may: members of a role in `lead_scoring.approvers`
//! (and the model's owner, for the card and the decision log), or, with the setting empty, the
//! model's owner (see `catalog::governance::require_approver`).
//! Each call runs in the caller's transaction: an ERROR leaves no state or event behind.

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::{json, Map, Value};

use crate::api::governance::versions::plain_name;
use crate::catalog::events::log_event;
use crate::catalog::governance::{edited_card, log_decision as append_decision, require_approver, set_approval, write_card};
use crate::catalog::governance::{require_exists, require_second_approver, CARD_FIELDS};
use crate::catalog::models::{approval_of, deploy_locked, lock_name, parse_model_spec};
use crate::errors::{invalid, raise_with_hint, required};

/// Longest text a card field, a reason or a decision may hold: a card is read by people.
const MAX_TEXT_CHARS: usize = 10_000;

/// A required, non-blank text of at most [`MAX_TEXT_CHARS`] characters.
fn written_text<'a>(value: Option<&'a str>, argument: &str) -> &'a str {
    let text = required(value, argument);
    if text.trim().is_empty() {
        invalid(format!("{argument} must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        invalid(format!("{argument} is longer than {MAX_TEXT_CHARS} characters"));
    }
    text
}

/// Checks and locks a pending version for `approve()`/`reject()`; returns the plain name.
fn pending_version(model_name: Option<&str>, version: Option<i32>, action: &str) -> (String, i32) {
    let name = plain_name(model_name);
    let version = required(version, "version");
    lock_name(&name);
    require_exists(&name, Some(version));
    require_approver(&name, &crate::settings::approvers(), action, false);
    match approval_of(&name, version).as_deref() {
        Some("pending") => (name, version),
        state => raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!(
                "version {version} of model \"{name}\" is not pending approval ({})",
                match state {
                    Some(s) => format!("it was {s}"),
                    None => "it was not trained with options.deploy = 'approval'".to_string(),
                }
            ),
            "versions waiting for approval have approval = 'pending' in lead_scoring.model_overview",
        ),
    }
}

/// Approves a version pending approval and deploys it, in one transaction: `score(name, ...)`
/// uses it from the next transaction in every session. Logs `approved` and `deployed` with the
/// approver's role and reason. With `lead_scoring.approval_separation` on, the role that
/// trained the version may not approve it. Returns `{"model", "approved_version", "previous_version"}`.
#[pg_extern(volatile, parallel_unsafe)]
fn approve(model_name: Option<&str>, version: Option<i32>, reason: Option<&str>) -> JsonB {
    let reason = written_text(reason, "reason");
    let (name, version) = pending_version(model_name, version, "approve");
    require_second_approver(&name, version);
    set_approval(&name, version, "approved");
    log_event(&name, Some(version), "approved", json!({}), Some(reason));
    let previous = deploy_locked(&name, version, Some(reason));
    JsonB(json!({"model": name, "approved_version": version, "previous_version": previous}))
}

/// Rejects a version pending approval: it stays stored, is never deployed (nor deployable),
/// and the live version keeps scoring. Logs `rejected` with the role and reason. Returns
/// `{"model", "rejected_version"}`.
#[pg_extern(volatile, parallel_unsafe)]
fn reject(model_name: Option<&str>, version: Option<i32>, reason: Option<&str>) -> JsonB {
    let reason = written_text(reason, "reason");
    let (name, version) = pending_version(model_name, version, "reject");
    set_approval(&name, version, "rejected");
    log_event(&name, Some(version), "rejected", json!({}), Some(reason));
    JsonB(json!({"model": name, "rejected_version": version}))
}

/// Edits the model card's owner, intended use and known limitations of a model name (every
/// version's card shows them). A NULL argument leaves that field as it is; an empty text clears
/// it. Logged as a `card_changed` event. Returns the card fields after the edit.
#[pg_extern(volatile, parallel_unsafe)]
fn set_card(
    model_name: Option<&str>,
    owner: default!(Option<&str>, "NULL"),
    intended_use: default!(Option<&str>, "NULL"),
    limitations: default!(Option<&str>, "NULL"),
) -> JsonB {
    let name = plain_name(model_name);
    let mut changes = Map::new();
    for (field, value) in CARD_FIELDS.iter().zip([owner, intended_use, limitations]) {
        if let Some(text) = value {
            if text.chars().count() > MAX_TEXT_CHARS {
                invalid(format!("{field} is longer than {MAX_TEXT_CHARS} characters"));
            }
            changes.insert(field.to_string(), Value::String(text.to_string()));
        }
    }
    if changes.is_empty() {
        invalid("give at least one of owner, intended_use and limitations (an empty text clears a field)");
    }
    lock_name(&name);
    require_exists(&name, None);
    require_approver(&name, &crate::settings::approvers(), "edit the card of", true);
    write_card(&name, &Value::Object(changes));
    let card = edited_card(&name);
    JsonB(json!({"model": name, "owner": card.owner, "intended_use": card.intended_use, "limitations": card.limitations}))
}

/// Appends a free-form decision about a model (`'name'`) or one of its versions (`'name@3'`)
/// to its decision log, with your role and the time: listed in `lead_scoring.decisions` and
/// in the model card's Decisions section. Returns the entry's id.
#[pg_extern(volatile, parallel_unsafe)]
fn log_decision(model_name: Option<&str>, decision: Option<&str>) -> i64 {
    let spec = parse_model_spec(required(model_name, "model_name"));
    let decision = written_text(decision, "decision");
    lock_name(&spec.name);
    require_exists(&spec.name, spec.version);
    require_approver(&spec.name, &crate::settings::approvers(), "log decisions about", true);
    append_decision(&spec.name, spec.version, decision)
}
