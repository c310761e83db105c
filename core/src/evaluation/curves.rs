//! Chart and report data over `(score, label)` pairs: lift table, ROC and precision-recall
//! curves, reliability (calibration) curve, matching scikit-learn where it has the same
//! computation.
//!
//! Inputs are two equal-length slices: finite `scores` (higher = more likely positive)
//! and `labels` (`true` = positive); callers drop NULL rows first. Outputs are plain
//! serializable rows.
//!
//! Infinite thresholds: the first ROC point and the last precision-recall point have
//! threshold `f64::INFINITY` in Rust, as in scikit-learn ("flag nobody"). JSON has no
//! infinity, so these fields serialize as `null` and `null` deserializes back to
//! `+inf`; Postgres `float8` holds `Infinity` directly.

use serde::{Deserialize, Deserializer, Serialize, Serializer};


/// Serde adapter for threshold fields: non-finite <-> `null` (an `Option` in any format).
mod threshold_serde {
    use super::*;

    /// `Some(x)` when finite, else `None`.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        x.is_finite().then_some(*x).serialize(s)
    }

    /// `None` reads back as `+inf`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
    }
}

/// One row of a lift (gains) table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiftRow {
    /// Group number, 1 = highest scores.
    pub decile: u32,
    /// Rows in this group.
    pub leads: u64,
    /// Positives in this group.
    pub conversions: u64,
    /// `conversions / leads`.
    pub conversion_rate: f64,
    /// `conversion_rate / overall rate` (`0.0` when there are no positives at all).
    pub lift: f64,
    /// Rows in this and all higher-scoring groups.
    pub cumulative_leads: u64,
    /// Positives in this and all higher-scoring groups.
    pub cumulative_conversions: u64,
    /// `cumulative_conversions / all positives` (`0.0` without positives): the gains curve.
    pub cumulative_share_of_conversions: f64,
    /// Lowest score in the group.
    pub min_score: f64,
    /// Highest score in the group.
    pub max_score: f64,
}

/// Lift table over `groups` groups of as-equal-as-possible size (10 for deciles).
///
/// Rows are stably sorted by score descending (ties keep input order; `-0.0 == 0.0`) and
/// cut by position like numpy's `array_split`: with `n = q * groups + r`, the first `r`
/// groups get `q + 1` rows. Tied scores can therefore straddle a group boundary, so
/// `min_score` of one group may equal `max_score` of the next. Empty groups (fewer rows
/// than groups) are omitted; `groups == 0` is treated as 1; empty input gives no rows.
pub fn lift_table(scores: &[f64], labels: &[bool], groups: usize) -> Vec<LiftRow> {
    debug_assert_eq!(scores.len(), labels.len());
    let n = scores.len();
    let groups = groups.max(1);
    let mut order: Vec<usize> = (0..n).collect();
    // `+ 0.0` maps -0.0 to 0.0 so signed zeros tie; sort_by is stable.
    order.sort_by(|&i, &j| (scores[j] + 0.0).total_cmp(&(scores[i] + 0.0)));
    let total_pos = labels.iter().filter(|&&y| y).count() as u64;
    let overall = total_pos as f64 / n as f64;
    let (q, r) = (n / groups, n % groups);
    let (mut start, mut cum_n, mut cum_c) = (0usize, 0u64, 0u64);
    let mut rows = Vec::new();
    for g in 0..groups {
        let len = q + usize::from(g < r);
        if len == 0 {
            break; // later groups are empty too
        }
        let part = &order[start..start + len];
        start += len;
        let conv = part.iter().filter(|&&i| labels[i]).count() as u64;
        let (lo, hi) = part
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                (lo.min(scores[i]), hi.max(scores[i]))
            });
        cum_n += len as u64;
        cum_c += conv;
        let rate = conv as f64 / len as f64;
        rows.push(LiftRow {
            decile: g as u32 + 1,
            leads: len as u64,
            conversions: conv,
            conversion_rate: rate,
            lift: if total_pos > 0 { rate / overall } else { 0.0 },
            cumulative_leads: cum_n,
            cumulative_conversions: cum_c,
            cumulative_share_of_conversions: cum_c as f64 / total_pos.max(1) as f64, // 0 if none
            min_score: lo,
            max_score: hi,
        });
    }
    rows
}

/// A point of the ROC curve: the rule `score >= threshold` gives rates `(fpr, tpr)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// Score cut; `+inf` (JSON `null`) for the first point.
    #[serde(with = "threshold_serde")]
    pub threshold: f64,
    /// False positive rate.
    pub fpr: f64,
    /// True positive rate (recall).
    pub tpr: f64,
}

