//! Unit tests of `performance.rs`.

use super::*;
use crate::evaluation::Tier;

fn drift_row(feature: &str, psi: f64) -> DriftRow {
    DriftRow { feature: feature.into(), psi, status: Status::of_psi(psi, 0.1, 0.25), detail: String::new() }
}

#[test]
fn group_metrics_are_null_where_undefined() {
    let m = group_metrics(&[0.9, 0.2, 0.1], &[false, false, false], 0.5);
    assert_eq!(m.roc_auc, None);
    assert_eq!(m.pr_auc, None);
    assert_eq!(m.recall, None);
    assert_eq!(m.precision, Some(0.0));
    assert_eq!(m.conversion_rate, Some(0.0));
    let m = group_metrics(&[0.9, 0.6, 0.4, 0.1], &[true, false, true, false], 0.5);
    assert_eq!(m.roc_auc, Some(0.75));
    assert_eq!((m.precision, m.recall, m.f1), (Some(0.5), Some(0.5), Some(0.5)));
    assert_eq!((m.leads, m.conversions), (4, 2));
    let empty = group_metrics(&[], &[], 0.5);
    assert_eq!((empty.conversion_rate, empty.calibration_error), (None, None));
}

/// Metrics of `leads` rows with a tenth converting and a tenth flagged.
fn metrics(leads: u64, precision: f64, recall: f64) -> GroupMetrics {
    GroupMetrics {
        leads,
        conversions: leads / 10,
        conversion_rate: Some(0.1),
        roc_auc: Some(0.8),
        pr_auc: Some(0.4),
        threshold: 0.3,
        flagged: leads / 10,
        precision: Some(precision),
        recall: Some(recall),
        f1: Some(2.0 * precision * recall / (precision + recall)),
        calibration_error: Some(0.02),
    }
}

fn baseline(rows: u64, precision: f64, recall: f64) -> Value {
    let flagged = (rows / 10) as f64;
    let tp = (precision * flagged).round();
    json!({"rows": rows, "positives": rows / 10, "confusion": {"tp": tp, "fp": flagged - tp, "tn": 0, "fn": 0},
           "roc_auc": 0.8, "pr_auc": 0.4, "precision": precision, "recall": recall,
           "f1": 2.0 * precision * recall / (precision + recall), "ece": 0.02})
}

#[test]
fn a_significant_five_percent_drop_is_degraded() {
    // precision 10.7% below on 1,000 flagged leads each side (z = 2.7); recall 3.8% below.
    let checks = compare_with_baseline(&metrics(10_000, 0.50, 0.50), &baseline(10_000, 0.56, 0.52));
    let degraded: Vec<&str> = checks.iter().filter(|c| c.degraded).map(|c| c.metric.as_str()).collect();
    assert_eq!(degraded, vec!["precision"]);
    let z = checks[2].z.unwrap();
    let by_hand = 0.06 / (0.5f64 * 0.5 / 1000.0 + 0.56 * 0.44 / 1000.0).sqrt();
    assert!((z - by_hand).abs() < 1e-9, "{z} vs {by_hand}");
    assert_eq!(overall_status(&checks, &[drift_row("x", 0.01)]), Status::Alert);
    let text = recommendation(&checks, &[drift_row("x", 0.3)]);
    assert!(text.starts_with("retrain: performance fell"), "{text}");
    assert!(text.contains("precision 0.500 vs 0.560 at test (10.7% lower)") && text.contains("x (PSI 0.30, alert)"), "{text}");
    // The same drop on 10 flagged leads is noise.
    let small = compare_with_baseline(&metrics(100, 0.50, 0.50), &baseline(100, 0.56, 0.52));
    assert!(small.iter().all(|c| !c.degraded), "{small:?}");
    assert!(small[2].relative_change.unwrap() < -DEGRADATION && small[2].z.unwrap() < SIGNIFICANCE_Z);
    assert_eq!(overall_status(&small, &[drift_row("x", 0.01)]), Status::Ok);
}

