//! Unit tests of `curves.rs`.

use super::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn b(v: &[u8]) -> Vec<bool> {
    v.iter().map(|&x| x != 0).collect()
}

const INF: f64 = f64::INFINITY;

fn roc(t: f64, fpr: f64, tpr: f64) -> RocPoint {
    RocPoint { threshold: t, fpr, tpr }
}

fn pr(t: f64, precision: f64, recall: f64) -> PrPoint {
    PrPoint { threshold: t, precision, recall }
}

#[test]
fn roc_and_pr_doc_example() {
    // Full curves of this example are in the fixtures; here the ends and the order.
    let (s, y) = ([0.1, 0.4, 0.35, 0.8], b(&[0, 0, 1, 1]));
    let r = roc_curve(&s, &y);
    assert_eq!((r.len(), r[0], r[1]), (5, roc(INF, 0.0, 0.0), roc(0.8, 0.0, 0.5)));
    assert_eq!(r[4], roc(0.1, 1.0, 1.0));
    let p = pr_curve(&s, &y);
    assert_eq!((p.len(), p[0], p[1]), (5, pr(0.1, 0.5, 1.0), pr(0.35, 2.0 / 3.0, 1.0)));
    assert_eq!(p[4], pr(INF, 1.0, 0.0));
    assert!(roc_curve(&s, &b(&[1, 1, 1, 1])).is_empty());
    assert!(pr_curve(&[], &[]).is_empty());
    // Ties are one threshold; without positives recall is 1 (scikit-learn).
    assert_eq!(roc_curve(&[0.5, 0.5, 0.2], &b(&[1, 0, 0])).len(), 3);
    let p = pr_curve(&[0.5], &[false]);
    assert_eq!(p, [pr(0.5, 0.0, 1.0), pr(INF, 1.0, 0.0)]);
}

#[test]
fn infinite_thresholds_serialize_as_null() {
    let p = roc(INF, 0.0, 0.0);
    let v = serde_json::to_value(p).unwrap();
    assert!(v["threshold"].is_null());
    assert_eq!(serde_json::from_value::<RocPoint>(v).unwrap(), p);
    let q = pr(0.25, 0.5, 1.0);
    let back: PrPoint = serde_json::from_str(&serde_json::to_string(&q).unwrap()).unwrap();
    assert_eq!(back, q);
}

#[test]
fn lift_ties_sizes_and_empty_groups() {
    // 5 rows into 2 groups: sizes 3, 2; the tie at 0.5 is split by input order.
    let (s, y) = ([0.5, 0.9, 0.5, 0.5, 0.1], b(&[0, 1, 1, 1, 0]));
    let t = lift_table(&s, &y, 2);
    let counts: Vec<(u64, u64, f64, f64)> = t.iter().map(|r| (r.leads, r.conversions, r.min_score, r.max_score)).collect();
    assert_eq!(counts, [(3, 2, 0.5, 0.9), (2, 1, 0.1, 0.5)]);
    assert_eq!(t[0].lift, (2.0 / 3.0) / 0.6);
    assert_eq!((t[1].cumulative_leads, t[1].cumulative_share_of_conversions), (5, 1.0));
    assert_eq!(lift_table(&s, &y, 10).len(), 5);
    assert!(lift_table(&[], &[], 10).is_empty());
    let none = lift_table(&s, &b(&[0, 0, 0, 0, 0]), 0); // no positives, 1 group
    assert_eq!((none.len(), none[0].lift, none[0].cumulative_share_of_conversions), (1, 0.0, 0.0));
}

#[test]
fn calibration_bins_edges() {
    let s = [0.0, 0.1, 0.15, 0.7, 1.0, f64::NAN];
    let c = calibration_curve(&s, &b(&[0, 1, 0, 1, 1, 1]), 10);
    let got: Vec<(u32, u64)> = c.iter().map(|r| (r.bin, r.leads)).collect();
    assert_eq!(got, [(1, 2), (2, 1), (7, 1), (10, 1)]); // right-closed bins, NaN skipped
    assert_eq!((c[0].lower, c[0].upper, c[3].upper), (0.0, 0.1, 1.0));
    assert_eq!((c[0].mean_predicted, c[0].observed_rate), (0.05, 0.5));
    assert_eq!(calibration_curve(&[0.3], &[true], 0)[0].bin, 1);
}

#[test]
fn downsample_keeps_ends() {
    let v: Vec<u32> = (0..10).collect();
    assert_eq!(downsample_curve(&v, 4), [0, 3, 6, 9]);
    assert_eq!(downsample_curve(&v, 9), [0, 1, 2, 3, 5, 6, 7, 8, 9]);
    assert_eq!(downsample_curve(&v, 20), v);
    assert_eq!(downsample_curve(&v, 2), [0, 9]);
    assert_eq!(downsample_curve(&v, 1), [0]);
    assert!(downsample_curve(&v, 0).is_empty());
}

/// Numbers equal to 1e-9 (nulls, strings, integers exactly), recursively.
fn assert_close(got: &Value, want: &Value, at: &str) {
    match (got, want) {
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{at}: length");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert_close(g, w, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(g), Value::Object(w)) => {
            assert_eq!(g.len(), w.len(), "{at}: keys");
            for (k, w) in w {
                assert_close(&g[k], w, &format!("{at}.{k}"));
            }
        }
        (Value::Number(g), Value::Number(w)) if g.is_f64() || w.is_f64() => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() <= 1e-9, "{at}: {g} vs {w}");
        }
        _ => assert_eq!(got, want, "{at}"),
    }
}

/// Reads the fixture rows as `T` (array rows fill struct fields in order) and compares
/// both sides in their serialized form.
fn check<T: Serialize + DeserializeOwned>(got: &[T], want: &Value, at: &str) {
    let want: Vec<T> = serde_json::from_value(want.clone()).unwrap();
    let (g, w) = (serde_json::to_value(got).unwrap(), serde_json::to_value(want).unwrap());
    assert_close(&g, &w, at);
}

/// Fixtures from tests/fixtures/gen_curves.py (scikit-learn / numpy reference values).
#[test]
fn matches_sklearn_fixtures() {
    let fx: Value = serde_json::from_str(include_str!("../../../tests/fixtures/curves_sklearn.json")).unwrap();
    let bins = fx["bins"].as_u64().unwrap() as usize;
    let groups = fx["lift_groups"].as_u64().unwrap() as usize;
    for c in fx["cases"].as_array().unwrap() {
        let n = c["name"].as_str().unwrap();
        let s: Vec<f64> = serde_json::from_value(c["scores"].clone()).unwrap();
        let y = b(&serde_json::from_value::<Vec<u8>>(c["labels"].clone()).unwrap());
        let roc = roc_curve(&s, &y);
        match c["roc"] {
            Value::Null => assert!(roc.is_empty(), "{n}"),
            ref w => check(&roc, w, &format!("{n}.roc")),
        }
        check(&pr_curve(&s, &y), &c["pr"], &format!("{n}.pr"));
        check(&calibration_curve(&s, &y, bins), &c["calib"], &format!("{n}.calib"));
        check(&lift_table(&s, &y, groups), &c["lift"], &format!("{n}.lift"));
    }
}
