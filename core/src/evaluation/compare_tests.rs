//! Unit tests of `compare.rs`.

use super::*;
use crate::evaluation::metrics::roc_auc;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// Reference values from tests/fixtures/gen_compare.py (O(n_pos * n_neg) numpy DeLong,
/// scipy.stats.norm).
#[test]
fn matches_reference_fixture() {
    let fx: serde_json::Value = serde_json::from_str(include_str!("../../../tests/fixtures/compare_reference.json")).unwrap();
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let a: Vec<f64> = serde_json::from_value(c["score_a"].clone()).unwrap();
        let b: Vec<f64> = serde_json::from_value(c["score_b"].clone()).unwrap();
        let y: Vec<bool> = serde_json::from_value::<Vec<u8>>(c["labels"].clone()).unwrap().iter().map(|&v| v == 1).collect();
        let r = delong_compare(&a, &b, &y, c["confidence"].as_f64().unwrap()).unwrap();
        for (key, got) in [
            ("auc_a", r.auc_a),
            ("auc_b", r.auc_b),
            ("difference", r.difference),
            ("variance", r.std_error * r.std_error),
            ("std_error", r.std_error),
            ("z", r.z),
            ("p_value", r.p_value),
            ("ci_low", r.ci_low),
            ("ci_high", r.ci_high),
        ] {
            let want = c[key].as_f64().unwrap();
            assert!(close(got, want, 1e-9), "{name} {key}: {got} vs {want}");
        }
        assert!(close(r.auc_a, roc_auc(&a, &y).unwrap(), 1e-12), "{name}: same AUC as metrics");
        assert!(close(r.auc_b, roc_auc(&b, &y).unwrap(), 1e-12), "{name}: same AUC as metrics");
    }
    for pair in fx["normal_cdf"].as_array().unwrap() {
        let (x, want) = (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap());
        let got = normal_cdf(x);
        assert!((got - want).abs() <= 1e-9 * want, "cdf({x}) = {got} vs {want}");
        // relative, even in the tail
    }
    for pair in fx["normal_quantile"].as_array().unwrap() {
        let (p, want) = (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap());
        assert!(close(normal_quantile(p), want, 1e-9), "quantile({p}) = {} vs {want}", normal_quantile(p));
    }
}

#[test]
fn normal_functions_are_consistent() {
    assert_eq!(normal_cdf(0.0), 0.5);
    assert!(close(normal_quantile(0.975), 1.959963984540054, 1e-14));
    assert_eq!((normal_quantile(0.0), normal_quantile(1.0)), (f64::NEG_INFINITY, f64::INFINITY));
    assert!(normal_quantile(1.5).is_nan() && normal_quantile(f64::NAN).is_nan() && normal_cdf(f64::NAN).is_nan());
    assert_eq!((normal_cdf(f64::NEG_INFINITY), normal_cdf(f64::INFINITY)), (0.0, 1.0));
    for i in 1..200 {
        let p = i as f64 / 200.0;
        assert!(close(normal_cdf(normal_quantile(p)), p, 1e-14), "round trip at {p}");
        let x = -9.0 + i as f64 * 0.09; // symmetry: cdf(x) + cdf(-x) = 1
        assert!((normal_cdf(x) + normal_cdf(-x) - 1.0).abs() < 1e-15);
    }
}

#[test]
fn identical_scores_give_no_difference() {
    let s = [0.9, 0.4, 0.7, 0.1, 0.5, 0.5];
    let y = [true, false, true, false, true, false];
    let r = delong_compare(&s, &s, &y, 0.95).unwrap();
    assert_eq!((r.difference, r.std_error, r.z, r.p_value, r.ci_low, r.ci_high), (0.0, 0.0, 0.0, 1.0, 0.0, 0.0));
    // Swapping A and B flips the sign and keeps the p-value.
    let b = [0.3, 0.6, 0.7, 0.2, 0.1, 0.5];
    let (ab, ba) = (delong_compare(&s, &b, &y, 0.9).unwrap(), delong_compare(&b, &s, &y, 0.9).unwrap());
    assert!(close(ab.z, -ba.z, 1e-12) && close(ab.p_value, ba.p_value, 1e-12) && close(ab.ci_low, -ba.ci_high, 1e-12));
}

