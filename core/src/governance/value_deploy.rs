//! The deploy decision of a regression version (`options.task = 'regression'`): `if_better`
//! compares test RMSE of the new and the live version on the new version's test rows. A
//! classification cannot be compared with a regression, so a regression does not replace a
//! live classification version by itself (deploy() does it on purpose).

use crate::evaluation::regression_metrics;
use crate::governance::deploy_policy::{decide, DeployDecision, DeployPolicy, DeployRule, SameRows};

/// `live`: None without a deployed version, else whether it is a regression and its predictions
/// on the test rows (or why it could not score them). `targets`: the test rows' labels, in the
/// order of [`SameRows`].
pub fn decide_regression(rule: DeployRule, live: Option<(bool, Result<SameRows, String>)>, targets: &[f64]) -> DeployDecision {
    let d = |deploy: bool, because: String| DeployDecision { deploy, because, live_auc: None, p_value: None, pending: false };
    let (is_regression, rows) = match (rule.policy, live) {
        (DeployPolicy::IfBetter, Some(live)) => live,
        // Never, always, approval and a first version decide as for a classification.
        (_, live) => return decide(rule, None, live.map(|(_, rows)| rows)),
    };
    let rows = match (is_regression, rows) {
        (false, _) => {
            return d(false, "the live version is a classification model; deploy a regression in its place with deploy()".into())
        }
        (true, Err(why)) => return d(false, format!("the live version could not be evaluated on the new test rows: {why}")),
        (true, Ok(rows)) => rows,
    };
    let (new, live) = (regression_metrics(&rows.new, targets).rmse, regression_metrics(&rows.live, targets).rmse);
    match (new, live) {
        (Some(n), Some(l)) if n <= l + 1e-12 * l.abs() => {
            d(true, format!("new test RMSE {n:.4} <= live {l:.4} on the same test rows"))
        }
        (Some(n), Some(l)) => d(false, format!("new test RMSE {n:.4} > live {l:.4} on the same test rows")),
        _ => d(false, "RMSE is undefined on the test rows (none)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(new: &[f64], live: &[f64]) -> SameRows {
        SameRows { new: new.to_vec(), live: live.to_vec(), labels: vec![false; new.len()] }
    }

    #[test]
    fn if_better_compares_test_rmse() {
        let rule = DeployRule { policy: DeployPolicy::IfBetter, margin: 0.0, significant: false };
        let targets = [10.0, 20.0, 30.0];
        let better = decide_regression(rule, Some((true, Ok(rows(&[11.0, 19.0, 30.0], &[15.0, 20.0, 25.0])))), &targets);
        assert!(better.deploy, "{}", better.because);
        let worse = decide_regression(rule, Some((true, Ok(rows(&[15.0, 20.0, 25.0], &[11.0, 19.0, 30.0])))), &targets);
        assert!(!worse.deploy && worse.because.contains("RMSE"), "{}", worse.because);
        assert!(decide_regression(rule, None, &targets).deploy);
        let over_classification = decide_regression(rule, Some((false, Ok(rows(&[1.0], &[0.5])))), &[1.0]);
        assert!(!over_classification.deploy, "{}", over_classification.because);
        let never = DeployRule { policy: DeployPolicy::Never, ..rule };
        assert!(!decide_regression(never, None, &targets).deploy);
    }
}
