//! Tests of the deploy policy and the rollback target.
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

/// Scores on eight test rows: `live` ranks them perfectly when `perfect`, else with two swaps.
fn same_rows(new: &[f64], live: &[f64]) -> SameRows {
    let labels = vec![false, false, false, false, true, true, true, true];
    SameRows { live: live.to_vec(), new: new.to_vec(), labels }
}

fn rule(policy: DeployPolicy, margin: f64, significant: bool) -> DeployRule {
    DeployRule { policy, margin, significant }
}

#[test]
fn policy_decisions() {
    let ranks = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    let if_better = DeployRule::default();
    assert!(decide(if_better, Some(0.8), None).deploy);
    let equal = decide(if_better, Some(1.0), Some(Ok(same_rows(&ranks, &ranks))));
    assert!(equal.deploy, "{}", equal.because);
    assert_eq!(equal.live_auc, Some(1.0));
    let worse = decide(if_better, Some(0.99), Some(Ok(same_rows(&ranks, &ranks))));
    assert!(!worse.deploy);
    assert_eq!(worse.because, "new test ROC AUC 0.9900 < live 1.0000 on the same test rows");
    assert!(!decide(if_better, Some(0.9), Some(Err("x".into()))).deploy);
    let always = decide(rule(DeployPolicy::Always, 0.0, false), Some(0.1), Some(Ok(same_rows(&ranks, &ranks))));
    assert!(always.deploy);
    assert!(!decide(rule(DeployPolicy::Never, 0.0, false), Some(0.9), None).deploy);
    let approval = decide(rule(DeployPolicy::Approval, 0.0, false), Some(0.9), None);
    assert!(!approval.deploy && approval.pending, "{approval:?}");
    assert_eq!(DeployPolicy::parse(&serde_json::json!("if_better")).unwrap(), DeployPolicy::IfBetter);
    assert_eq!(DeployPolicy::parse(&serde_json::json!("approval")).unwrap(), DeployPolicy::Approval);
    assert!(DeployPolicy::parse(&serde_json::json!("sometimes")).is_err());
}

#[test]
fn a_margin_raises_the_bar_and_a_negative_one_tolerates() {
    // The live version ranks 14 of 16 pairs right: AUC 0.875.
    let live = [0.1, 0.2, 0.3, 0.6, 0.5, 0.4, 0.7, 0.8];
    let new = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    let rows = || Some(Ok(same_rows(&new, &live)));
    assert!(decide(rule(DeployPolicy::IfBetter, 0.1, false), Some(1.0), rows()).deploy, "1.0 >= 0.875 + 0.1");
    let short = decide(rule(DeployPolicy::IfBetter, 0.2, false), Some(1.0), rows());
    assert!(!short.deploy);
    assert_eq!(short.because, "new test ROC AUC 1.0000 < live 0.8750 + margin 0.2 on the same test rows");
    assert!(decide(rule(DeployPolicy::IfBetter, -0.1, false), Some(0.8), rows()).deploy, "0.8 >= 0.875 - 0.1");
    assert!(!decide(rule(DeployPolicy::IfBetter, 0.0, false), Some(0.8), rows()).deploy);
}

#[test]
fn the_significance_test_needs_more_than_a_higher_auc() {
    // Eight rows: a better AUC, but far from significant.
    let live = [0.1, 0.2, 0.3, 0.6, 0.5, 0.4, 0.7, 0.8];
    let new = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    let few = decide(rule(DeployPolicy::IfBetter, 0.0, true), Some(1.0), Some(Ok(same_rows(&new, &live))));
    assert!(!few.deploy, "{}", few.because);
    assert!(few.p_value.unwrap() > 0.05, "{few:?}");
    assert!(few.because.contains("not significantly better"), "{}", few.because);
    // 400 rows: live is noise, new ranks every row right.
    let n = 400;
    let labels: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
    let new: Vec<f64> = labels.iter().enumerate().map(|(i, &l)| if l { 0.6 } else { 0.4 } + i as f64 * 1e-6).collect();
    let live: Vec<f64> = (0..n).map(|i| ((i * 7919) % 401) as f64 / 401.0).collect();
    let rows = SameRows { live, new, labels };
    let many = decide(rule(DeployPolicy::IfBetter, 0.0, true), Some(1.0), Some(Ok(rows.clone())));
    assert!(many.deploy, "{}", many.because);
    assert!(many.p_value.unwrap() < 0.05);
    // Too few rows of one class for DeLong: not deployed, and the reason says why.
    let one_class = SameRows { labels: vec![true; n], ..rows };
    let undefined = decide(rule(DeployPolicy::IfBetter, 0.0, true), Some(1.0), Some(Ok(one_class)));
    assert!(!undefined.deploy);
}

#[test]
fn margins_and_tests_need_if_better() {
    assert!(DeployRule::parse_margin(&serde_json::json!(0.02)).is_ok());
    assert!(DeployRule::parse_margin(&serde_json::json!(1.5)).is_err());
    assert!(DeployRule::parse_margin(&serde_json::json!("0.02")).is_err());
    assert!(DeployRule::parse_test(&serde_json::json!("significant")).unwrap());
    assert!(DeployRule::parse_test(&serde_json::json!("t-test")).is_err());
    let err = rule(DeployPolicy::Approval, 0.0, false).check(true, false).unwrap_err();
    assert!(err.message.contains("\"deploy_margin\" applies only with"), "{}", err.message);
    assert!(rule(DeployPolicy::IfBetter, 0.0, false).check(true, true).is_ok());
}
