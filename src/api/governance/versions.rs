//! Registry governance: `deploy()`, `rollback()`, `retire()`, and the auto-deploy policy that retraining
//! (`train()` through `store()`) applies. Every change appends to `model_events` with the role
//! (`actor`) and a reason.

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::{json, Value};

use crate::catalog::events::{deployment_history, log_event};
use crate::catalog::models::{
    deploy_version, deployed_version, load_model_row, lock_model_name, mark_retired, parse_model_spec, ModelSpec,
};
use crate::core::data::TrainingData;
use crate::core::governance::{decide, decide_regression, rollback_target, score_test_rows, DeployDecision};
use crate::core::training::TrainOptions;
use crate::core::training::TrainedModel;
use crate::errors::{invalid, raise_with_hint, required};
use crate::executor::cache;

/// A model name without a version (rejects 'name@3').
pub fn plain_name(model_name: Option<&str>) -> String {
    let spec = parse_model_spec(required(model_name, "model_name"));
    if spec.version.is_some() {
        invalid("give the model name without a version; the version is its own argument");
    }
    spec.name
}

/// Decides whether a newly trained `version` of `name` is deployed, under `options.deploy` (with
/// its margin and significance test), and logs a `deploy_decision` event with the numbers that
/// decided it. Called by `store()` before the new row is inserted (undeployed); the caller
/// deploys it with [`deploy_new_version`]. Returns the decision and its record for the training
/// summary.
pub fn decide_deployment(
    name: &str,
    version: i32,
    opts: &TrainOptions,
    data: &TrainingData,
    trained: &TrainedModel,
) -> (DeployDecision, Value) {
    let live_version = deployed_version(name);
    if trained.model.is_regression() {
        return decide_regression_deployment(name, version, opts, data, trained, live_version);
    }
    let new_auc = trained.metrics["test"]["roc_auc"].as_f64();
    let rule = opts.deploy_rule();
    let live = live_version.map(|v| {
        let live = cache::get(&format!("{name}@{v}"));
        score_test_rows(&live.model, &data.columns, &trained.parts, &trained.labels, &trained.predictions)
    });
    let unmeasured = match &live {
        Some(Err(why)) => Some(why.clone()),
        _ => None,
    };
    let decision = decide(rule, new_auc, live);
    let live_auc = match (decision.live_auc, unmeasured) {
        (Some(auc), _) => json!(auc),
        (None, Some(why)) => json!(why),
        (None, None) => Value::Null,
    };
    let test_rows = trained.parts.iter().filter(|p| **p == crate::core::data::Part::Test).count();
    let mut detail = json!({"policy": rule.policy.as_str(), "deploy": decision.deploy, "live_version": live_version,
                            "new_test_roc_auc": new_auc, "live_test_roc_auc_on_same_rows": live_auc, "test_rows": test_rows});
    // The refinements' keys only when asked for, so plain policies log what they always did.
    if rule.margin != 0.0 {
        detail["margin"] = json!(rule.margin);
    }
    if rule.significant {
        detail["deploy_test"] = json!("significant");
        detail["p_value"] = json!(decision.p_value);
    }
    if decision.pending {
        detail["approval"] = json!("pending");
    }
    log_event(name, Some(version), "deploy_decision", detail.clone(), Some(&decision.because));
    detail["reason"] = json!(decision.because);
    (decision, detail)
}

