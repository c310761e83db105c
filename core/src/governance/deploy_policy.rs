//! Governance rules without a database: the auto-deploy policy of retraining, the version a
//! rollback returns to (from the deployment history), and the live model's ROC AUC on a new
//! version's test rows.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core_err;
use crate::data::Part;
use crate::data::{Column, RawValue};
use crate::evaluation::{delong_compare, roc_auc};
use crate::models::LeadModel;
use crate::CoreResult;

/// `options.deploy`: what retraining does with the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeployPolicy {
    /// Deploy every new version.
    Always,
    /// Deploy when there is no live version, or when the new version's test ROC AUC is at least
    /// the live version's on the same (newest) test rows (plus `options.deploy_margin`, and
    /// significantly better under `options.deploy_test`).
    IfBetter,
    /// Never deploy automatically (not even the first version).
    Never,
    /// Store the new version as pending; `approve()` by an approver deploys it.
    Approval,
}

impl DeployPolicy {
    pub fn parse(v: &Value) -> CoreResult<DeployPolicy> {
        match v.as_str() {
            Some("always") => Ok(DeployPolicy::Always),
            Some("if_better") => Ok(DeployPolicy::IfBetter),
            Some("never") => Ok(DeployPolicy::Never),
            Some("approval") => Ok(DeployPolicy::Approval),
            _ => Err(core_err!(
                InvalidArgument,
                "option \"deploy\" must be \"always\", \"if_better\", \"never\" or \"approval\", got {v}"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeployPolicy::Always => "always",
            DeployPolicy::IfBetter => "if_better",
            DeployPolicy::Never => "never",
            DeployPolicy::Approval => "approval",
        }
    }
}

/// The significance level of `options.deploy_test = "significant"`.
pub const DEPLOY_TEST_ALPHA: f64 = 0.05;

/// `options.deploy` with the refinements of `if_better`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeployRule {
    pub policy: DeployPolicy,
    /// `options.deploy_margin`: the new test ROC AUC must reach the live one plus this (a
    /// negative margin is a tolerance: a slightly worse but fresher model still deploys).
    pub margin: f64,
    /// `options.deploy_test = "significant"`: the new version must also be better by DeLong's
    /// paired test on the same test rows, p < [`DEPLOY_TEST_ALPHA`].
    pub significant: bool,
}

impl Default for DeployRule {
    fn default() -> Self {
        DeployRule { policy: DeployPolicy::IfBetter, margin: 0.0, significant: false }
    }
}

impl DeployRule {
    /// Parses `options.deploy_margin` (a number between -1 and 1).
    pub fn parse_margin(v: &Value) -> CoreResult<f64> {
        match v.as_f64() {
            Some(m) if m > -1.0 && m < 1.0 => Ok(m),
            _ => Err(core_err!(
                InvalidArgument,
                "option \"deploy_margin\" must be a number between -1 and 1 (a difference of ROC AUC), got {v}"
            )),
        }
    }

    /// Parses `options.deploy_test`: `"significant"` or `"none"`.
    pub fn parse_test(v: &Value) -> CoreResult<bool> {
        match v.as_str() {
            Some("significant") => Ok(true),
            Some("none") => Ok(false),
            _ => Err(core_err!(InvalidArgument, "option \"deploy_test\" must be \"significant\" or \"none\", got {v}")),
        }
    }

    /// A margin or a test means nothing unless the policy compares versions.
    pub fn check(&self, margin_given: bool, test_given: bool) -> CoreResult<()> {
        if (margin_given || test_given) && self.policy != DeployPolicy::IfBetter {
            let which = if margin_given { "deploy_margin" } else { "deploy_test" };
            return Err(core_err!(
                InvalidArgument,
                "option \"{which}\" applies only with \"deploy\": \"if_better\", not \"{}\"",
                self.policy.as_str()
            ));
        }
        Ok(())
    }
}

/// The outcome of the policy, with the words that explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployDecision {
    pub deploy: bool,
    pub because: String,
    /// The live version's ROC AUC on the new version's test rows, when measured.
    pub live_auc: Option<f64>,
    /// DeLong's two-sided p-value of new versus live on those rows (`deploy_test` only).
    pub p_value: Option<f64>,
    /// The new version is pending approval (`options.deploy = "approval"`).
    pub pending: bool,
}

/// The live and the new version's scores on the new version's test rows, with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct SameRows {
    pub live: Vec<f64>,
    pub new: Vec<f64>,
    pub labels: Vec<bool>,
}

