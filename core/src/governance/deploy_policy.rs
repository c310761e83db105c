//! Governance rules without a database: the auto-deploy policy of retraining, the version a
//! rollback returns to (from the deployment history), and the live model's ROC AUC on a new
//! version's test rows.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core_err;
use crate::data::Part;
use crate::data::{Column, RawValue};
use crate::evaluation::roc_auc;
use crate::models::LeadModel;
use crate::CoreResult;

/// `options.deploy`: what retraining does with the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeployPolicy {
    /// Deploy every new version.
    Always,
    /// Deploy when there is no live version, or when the new version's test ROC AUC is at least
    /// the live version's on the same (newest) test rows.
    IfBetter,
    /// Never deploy automatically (not even the first version).
    Never,
}

impl DeployPolicy {
    pub fn parse(v: &Value) -> CoreResult<DeployPolicy> {
        match v.as_str() {
            Some("always") => Ok(DeployPolicy::Always),
            Some("if_better") => Ok(DeployPolicy::IfBetter),
            Some("never") => Ok(DeployPolicy::Never),
            _ => Err(core_err!(InvalidArgument, "option \"deploy\" must be \"always\", \"if_better\" or \"never\", got {v}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeployPolicy::Always => "always",
            DeployPolicy::IfBetter => "if_better",
            DeployPolicy::Never => "never",
        }
    }
}

/// The outcome of the policy, with the words that explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployDecision {
    pub deploy: bool,
    pub because: String,
}

/// Applies the policy. `live` is the live version's ROC AUC on the new version's test rows
/// (`Err` says why it could not be measured); `None` when nothing is deployed.
pub fn decide(policy: DeployPolicy, new_auc: Option<f64>, live: Option<Result<Option<f64>, String>>) -> DeployDecision {
    let d = |deploy: bool, because: String| DeployDecision { deploy, because };
    match (policy, live) {
        (DeployPolicy::Never, _) => d(false, "options.deploy is \"never\"".into()),
        (DeployPolicy::Always, _) => d(true, "options.deploy is \"always\"".into()),
        (DeployPolicy::IfBetter, None) => d(true, "no version was deployed".into()),
        (DeployPolicy::IfBetter, Some(Err(why))) => {
            d(false, format!("the live version could not be evaluated on the new test rows: {why}"))
        }
        (DeployPolicy::IfBetter, Some(Ok(live_auc))) => match (new_auc, live_auc) {
            (Some(n), Some(l)) if n >= l => d(true, format!("new test ROC AUC {n:.4} >= live {l:.4} on the same test rows")),
            (Some(n), Some(l)) => d(false, format!("new test ROC AUC {n:.4} < live {l:.4} on the same test rows")),
            _ => d(false, "ROC AUC is undefined on the test rows (one class only)".into()),
        },
    }
}

/// The live model's ROC AUC on the rows of `parts` marked as test, reading its features by name
/// from `columns` (the new version's training table).
pub fn live_auc_on_test_rows(
    live: &LeadModel,
    columns: &[Column],
    parts: &[Part],
    labels: &[bool],
) -> Result<Option<f64>, String> {
    let mut features = Vec::new();
    for name in live.feature_names() {
        match columns.iter().find(|c| c.name == name) {
            Some(c) => features.push(c),
            None => return Err(format!("its feature \"{name}\" is not among the new version's columns")),
        }
    }
    let (mut scores, mut test_labels) = (Vec::new(), Vec::new());
    let mut raw: Vec<RawValue<'_>> = Vec::with_capacity(features.len());
    let mut scratch = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if *part != Part::Test {
            continue;
        }
        raw.clear();
        raw.extend(features.iter().map(|c| c.value(i)));
        scores.push(live.probability(&raw, &mut scratch).map_err(|e| e.message)?);
        test_labels.push(labels[i]);
    }
    Ok(roc_auc(&scores, &test_labels))
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
mod tests {
    use super::HistoryEvent::*;
    use super::*;

    #[test]
    fn a_version_rolled_back_from_is_never_returned_to() {
        // 1, 2, then 1 by hand; rollback 1 -> 2; a second rollback has nowhere left to go.
        let history = [Deployed(1), Deployed(2), Deployed(1), Deployed(2), RolledBack { from: 1, to: 2 }];
        assert_eq!(rollback_target(&history, 2), None);
        // Deployed again on purpose, it counts again.
        let again = [Deployed(1), Deployed(2), Deployed(1), RolledBack { from: 2, to: 1 }, Deployed(2), Deployed(3)];
        assert_eq!(rollback_target(&again, 3), Some(2));
    }

    #[test]
    fn rollback_goes_to_the_previous_deployment() {
        assert_eq!(rollback_target(&[Deployed(1), Deployed(2), Deployed(3)], 3), Some(2));
        assert_eq!(rollback_target(&[Deployed(1)], 1), None);
        // Deploying 1 again after 2: rolling back returns to 2.
        assert_eq!(rollback_target(&[Deployed(1), Deployed(2), Deployed(1)], 1), Some(2));
    }

    #[test]
    fn repeated_rollbacks_walk_back_and_skip_retired() {
        let mut h = vec![Deployed(1), Deployed(2), Deployed(3), Deployed(2), RolledBack { from: 3, to: 2 }];
        assert_eq!(rollback_target(&h, 2), Some(1), "a second rollback does not return to 3");
        h.push(Retired(1));
        assert_eq!(rollback_target(&h, 2), None);
        assert_eq!(rollback_target(&[Deployed(1), Deployed(2), Deployed(3), Retired(2)], 3), Some(1));
    }

    #[test]
    fn policy_decisions() {
        assert!(decide(DeployPolicy::IfBetter, Some(0.8), None).deploy);
        assert!(decide(DeployPolicy::IfBetter, Some(0.8), Some(Ok(Some(0.8)))).deploy);
        let worse = decide(DeployPolicy::IfBetter, Some(0.79), Some(Ok(Some(0.8))));
        assert!(!worse.deploy);
        assert_eq!(worse.because, "new test ROC AUC 0.7900 < live 0.8000 on the same test rows");
        assert!(!decide(DeployPolicy::IfBetter, Some(0.9), Some(Err("x".into()))).deploy);
        assert!(decide(DeployPolicy::Always, Some(0.1), Some(Ok(Some(0.9)))).deploy);
        assert!(!decide(DeployPolicy::Never, Some(0.9), None).deploy);
        assert_eq!(DeployPolicy::parse(&serde_json::json!("if_better")).unwrap(), DeployPolicy::IfBetter);
        assert!(DeployPolicy::parse(&serde_json::json!("sometimes")).is_err());
    }
}