#[test]
fn roc_auc_error_follows_hanley_mcneil() {
    // A = 0.8, 100 positives, 900 negatives.
    let (a, p, n) = (0.8f64, 100.0, 900.0);
    let (q1, q2) = (a / (2.0 - a), 2.0 * a * a / (1.0 + a));
    let by_hand = ((a * (1.0 - a) + (p - 1.0) * (q1 - a * a) + (n - 1.0) * (q2 - a * a)) / (p * n)).sqrt();
    let se = standard_error("roc_auc", a, Counts { positives: p, negatives: n, flagged: 0.0 }).unwrap();
    assert!((se - by_hand).abs() < 1e-15);
    assert!(standard_error("roc_auc", a, Counts { positives: 0.0, negatives: n, flagged: 0.0 }).is_none());
}

#[test]
fn drift_alone_drives_status_and_names_the_feature() {
    let m = group_metrics(&[0.9, 0.1], &[true, false], 0.5);
    let checks = compare_with_baseline(&m, &json!({"roc_auc": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0, "pr_auc": 1.0}));
    // Without the baseline's counts no drop can be called significant.
    assert!(checks.iter().all(|c| c.z.is_none()));
    assert!(checks.iter().all(|c| !c.degraded));
    let drift = [drift_row("a", 0.05), drift_row("pricing_visits", 0.4), drift_row(SCORE_ROW, 0.3)];
    assert_eq!(overall_status(&checks, &drift), Status::Alert);
    assert!(recommendation(&checks, &drift).starts_with("investigate feature pricing_visits"));
    let calm = [drift_row("a", 0.05), drift_row(SCORE_ROW, 0.01)];
    assert_eq!(overall_status(&checks, &calm), Status::Ok);
    assert!(recommendation(&checks, &calm).starts_with("ok:"));
    assert_eq!(overall_status(&checks, &[drift_row("a", 0.12)]), Status::Warn);
    assert!(recommendation(&checks, &[drift_row("a", 0.12)]).starts_with("watch feature a"));
}

#[test]
fn calibration_error_is_reported_but_never_degrades() {
    let mut worse = metrics(10_000, 0.50, 0.50);
    worse.calibration_error = Some(0.20);
    let checks = compare_with_baseline(&worse, &baseline(10_000, 0.50, 0.50));
    let ece = checks.iter().find(|c| c.metric == "calibration_error").unwrap();
    assert_eq!((ece.value, ece.baseline), (Some(0.20), Some(0.02)));
    assert!((ece.relative_change.unwrap() - 9.0).abs() < 1e-12, "ten times the baseline");
    assert!(!ece.degraded && ece.z.is_none());
    assert_eq!(overall_status(&checks, &[drift_row("x", 0.01)]), Status::Ok);
    assert!(recommendation(&checks, &[drift_row("x", 0.01)]).starts_with("ok:"));
}

#[test]
fn tiers_count_conversions_in_tier_order() {
    let tiers = Tiers(vec![Tier { name: "hot".into(), min_score: 0.5 }, Tier { name: "cold".into(), min_score: 0.0 }]);
    let rates = tier_rates(&[0.9, 0.6, 0.2], &[true, false, true], &tiers);
    assert_eq!(rates[0], TierRate { tier: "hot".into(), leads: 2, conversions: 1, conversion_rate: Some(0.5) });
    assert_eq!(rates[1].conversion_rate, Some(1.0));
}

#[test]
fn tiers_already_assigned_count_by_name_in_tier_order() {
    let tiers = Tiers(vec![Tier { name: "hot".into(), min_score: 0.5 }, Tier { name: "cold".into(), min_score: 0.0 }]);
    // A lead's own (segment) tiers put it in "cold" at a score the version calls hot; a name the
    // version does not have comes last.
    let rates = tier_rates_of(["cold", "hot", "cold", "gold"], &[true, true, false, true], &tiers);
    let rows: Vec<(&str, u64, u64)> = rates.iter().map(|r| (r.tier.as_str(), r.leads, r.conversions)).collect();
    assert_eq!(rows, [("hot", 1, 1), ("cold", 2, 1), ("gold", 1, 1)]);
    assert_eq!(rates[1].conversion_rate, Some(0.5));
}
