//! Unit tests of `experiments.rs`. The reference values were computed once with scipy 1.x
//! (`scipy.stats.fisher_exact`) and statsmodels (`proportions_ztest`, `proportion_confint(method=
//! "wilson")`) and are written here.

use super::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-300)
}

#[test]
fn wilson_interval_matches_statsmodels() {
    for (x, n, lo, hi) in [
        (81, 263, 0.2552885198782742, 0.36620957698280004),
        (0, 10, 0.0, 0.27753279986288926),
        (10, 10, 0.7224672001371106, 1.0),
        (7, 1000, 0.0033948684009907654, 0.01437831546576659),
    ] {
        let (l, h) = wilson_interval(x, n, 0.95).unwrap();
        assert!((l - lo).abs() < 1e-12 && (h - hi).abs() < 1e-12, "{x}/{n}: ({l}, {h}) vs ({lo}, {hi})");
    }
    assert_eq!(wilson_interval(0, 0, 0.95), None);
}

#[test]
fn z_test_matches_statsmodels() {
    for ((x1, n1), (x2, n2), z, p) in [
        ((120, 1000), (90, 1000), 2.1882658846227234, 0.028650240398448473),
        ((45, 500), (30, 520), 1.9762694719195113, 0.0481242652469164),
        ((300, 2700), (180, 2750), 5.946356014281894, 2.7417748771125267e-09),
    ] {
        let (gz, gp) = two_proportion_z_test(x1, n1, x2, n2);
        assert!(close(gz, z, 1e-12) && close(gp, p, 1e-9), "{x1}/{n1} vs {x2}/{n2}: z {gz} p {gp}");
        // Swapping the arms flips z and keeps p.
        let (sz, sp) = two_proportion_z_test(x2, n2, x1, n1);
        assert!(close(sz, -z, 1e-12) && close(sp, p, 1e-9));
    }
    assert_eq!(two_proportion_z_test(0, 10, 0, 20), (0.0, 1.0));
    assert_eq!(two_proportion_z_test(10, 10, 20, 20), (0.0, 1.0));
}

#[test]
fn fisher_exact_matches_scipy() {
    for ((x1, n1), (x2, n2), p) in [
        ((8, 10), (1, 6), 0.034965034965034975),
        ((3, 4), (1, 4), 0.48571428571428565),
        ((2, 1000), (9, 1000), 0.06470495791578931),
        ((0, 50), (4, 60), 0.12435683249367552),
        ((12, 40), (12, 40), 1.0),
    ] {
        let got = fisher_exact(x1, n1, x2, n2);
        assert!(close(got, p, 1e-9), "{x1}/{n1} vs {x2}/{n2}: {got} vs {p}");
        assert!(close(fisher_exact(x2, n2, x1, n1), p, 1e-9));
    }
    // Large totals: no overflow, a probability.
    let p = fisher_exact(3, 2_000_000, 0, 2_000_000);
    assert!(p > 0.2 && p <= 1.0, "{p}");
}

#[test]
fn compare_arms_picks_the_test_by_expected_counts() {
    let big = compare_arms((120, 1000), (90, 1000), 0.95).unwrap();
    assert_eq!(big.test, ArmTest::TwoProportionZ);
    assert!(close(big.p_value, 0.028650240398448473, 1e-9));
    assert!(close(big.difference, 0.03, 1e-12));
    // Unpooled interval: 0.03 +- 1.959964 * sqrt(.12 * .88 / 1000 + .09 * .91 / 1000).
    let half = 1.959963984540054 * (0.12f64 * 0.88 / 1000.0 + 0.09 * 0.91 / 1000.0).sqrt();
    assert!(close(big.ci_low, 0.03 - half, 1e-9) && close(big.ci_high, 0.03 + half, 1e-9));
    // Eleven conversions in 2,000 leads: an expected count of 5.5 per arm, still the z test;
    // 2 of 1,000 against 6 of 1,000 expects 4 per arm: Fisher.
    assert_eq!(compare_arms((2, 1000), (9, 1000), 0.95).unwrap().test, ArmTest::TwoProportionZ);
    let small = compare_arms((2, 1000), (6, 1000), 0.95).unwrap();
    assert_eq!((small.test, small.z), (ArmTest::FisherExact, None));
    assert!(close(small.p_value, fisher_exact(2, 1000, 6, 1000), 1e-15));
    assert_eq!(compare_arms((0, 0), (3, 10), 0.95), None);
}

#[test]
fn median_of_odd_and_even_counts() {
    assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    assert_eq!(median(&[5.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[f64::NAN]), None);
    assert_eq!(median(&[]), None);
}

#[test]
fn verdict_says_which_arm_and_whether_significant() {
    let cmp = compare_arms((300, 2700), (180, 2750), 0.95).unwrap();
    let v = verdict("treatment (model demo)", "control (random)", (300.0 / 2700.0, 180.0 / 2750.0), &cmp, 0.05);
    assert_eq!(
        v,
        "treatment (model demo) converted 11.1% of its leads, control (random) 6.5%: +4.6 points (p < 0.0001, two-proportion z test). \
         treatment (model demo) converts better, significant at the 5% level."
    );
    let same = compare_arms((12, 40), (12, 40), 0.95).unwrap();
    let v = verdict("treatment (random)", "control (random)", (0.3, 0.3), &same, 0.05);
    assert!(v.ends_with("Not significant at the 5% level: no difference between the arms is shown."), "{v}");
    assert!(v.contains("p = 1.0000"), "{v}");
}