/// A point of the precision-recall curve for the rule `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    /// Score cut; `+inf` (JSON `null`) for the final `(1, 0)` point.
    #[serde(with = "threshold_serde")]
    pub threshold: f64,
    /// `tp / (tp + fp)`.
    pub precision: f64,
    /// `tp / positives`.
    pub recall: f64,
}

/// `(threshold, tp, fp)` after each distinct score from the highest down, plus totals.
fn cumulative(scores: &[f64], labels: &[bool]) -> (Vec<(f64, u64, u64)>, u64, u64) {
    debug_assert_eq!(scores.len(), labels.len());
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp, mut points) = (0u64, 0u64, Vec::new());
    for (i, &(s, y)) in pairs.iter().enumerate() {
        (tp, fp) = if y { (tp + 1, fp) } else { (tp, fp + 1) };
        // `==` (not total_cmp) so -0.0 and 0.0 are one threshold, as in numpy.
        if i + 1 == pairs.len() || pairs[i + 1].0 != s {
            points.push((s, tp, fp));
        }
    }
    (points, tp, fp)
}

/// ROC curve as `sklearn.metrics.roc_curve(drop_intermediate=False)`: one point per
/// distinct score, decreasing threshold, starting with `(+inf, fpr 0, tpr 0)` and ending
/// at `(1, 1)`. Empty when either class is absent (scikit-learn returns NaN rates).
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> Vec<RocPoint> {
    let (points, pos, neg) = cumulative(scores, labels);
    if pos == 0 || neg == 0 {
        return Vec::new();
    }
    let first = RocPoint {
        threshold: f64::INFINITY,
        fpr: 0.0,
        tpr: 0.0,
    };
    let rest = points.iter().map(|&(s, tp, fp)| RocPoint {
        threshold: s,
        fpr: fp as f64 / neg as f64,
        tpr: tp as f64 / pos as f64,
    });
    std::iter::once(first).chain(rest).collect()
}

/// Precision-recall curve as `sklearn.metrics.precision_recall_curve`, in its order:
/// increasing threshold (decreasing recall), one point per distinct score, then a final
/// `(precision 1, recall 0)` point whose threshold is `+inf` (scikit-learn gives that
/// point no threshold). Without positives recall is 1 everywhere, as in scikit-learn.
/// Empty input gives an empty curve.
pub fn pr_curve(scores: &[f64], labels: &[bool]) -> Vec<PrPoint> {
    let (points, pos, _) = cumulative(scores, labels);
    if points.is_empty() {
        return Vec::new();
    }
    let last = PrPoint {
        threshold: f64::INFINITY,
        precision: 1.0,
        recall: 0.0,
    };
    let rest = points.iter().rev().map(|&(s, tp, fp)| PrPoint {
        threshold: s,
        precision: tp as f64 / (tp + fp) as f64,
        recall: if pos == 0 {
            1.0
        } else {
            tp as f64 / pos as f64
        },
    });
    rest.chain(std::iter::once(last)).collect()
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Bin number, 1 = lowest scores.
    pub bin: u32,
    /// Lower edge (exclusive, except 0 for bin 1).
    pub lower: f64,
    /// Upper edge (inclusive).
    pub upper: f64,
    /// Rows in the bin.
    pub leads: u64,
    /// Mean score of the rows (x axis; scikit-learn's `prob_pred`).
    pub mean_predicted: f64,
    /// Positive rate of the rows (y axis; scikit-learn's `prob_true`).
    pub observed_rate: f64,
}