/// [`decide_deployment`] for a regression version: test RMSE against the live version's on the
/// same test rows (`options.deploy_margin` and `deploy_test` are about ROC AUC and not read).
fn decide_regression_deployment(
    name: &str,
    version: i32,
    opts: &TrainOptions,
    data: &TrainingData,
    trained: &TrainedModel,
    live_version: Option<i32>,
) -> (DeployDecision, Value) {
    let rule = opts.deploy_rule();
    let live = live_version.map(|v| {
        let live = cache::get(&format!("{name}@{v}"));
        let rows = score_test_rows(&live.model, &data.columns, &trained.parts, &trained.labels, &trained.predictions);
        (live.model.is_regression(), rows)
    });
    let targets: Vec<f64> =
        trained.parts.iter().zip(&data.targets).filter(|(p, _)| **p == crate::core::data::Part::Test).map(|(_, &t)| t).collect();
    let decision = decide_regression(rule, live, &targets);
    let mut detail = json!({"policy": rule.policy.as_str(), "deploy": decision.deploy, "live_version": live_version,
                            "new_test_rmse": trained.metrics["test"]["rmse"], "test_rows": targets.len()});
    if decision.pending {
        detail["approval"] = json!("pending");
    }
    log_event(name, Some(version), "deploy_decision", detail.clone(), Some(&decision.because));
    detail["reason"] = json!(decision.because);
    (decision, detail)
}

/// Deploys a version `train()` just stored, after a positive [`decide_deployment`].
pub fn deploy_new_version(name: &str, version: i32) {
    let reason = if deployed_version(name).is_none() {
        "first version of this model"
    } else {
        "auto-deploy after training (options.deploy)"
    };
    deploy_version(name, version, Some(reason));
}
/// Deploys a version of a model: `score(name, ...)` uses it from then on, in every session.
/// Returns what changed as jsonb.
#[pg_extern(volatile, parallel_unsafe)]
fn deploy(model_name: Option<&str>, version: Option<i32>, reason: default!(Option<&str>, "NULL")) -> JsonB {
    let name = required(model_name, "model_name");
    let version = required(version, "version");
    let spec = parse_model_spec(name);
    if spec.version.is_some() {
        invalid("give the version as the second argument, not as 'name@version'");
    }
    let previous = deploy_version(&spec.name, version, reason);
    JsonB(json!({"model": spec.name, "deployed_version": version, "previous_version": previous}))
}

/// Deploys the version that was live before the current one (skipping versions rolled back
/// from or retired), logging `deployed` and `rolled_back` events with your role and reason.
/// Returns `{"model", "deployed_version", "previous_version"}`.
#[pg_extern(volatile, parallel_unsafe)]
fn rollback(model_name: Option<&str>, reason: default!(Option<&str>, "NULL")) -> JsonB {
    let name = plain_name(model_name);
    lock_model_name(&name);
    let current = deployed_version(&name).unwrap_or_else(|| {
        load_model_row(&ModelSpec { name: name.clone(), version: None });
        unreachable!("load_model_row raises when nothing is deployed")
    });
    let target = rollback_target(&deployment_history(&name), current).unwrap_or_else(|| {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("model \"{name}\" has no earlier deployed version to roll back to"),
            "deploy a specific version with lead_scoring.deploy(name, version, reason)",
        )
    });
    deploy_version(&name, target, reason);
    log_event(&name, Some(target), "rolled_back", json!({"from": current, "to": target}), reason);
    JsonB(json!({"model": name, "deployed_version": target, "previous_version": current}))
}

/// Retires a version: it can no longer be deployed or scored as 'name@version'. The deployed
/// version cannot be retired; deploy another one first. Logs a `retired` event.
#[pg_extern(volatile, parallel_unsafe)]
fn retire(model_name: Option<&str>, version: Option<i32>, reason: default!(Option<&str>, "NULL")) -> JsonB {
    let name = plain_name(model_name);
    let version = required(version, "version");
    lock_model_name(&name);
    load_model_row(&ModelSpec { name: name.clone(), version: Some(version) });
    if deployed_version(&name) == Some(version) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("version {version} of model \"{name}\" is deployed and cannot be retired"),
            "deploy another version first (lead_scoring.deploy or lead_scoring.rollback)",
        );
    }
    mark_retired(&name, version);
    log_event(&name, Some(version), "retired", json!({}), reason);
    crate::catalog::invalidation::models_changed();
    JsonB(json!({"model": name, "retired_version": version}))
}
