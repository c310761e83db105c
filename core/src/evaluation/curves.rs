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
        let (lo, hi) =
            part.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| (lo.min(scores[i]), hi.max(scores[i])));
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
    let first = RocPoint { threshold: f64::INFINITY, fpr: 0.0, tpr: 0.0 };
    let rest =
        points.iter().map(|&(s, tp, fp)| RocPoint { threshold: s, fpr: fp as f64 / neg as f64, tpr: tp as f64 / pos as f64 });
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
    let last = PrPoint { threshold: f64::INFINITY, precision: 1.0, recall: 0.0 };
    let rest = points.iter().rev().map(|&(s, tp, fp)| PrPoint {
        threshold: s,
        precision: tp as f64 / (tp + fp) as f64,
        recall: if pos == 0 { 1.0 } else { tp as f64 / pos as f64 },
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
    (0..=m).map(|i| points[(2 * i * (n - 1) + m) / (2 * m)].clone()).collect()
}

#[cfg(test)]
#[path = "curves_tests.rs"]
mod tests;