/// Reliability curve as `sklearn.calibration.calibration_curve(strategy="uniform")`.
///
/// `bins` equal-width bins of `[0, 1]` with numpy's edges `i * (1 / bins)` (last edge
/// exactly 1), assigned by `searchsorted` on the interior edges, so bins are
/// `[0, e1], (e1, e2], ..., (e_{k-1}, 1]` and scores outside `[0, 1]` fall in the end
/// bins (scikit-learn rejects them). Only non-empty bins are returned, as scikit-learn
/// does; `bin` says which. NaN scores are skipped; `bins == 0` is treated as 1.
pub fn calibration_curve(scores: &[f64], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    debug_assert_eq!(scores.len(), labels.len());
    let bins = bins.max(1);
    let step = 1.0 / bins as f64;
    let edge = |i: usize| if i == bins { 1.0 } else { i as f64 * step };
    let interior: Vec<f64> = (1..bins).map(edge).collect();
    let mut acc = vec![(0u64, 0.0f64, 0u64); bins]; // (rows, score sum, positives)
    for (&s, &y) in scores.iter().zip(labels) {
        if s.is_nan() {
            continue;
        }
        let a = &mut acc[interior.partition_point(|&e| e < s)];
        a.0 += 1;
        a.1 += s;
        a.2 += u64::from(y);
    }
    acc.iter()
        .enumerate()
        .filter(|(_, a)| a.0 > 0)
        .map(|(i, &(c, sum, p))| CalibrationBin {
            bin: i as u32 + 1,
            lower: edge(i),
            upper: edge(i + 1),
            leads: c,
            mean_predicted: sum / c as f64,
            observed_rate: p as f64 / c as f64,
        })
        .collect()
}

/// At most `max_points` of `points` for charting: always the first and last, the rest
/// evenly spaced by index (rounded). Returns everything when it already fits; `max_points`
/// 0 gives nothing and 1 gives the first point.
pub fn downsample_curve<T: Clone>(points: &[T], max_points: usize) -> Vec<T> {
    let n = points.len();
    if n <= max_points {
        return points.to_vec();
    }
    if max_points <= 1 {
        return points.iter().take(max_points).cloned().collect();
    }
    let m = max_points - 1;
    // Index i * (n - 1) / m rounded; strictly increasing because n - 1 > m.
    (0..=m)
        .map(|i| points[(2 * i * (n - 1) + m) / (2 * m)].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    fn b(v: &[u8]) -> Vec<bool> {
        v.iter().map(|&x| x != 0).collect()
    }

    const INF: f64 = f64::INFINITY;

    fn roc(t: f64, fpr: f64, tpr: f64) -> RocPoint {
        RocPoint {
            threshold: t,
            fpr,
            tpr,
        }
    }

    fn pr(t: f64, precision: f64, recall: f64) -> PrPoint {
        PrPoint {
            threshold: t,
            precision,
            recall,
        }
    }

    #[test]
    fn roc_and_pr_doc_example() {
        // Full curves of this example are in the fixtures; here the ends and the order.
        let (s, y) = ([0.1, 0.4, 0.35, 0.8], b(&[0, 0, 1, 1]));
        let r = roc_curve(&s, &y);
        assert_eq!(
            (r.len(), r[0], r[1]),
            (5, roc(INF, 0.0, 0.0), roc(0.8, 0.0, 0.5))
        );
        assert_eq!(r[4], roc(0.1, 1.0, 1.0));
        let p = pr_curve(&s, &y);
        assert_eq!(
            (p.len(), p[0], p[1]),
            (5, pr(0.1, 0.5, 1.0), pr(0.35, 2.0 / 3.0, 1.0))
        );
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
        let counts: Vec<(u64, u64, f64, f64)> = t
            .iter()
            .map(|r| (r.leads, r.conversions, r.min_score, r.max_score))
            .collect();
        assert_eq!(counts, [(3, 2, 0.5, 0.9), (2, 1, 0.1, 0.5)]);
        assert_eq!(t[0].lift, (2.0 / 3.0) / 0.6);
        assert_eq!(
            (t[1].cumulative_leads, t[1].cumulative_share_of_conversions),
            (5, 1.0)
        );
        assert_eq!(lift_table(&s, &y, 10).len(), 5);
        assert!(lift_table(&[], &[], 10).is_empty());
        let none = lift_table(&s, &b(&[0, 0, 0, 0, 0]), 0); // no positives, 1 group
        assert_eq!(
            (
                none.len(),
                none[0].lift,
                none[0].cumulative_share_of_conversions
            ),
            (1, 0.0, 0.0)
        );
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
        let (g, w) = (
            serde_json::to_value(got).unwrap(),
            serde_json::to_value(want).unwrap(),
        );
        assert_close(&g, &w, at);
    }

    /// Fixtures from tests/fixtures/gen_curves.py (scikit-learn / numpy reference values).
    #[test]
    fn matches_sklearn_fixtures() {
        let fx: Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/curves_sklearn.json")).unwrap();
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
            check(
                &calibration_curve(&s, &y, bins),
                &c["calib"],
                &format!("{n}.calib"),
            );
            check(
                &lift_table(&s, &y, groups),
                &c["lift"],
                &format!("{n}.lift"),
            );
        }
    }
}
