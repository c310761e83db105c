//! Unit tests of `metrics.rs`.

use super::*;

fn b(v: &[u8]) -> Vec<bool> {
    v.iter().map(|&x| x != 0).collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn cm(tp: u64, fp: u64, tn: u64, fn_: u64) -> Confusion {
    Confusion { tp, fp, tn, fn_ }
}

#[test]
fn roc_auc_by_sorted_classes_equals_the_curve() {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for n in [1usize, 2, 7, 100, 5000] {
        // Few distinct values (many ties), signed zeros, infinities and wide ranges.
        let s: Vec<f64> = (0..n)
            .map(|_| match next() % 6 {
                0 => (next() % 5) as f64 - 2.0,
                1 => -0.0,
                2 => f64::INFINITY * if next() % 2 == 0 { 1.0 } else { -1.0 },
                _ => (next() >> 11) as f64 / (1u64 << 53) as f64 * 1e3 - 500.0,
            })
            .collect();
        let y: Vec<bool> = (0..n).map(|_| next() % 3 == 0).collect();
        assert_eq!(roc_auc(&s, &y), roc_auc_by_curve(&s, &y), "n = {n}");
    }
    let s = [0.1, f64::NAN, 0.4, 0.35];
    let y = [false, true, true, false];
    assert_eq!(roc_auc(&s, &y), roc_auc_by_curve(&s, &y));
}

#[test]
fn sklearn_doc_example_and_ties() {
    let (s, y) = ([0.1, 0.4, 0.35, 0.8], b(&[0, 0, 1, 1]));
    assert_eq!(roc_auc(&s, &y), Some(0.75));
    assert!(close(average_precision(&s, &y).unwrap(), 0.833_333_333_333_333_4, 1e-15));
    assert_eq!(ks_statistic(&s, &y), Some(0.5));
    // Tied pair (0.5 pos vs 0.5 neg) counts 1/2: (0.5 + 1) / 2.
    let (s, y) = ([0.5, 0.5, 0.2], b(&[1, 0, 0]));
    assert_eq!(roc_auc(&s, &y), Some(0.75));
    // Both rows enter at the same threshold: AP = 1 * 1/2.
    assert_eq!(average_precision(&s, &y), Some(0.5));
}

#[test]
fn all_equal_scores() {
    let s = [0.3; 5];
    let y = b(&[1, 0, 0, 1, 0]);
    assert_eq!(roc_auc(&s, &y), Some(0.5));
    assert_eq!(average_precision(&s, &y), Some(0.4)); // = base rate
    assert_eq!(ks_statistic(&s, &y), Some(0.0));
    assert_eq!(max_f1_threshold(&s, &y), Some((0.3, 4.0 / 7.0)));
    assert_eq!(precision_at_top(&s, &y, 0.2), Some(0.4)); // ties pull in every row
}

#[test]
fn one_class_is_none() {
    let s = [0.1, 0.7, 0.4];
    let (neg, pos) = (b(&[0, 0, 0]), b(&[1, 1, 1]));
    assert_eq!(roc_auc(&s, &neg), None);
    assert_eq!(roc_auc(&s, &pos), None);
    assert_eq!(ks_statistic(&s, &pos), None);
    assert_eq!(average_precision(&s, &neg), None);
    assert_eq!(average_precision(&s, &pos), Some(1.0));
    assert_eq!(max_f1_threshold(&s, &neg), None);
    assert_eq!(roc_auc(&[], &[]), None);
    assert_eq!(precision_at_top(&[], &[], 0.5), None);
}

#[test]
fn perfect_and_inverted_separation() {
    let (s, y) = ([0.9, 0.8, 0.3, 0.2, 0.1], b(&[1, 1, 0, 0, 0]));
    assert_eq!(roc_auc(&s, &y), Some(1.0));
    assert_eq!(average_precision(&s, &y), Some(1.0));
    assert_eq!(ks_statistic(&s, &y), Some(1.0));
    assert_eq!(max_f1_threshold(&s, &y), Some((0.8, 1.0)));
    let inv: Vec<f64> = s.iter().map(|x| 1.0 - x).collect();
    assert_eq!(roc_auc(&inv, &y), Some(0.0));
    assert_eq!(ks_statistic(&inv, &y), Some(0.0));
}

#[test]
fn max_f1_ties_prefer_higher_threshold() {
    // t=0.9: tp1 fp0 -> 2/3; t=0.6: tp2 fp2 -> 4/6 = 2/3 as well.
    let (s, y) = ([0.9, 0.8, 0.7, 0.6], b(&[1, 0, 0, 1]));
    assert_eq!(max_f1_threshold(&s, &y), Some((0.9, 2.0 / 3.0)));
}

#[test]
fn confusion_and_zero_division() {
    let (s, y) = ([0.9, 0.5, 0.5, 0.2], b(&[1, 0, 1, 0]));
    let c = confusion(&s, &y, 0.5); // >= threshold is positive
    assert_eq!(c, cm(2, 1, 1, 0));
    assert_eq!((c.precision(), c.recall(), c.accuracy()), (2.0 / 3.0, 1.0, 0.75));
    assert_eq!(c.f1(), 0.8);
    let none = confusion(&s, &y, 1.5);
    assert_eq!((none.precision(), none.recall(), none.f1()), (0.0, 0.0, 0.0));
    let empty = confusion(&[], &[], 0.5);
    assert_eq!(empty.accuracy(), 0.0);
}

#[test]
fn losses() {
    let (s, y) = ([0.8, 0.3], b(&[1, 0]));
    assert!(close(log_loss(&s, &y), -(0.8f64.ln() + 0.7f64.ln()) / 2.0, 1e-15));
    assert!(close(brier(&s, &y), (0.04 + 0.09) / 2.0, 1e-15));
    // Clipping keeps a confidently wrong prediction finite.
    assert!(close(log_loss(&[0.0], &[true]), -(1e-15f64).ln(), 1e-12));
    assert!(close(log_loss(&[1.0], &[false]), -(1e-15f64).ln(), 1e-3));
    assert_eq!((log_loss(&[], &[]), brier(&[], &[])), (0.0, 0.0));
}

#[test]
fn precision_at_top_cut_and_bounds() {
    let (s, y) = ([0.9, 0.8, 0.8, 0.1, 0.05], b(&[1, 0, 1, 0, 0]));
    assert_eq!(precision_at_top(&s, &y, 0.2), Some(1.0)); // k = 1
    assert_eq!(precision_at_top(&s, &y, 0.4), Some(2.0 / 3.0)); // k = 2, tie pulls 3 rows
    assert_eq!(precision_at_top(&s, &y, 1.0), Some(0.4));
    assert_eq!(precision_at_top(&s, &y, 0.0), None);
    assert_eq!(precision_at_top(&s, &y, 1.5), None);
}

#[test]
fn serde_shape() {
    let m = part_metrics(&[0.9, 0.2, 0.6], &b(&[1, 0, 0]), 0.5);
    assert_eq!((m.rows, m.positives, m.roc_auc, m.pr_auc), (3, 1, Some(1.0), Some(1.0)));
    assert_eq!(m.confusion, cm(1, 1, 1, 0));
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(v["confusion"]["fn"], 0);
    assert!(v["confusion"].get("fn_").is_none());
    let back: PartMetrics = serde_json::from_value(v).unwrap();
    assert_eq!(back, m);
    let empty = part_metrics(&[], &[], 0.5);
    assert_eq!((empty.rows, empty.base_rate, empty.roc_auc), (0, 0.0, None));
}

/// Fixtures from tests/fixtures/gen_metrics.py (scikit-learn reference values).
#[test]
fn matches_sklearn_fixtures() {
    let fx: serde_json::Value = serde_json::from_str(include_str!("../../../tests/fixtures/metrics_sklearn.json")).unwrap();
    assert!(fx["sklearn_version"].is_string());
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let n = c["name"].as_str().unwrap();
        let s: Vec<f64> = serde_json::from_value(c["scores"].clone()).unwrap();
        let y = b(&serde_json::from_value::<Vec<u8>>(c["labels"].clone()).unwrap());
        let m = part_metrics(&s, &y, c["threshold"].as_f64().unwrap());
        let best = max_f1_threshold(&s, &y);
        let top = precision_at_top(&s, &y, c["top_fraction"].as_f64().unwrap());
        // JSON null <-> None; numbers compared to 1e-9.
        for (key, got) in [
            ("roc_auc", roc_auc(&s, &y)),
            ("average_precision", average_precision(&s, &y)),
            ("ks", ks_statistic(&s, &y)),
            ("log_loss", Some(m.log_loss)),
            ("brier", Some(m.brier)),
            ("precision", Some(m.precision)),
            ("recall", Some(m.recall)),
            ("f1", Some(m.f1)),
            ("accuracy", Some(m.accuracy)),
            ("max_f1", best.map(|b| b.1)),
            ("precision_at_top", top),
        ] {
            match (got, c[key].as_f64()) {
                (Some(g), Some(w)) => assert!(close(g, w, 1e-9), "{n} {key}: {g} vs {w}"),
                (g, w) => assert_eq!(g, w, "{n} {key}"),
            }
        }
        assert_eq!(best.map(|b| b.0), c["max_f1_threshold"].as_f64(), "{n}");
        let want: Confusion = serde_json::from_value(c.clone()).unwrap(); // tp/fp/tn/fn keys
        assert_eq!(m.confusion, want, "{n} confusion");
    }
}