#[test]
fn delong_errors() {
    let y = [true, false, true, false];
    let s = [0.1, 0.2, 0.3, 0.4];
    assert!(delong_compare(&s, &s[..3], &y, 0.95).unwrap_err().message.contains("equal lengths"));
    assert!(delong_compare(&s, &[0.1, f64::NAN, 0.3, 0.4], &y, 0.95).unwrap_err().message.contains("finite"));
    assert!(delong_compare(&s, &s, &[true, false, false, false], 0.95).unwrap_err().message.contains("at least 2"));
    for bad in [0.0, 1.0, 95.0] {
        let e = delong_compare(&s, &s, &y, bad).unwrap_err();
        assert!(e.message.contains("confidence") && e.kind == crate::ErrorKind::InvalidArgument, "{e}");
    }
}

#[test]
fn midranks_average_ties() {
    assert_eq!(midranks(&[3.0, 1.0, 3.0, 2.0, -0.0, 0.0]), vec![5.5, 3.0, 5.5, 4.0, 1.5, 1.5]);
}

#[test]
fn top_shares_counts_precision_and_lift() {
    // 10 leads, 4 converted (base rate 0.4).
    let a = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
    let b = [1.0, 5.0, 5.0, 5.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0];
    let y = [true, false, true, true, false, false, true, false, false, false];
    let t = top_shares(&a, &b, &y, &[0.1, 0.2, 0.3, 1.0]);
    assert_eq!(t.iter().map(|s| s.leads).collect::<Vec<_>>(), [1, 2, 3, 10]);
    // A's top 3: rows 0, 1, 2 (2 converted). B's top 3: tied rows 1, 2, 3 in input order.
    assert_eq!((t[2].precision_a, t[2].precision_b), (2.0 / 3.0, 2.0 / 3.0));
    // B's top 1 is row 1 (first of the tied 5.0s), not converted.
    assert_eq!((t[0].precision_a, t[0].precision_b, t[0].lift_a, t[0].lift_b), (1.0, 0.0, 2.5, 0.0));
    assert_eq!((t[1].precision_b, t[1].conversion_rate_b), (0.5, 0.5));
    assert!(close(t[3].lift_a, 1.0, 1e-15) && close(t[3].lift_b, 1.0, 1e-15));
    // ceil guard: 0.28 * 25 = 7.000000000000001 is 7 leads.
    let n25 = vec![0.5; 25];
    let y25: Vec<bool> = (0..25).map(|i| i < 5).collect();
    let t = top_shares(&n25, &n25, &y25, &[0.28]);
    assert_eq!((t[0].leads, t[0].precision_a), (7, 5.0 / 7.0));
    assert!(close(t[0].lift_a, 25.0 / 7.0, 1e-15));
    let none = top_shares(&n25, &n25, &[false; 25], &[0.5]);
    assert_eq!((none[0].precision_a, none[0].lift_a), (0.0, 0.0));
}

#[test]
fn top_shares_edge_cases_do_not_fail() {
    let s = [0.1, -0.0, 0.0, 0.2];
    let y = [true, false, true, false];
    let t = top_shares(&s, &s, &y, &[0.0, f64::NAN, 1.5, 0.75]);
    assert_eq!(t.iter().map(|t| t.leads).collect::<Vec<_>>(), [1, 1, 4, 3]);
    // -0.0 and 0.0 tie, so input order puts row 1 (not converted) before row 2.
    assert_eq!((t[3].precision_a, t[3].lift_a), (1.0 / 3.0, 2.0 / 3.0));
    let e = top_shares(&[], &[], &[], &[0.5]);
    assert_eq!((e[0].share, e[0].leads, e[0].precision_a, e[0].lift_b), (0.5, 0, 0.0, 0.0));
    assert!(top_shares(&s, &s, &y, &[]).is_empty());
}
