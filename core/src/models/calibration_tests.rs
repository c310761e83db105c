//! Unit tests of `calibration.rs`.

use super::*;
use serde_json::Value;

fn b(v: &[u8]) -> Vec<bool> {
    v.iter().map(|&x| x != 0).collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn iso(x: &[f64], y: &[f64]) -> Calibration {
    let (x, y) = (x.to_vec(), y.to_vec());
    Calibration::Isotonic { x, y }
}

#[test]
fn none_and_method_names() {
    assert_eq!(Calibration::None.apply(0.37), 0.37);
    assert!(Calibration::None.apply(f64::NAN).is_nan());
    let all = [Calibration::None, Calibration::Platt { a: -1.0, b: 0.0 }, iso(&[0.5], &[0.2])];
    let names: Vec<&str> = all.iter().map(Calibration::method).collect();
    assert_eq!(names, ["none", "platt", "isotonic"]);
    for c in all {
        let back: Calibration = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}

#[test]
fn input_errors() {
    let y = b(&[0, 1]);
    for fit in [fit_platt, fit_isotonic] {
        assert!(fit(&[], &[]).is_err());
        assert!(fit(&[0.2], &y).is_err()); // length mismatch
        assert!(fit(&[0.2, 0.8], &b(&[1, 1])).is_err()); // one class
        assert!(fit(&[f64::NAN, 0.8], &y).is_err());
        assert!(fit(&[f64::INFINITY, 0.8], &y).is_err());
        assert!(fit(&[-0.1, 0.8], &y).is_err());
        assert!(fit(&[0.0, 1.0], &y).is_ok()); // edges are fine
    }
}

#[test]
fn platt_form_and_edges() {
    let id = Calibration::Platt { a: -1.0, b: 0.0 };
    assert!(close(id.apply(0.3), 0.3, 1e-15));
    // 0 and 1 are clamped, never NaN; the map is increasing for a < 0.
    let c = fit_platt(&[0.0, 0.2, 0.4, 0.6, 1.0, 1.0], &b(&[0, 0, 1, 0, 1, 1])).unwrap();
    let out: Vec<f64> = [0.0, 0.1, 0.5, 0.9, 1.0].map(|s| c.apply(s)).to_vec();
    assert!(out.windows(2).all(|w| w[0] < w[1]), "{out:?}");
    assert!(out.iter().all(|p| (0.0..=1.0).contains(p)));
    // Constant scores: slope 0, the smoothed base rate (2/3 and 1/3 average to 1/2).
    let c = fit_platt(&[0.3, 0.3], &b(&[0, 1]));
    assert_eq!(c, Ok(Calibration::Platt { a: 0.0, b: 0.0 }));
}

#[test]
fn isotonic_pav_ties_and_clip() {
    let c = fit_isotonic(&[0.1, 0.2, 0.3, 0.4], &b(&[1, 0, 1, 1])).unwrap();
    assert_eq!(c, iso(&[0.1, 0.2, 0.3, 0.4], &[0.5, 0.5, 1.0, 1.0]));
    assert_eq!(c.apply(0.25), 0.75);
    assert_eq!((c.apply(0.0), c.apply(0.9)), (0.5, 1.0)); // clipped outside
                                                          // Equal scores are averaged first: 0.2 -> 0, 0.5 -> 1/2.
    let c = fit_isotonic(&[0.5, 0.5, 0.2], &b(&[1, 0, 0])).unwrap();
    assert!(close(c.apply(0.35), 0.25, 1e-15));
    // Interior points of a flat block are dropped.
    let c = fit_isotonic(&[0.1, 0.2, 0.3, 0.4, 0.5], &b(&[0, 0, 0, 1, 1])).unwrap();
    assert_eq!(c, iso(&[0.1, 0.3, 0.4, 0.5], &[0.0, 0.0, 1.0, 1.0]));
    assert_eq!(iso(&[], &[]).apply(0.4), 0.4); // malformed: input returned
}

#[test]
fn ece_and_binning() {
    assert_eq!(uniform_bin(0.0, 10), 0);
    assert_eq!(uniform_bin(0.1, 10), 0); // right-closed bins
    assert_eq!(uniform_bin(0.7, 10), 6);
    assert_eq!(uniform_bin(1.0, 10), 9);
    assert_eq!((uniform_bin(-1.0, 10), uniform_bin(2.0, 10)), (0, 9));
    // Bins {0.2,0.2}: mean 0.2, rate 1/2; {0.9}: rate 1. ECE = 2/3*0.3 + 1/3*0.1.
    let e = expected_calibration_error(&[0.2, 0.2, 0.9], &b(&[0, 1, 1]), 10);
    assert!(close(e, 0.2 + 0.1 / 3.0, 1e-15));
    assert_eq!(expected_calibration_error(&[], &[], 10), 0.0);
    assert_eq!(expected_calibration_error(&[0.5], &[true], 0), 0.5);
}

fn near(got: f64, want: &Value, tol: f64, what: &str) {
    let w = want.as_f64().unwrap();
    assert!(close(got, w, tol), "{what}: {got} vs {w}");
}

/// Fixtures from tests/fixtures/gen_curves.py (scikit-learn reference values).
#[test]
fn matches_sklearn_fixtures() {
    let fx: Value = serde_json::from_str(include_str!("../../../tests/fixtures/curves_sklearn.json")).unwrap();
    assert_eq!(fx["platt_eps"].as_f64(), Some(PLATT_EPS));
    let bins = fx["bins"].as_u64().unwrap() as usize;
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let n = c["name"].as_str().unwrap();
        let s: Vec<f64> = serde_json::from_value(c["scores"].clone()).unwrap();
        let y = b(&serde_json::from_value::<Vec<u8>>(c["labels"].clone()).unwrap());
        near(expected_calibration_error(&s, &y, bins), &c["ece"], 1e-9, n);
        if c["platt"].is_null() {
            assert!(fit_platt(&s, &y).is_err() && fit_isotonic(&s, &y).is_err(), "{n}");
            continue;
        }
        let Ok(Calibration::Platt { a, b }) = fit_platt(&s, &y) else { panic!("{n}") };
        // scikit-learn's L-BFGS stops at gtol 1e-6; the tight Newton reference to 1e-9.
        let p = &c["platt"];
        near(a, &p["a"], 1e-6, &format!("{n} platt a"));
        near(b, &p["b"], 1e-6, &format!("{n} platt b"));
        near(a, &p["newton_a"], 1e-9, &format!("{n} newton a"));
        near(b, &p["newton_b"], 1e-9, &format!("{n} newton b"));
        let fitted = fit_isotonic(&s, &y).unwrap();
        let Calibration::Isotonic { x: kept, .. } = &fitted else { panic!("{n}") };
        assert_eq!(Some(kept.len() as u64), c["isotonic"]["points"].as_u64(), "{n}");
        let xs = c["isotonic"]["x"].as_array().unwrap();
        for (x, w) in xs.iter().zip(c["isotonic"]["predicted"].as_array().unwrap()) {
            let x = x.as_f64().unwrap();
            near(fitted.apply(x), w, 1e-9, &format!("{n} isotonic({x})"));
        }
    }
}

#[test]
fn bin_edges_bin_as_uniform_bin() {
    // The SQL form bins by "score <= edge k" in order; edges themselves go to the bin below.
    for bins in [1, 3, 10] {
        let edges = uniform_bin_edges(bins);
        assert_eq!(edges.len(), bins - 1);
        for s in [-0.5, 0.0, 0.1, 0.2, 0.3, 1.0 / 3.0, 0.5, 0.7, 0.9, 0.95, 1.0, 1.5].into_iter().chain(edges.clone()) {
            let by_edges = edges.iter().position(|&e| s <= e).unwrap_or(bins - 1);
            assert_eq!(by_edges, uniform_bin(s, bins), "score {s}, {bins} bins");
        }
    }
    let (s, y) = ([0.2, 0.2, 0.9, 0.35], b(&[0, 1, 1, 0]));
    let mut acc = vec![(0u64, 0.0, 0u64); 10];
    for (&s, &y) in s.iter().zip(&y) {
        let a = &mut acc[uniform_bin(s, 10)];
        *a = (a.0 + 1, a.1 + s, a.2 + u64::from(y));
    }
    assert_eq!(ece_of_bins(&acc), expected_calibration_error(&s, &y, 10));
}