/// Applies the rule. `live` holds both versions' scores on the new version's test rows (`Err`
/// says why the live version could not score them); `None` when nothing is deployed.
pub fn decide(rule: DeployRule, new_auc: Option<f64>, live: Option<Result<SameRows, String>>) -> DeployDecision {
    let live_auc = match &live {
        Some(Ok(rows)) => roc_auc(&rows.live, &rows.labels),
        _ => None,
    };
    let d = |deploy: bool, because: String| DeployDecision { deploy, because, live_auc, p_value: None, pending: false };
    match (rule.policy, live) {
        (DeployPolicy::Never, _) => d(false, "options.deploy is \"never\"".into()),
        (DeployPolicy::Always, _) => d(true, "options.deploy is \"always\"".into()),
        (DeployPolicy::Approval, _) => DeployDecision {
            pending: true,
            ..d(false, "options.deploy is \"approval\": pending until lead_scoring.approve()".into())
        },
        (DeployPolicy::IfBetter, None) => d(true, "no version was deployed".into()),
        (DeployPolicy::IfBetter, Some(Err(why))) => {
            d(false, format!("the live version could not be evaluated on the new test rows: {why}"))
        }
        (DeployPolicy::IfBetter, Some(Ok(rows))) => if_better(rule, new_auc, live_auc, &rows, d),
    }
}

fn if_better(
    rule: DeployRule,
    new_auc: Option<f64>,
    live_auc: Option<f64>,
    rows: &SameRows,
    d: impl Fn(bool, String) -> DeployDecision,
) -> DeployDecision {
    let (n, l) = match (new_auc, live_auc) {
        (Some(n), Some(l)) => (n, l),
        _ => return d(false, "ROC AUC is undefined on the test rows (one class only)".into()),
    };
    let margin = if rule.margin != 0.0 { format!(" + margin {}", rule.margin) } else { String::new() };
    // Compared with a little slack: the sum can land a rounding error off the exact value.
    if n < l + rule.margin - 1e-12 {
        return d(false, format!("new test ROC AUC {n:.4} < live {l:.4}{margin} on the same test rows"));
    }
    let reached = format!("new test ROC AUC {n:.4} >= live {l:.4}{margin} on the same test rows");
    if !rule.significant {
        return d(true, reached);
    }
    match delong_compare(&rows.new, &rows.live, &rows.labels, 0.95) {
        Err(e) => d(false, format!("{reached}, but DeLong's test cannot be computed: {}", e.message)),
        Ok(c) => {
            let better = c.difference > 0.0 && c.p_value < DEPLOY_TEST_ALPHA;
            let words = if better { "significantly better" } else { "not significantly better" };
            DeployDecision {
                p_value: Some(c.p_value),
                ..d(
                    better,
                    format!(
                        "{reached}; {words} by DeLong's paired test (p = {:.4}, p < {DEPLOY_TEST_ALPHA} required)",
                        c.p_value
                    ),
                )
            }
        }
    }
}

/// Scores the rows of `parts` marked as test with the live model, reading its features by name
/// from `columns` (the new version's training table), next to the new version's `predictions`.
pub fn score_test_rows(
    live: &LeadModel,
    columns: &[Column],
    parts: &[Part],
    labels: &[bool],
    predictions: &[f64],
) -> Result<SameRows, String> {
    let mut features = Vec::new();
    for name in live.feature_names() {
        match columns.iter().find(|c| c.name == name) {
            Some(c) => features.push(c),
            None => return Err(format!("its feature \"{name}\" is not among the new version's columns")),
        }
    }
    let mut rows = SameRows { live: Vec::new(), new: Vec::new(), labels: Vec::new() };
    let mut raw: Vec<RawValue<'_>> = Vec::with_capacity(features.len());
    let mut scratch = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if *part != Part::Test {
            continue;
        }
        raw.clear();
        raw.extend(features.iter().map(|c| c.value(i)));
        rows.live.push(live.probability(&raw, &mut scratch).map_err(|e| e.message)?);
        rows.new.push(predictions[i]);
        rows.labels.push(labels[i]);
    }
    Ok(rows)
}

/// One entry of a model's deployment history, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryEvent {
    Deployed(i32),
    /// A rollback from `from` to `to` (logged right after the `Deployed(to)` it caused).
    RolledBack {
        from: i32,
        to: i32,
    },
    Retired(i32),
}

/// The version `rollback()` returns to: the one deployed before the current one, skipping
/// versions that were rolled back from or retired. `None` when there is none.
pub fn rollback_target(history: &[HistoryEvent], current: i32) -> Option<i32> {
    let mut stack: Vec<i32> = Vec::new();
    for event in history {
        match *event {
            HistoryEvent::Deployed(v) => {
                if stack.last() != Some(&v) {
                    stack.push(v);
                }
            }
            HistoryEvent::RolledBack { from, to } => {
                // A version rolled back from is out of the history (until deployed again on
                // purpose), wherever it appears: a second rollback must not return to it.
                stack.retain(|x| *x != from);
                stack.dedup();
                if stack.last() != Some(&to) {
                    stack.push(to);
                }
            }
            HistoryEvent::Retired(v) => stack.retain(|x| *x != v),
        }
    }
    stack.dedup();
    while stack.last() == Some(&current) {
        stack.pop();
    }
    stack.last().copied()
}

#[cfg(test)]
#[path = "deploy_policy_tests.rs"]
mod tests;
