//! Binary classification metrics on `(score, label)` pairs, matching scikit-learn.
//!
//! Every function takes two equal-length slices: `scores` (finite `f64`, higher means
//! "more likely positive") and `labels` (`true` = positive). Callers drop NULL rows first.
//! Ranking metrics sort once (`O(n log n)`, `f64::total_cmp`) and treat tied scores as
//! one threshold, exactly as scikit-learn's `roc_curve` / `precision_recall_curve` do.
//! Metrics that are undefined for the input (e.g. AUC with one class) return `None`;
//! plain ratios with a zero denominator return `0.0` (scikit-learn's `zero_division=0`).

use serde::{Deserialize, Serialize};

use crate::data::total_order_key;

/// Probability clip used by [`log_loss`]: scores are clamped to `[1e-15, 1 - 1e-15]`.
///
/// scikit-learn >= 1.5 clips to the dtype's machine epsilon (~2.2e-16) instead; the two
/// agree exactly whenever every score lies in `[1e-15, 1 - 1e-15]`. We keep the older,
/// slightly larger clip so a single confidently wrong 0/1 score costs at most ~34.5 nats.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Cumulative counts after each distinct score, scanned from the highest score down.
struct Curve {
    /// `(score, tp, fp)`: counts of rows with `score >= this score`.
    points: Vec<(f64, u64, u64)>,
    pos: u64,
    neg: u64,
}

fn curve(scores: &[f64], labels: &[bool]) -> Curve {
    debug_assert_eq!(scores.len(), labels.len());
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    curve_of_sorted(pairs.iter().map(|&(s, y)| (s, y as u64, !y as u64)))
}

/// The curve of `(score, positives, negatives)` groups sorted by descending score (rows are
/// groups of one). Groups are merged by `==` (not total_cmp) so -0.0 and 0.0 count as one
/// threshold, like numpy.
fn curve_of_sorted(sorted: impl Iterator<Item = (f64, u64, u64)>) -> Curve {
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut points = Vec::new();
    let mut sorted = sorted.peekable();
    while let Some((s, p, n)) = sorted.next() {
        (tp, fp) = (tp + p, fp + n);
        if sorted.peek().is_none_or(|next| next.0 != s) {
            points.push((s, tp, fp));
        }
    }
    Curve { points, pos: tp, neg: fp }
}

/// Area under the ROC curve, as scikit-learn's `roc_auc_score`.
///
/// Ties are handled by the trapezoid rule over distinct thresholds (equivalently a
/// Mann-Whitney U with tied pairs counted 1/2). `None` when either class is absent.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    debug_assert_eq!(scores.len(), labels.len());
    if scores.iter().any(|s| s.is_nan()) {
        return roc_auc_by_curve(scores, labels);
    }
    // Each class's scores as order-preserving integers, sorted apart: sorting plain u64 keys is
    // several times faster than sorting (score, label) pairs by total_cmp on a million rows.
    let (mut pos, mut neg) = (Vec::new(), Vec::with_capacity(scores.len()));
    for (&s, &y) in scores.iter().zip(labels) {
        if y {
            pos.push(order_key(s))
        } else {
            neg.push(order_key(s))
        }
    }
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    pos.sort_unstable();
    neg.sort_unstable();
    // Ascending through the distinct scores: a score v with p_v positives and n_v negatives adds
    // n_v * (2 * positives above v + p_v) to twice the area, as the curve's trapezoids do.
    let (np, nn) = (pos.len() as u64, neg.len() as u64);
    let (mut i, mut j, mut twice_area) = (0usize, 0usize, 0u128);
    while j < neg.len() {
        let v = neg[j];
        while i < pos.len() && pos[i] < v {
            i += 1;
        }
        let (i0, j0) = (i, j);
        while i < pos.len() && pos[i] == v {
            i += 1;
        }
        while j < neg.len() && neg[j] == v {
            j += 1;
        }
        let above = np - i as u64;
        twice_area += u128::from((j - j0) as u64) * u128::from(2 * above + (i - i0) as u64);
    }
    Some(twice_area as f64 / (2.0 * np as f64 * nn as f64))
}

/// An integer with the order of the (non-NaN) score; -0.0 and 0.0 map to one key, as `==`.
/// Every ranking of scores keys them so (the AUC here, `ScoreCounts`, the leakage guard's
/// buckets), so that they all rank ties alike.
#[inline]
pub(crate) fn order_key(x: f64) -> u64 {
    total_order_key(x + 0.0) // -0.0 + 0.0 == +0.0
}

/// [`roc_auc`] from the sorted curve: the reference, and the path when a score is NaN.
fn roc_auc_by_curve(scores: &[f64], labels: &[bool]) -> Option<f64> {
    area_under(&curve(scores, labels))
}

/// The ROC area of a curve; `None` when either class is absent.
fn area_under(c: &Curve) -> Option<f64> {
    area_under_points(c.cumulative(), c.pos, c.neg)
}

/// The ROC area from the cumulative `(tp, fp)` after each distinct score, highest score first.
pub(super) fn area_under_points(points: impl Iterator<Item = (u64, u64)>, pos: u64, neg: u64) -> Option<f64> {
    if pos == 0 || neg == 0 {
        return None;
    }
    // Twice the area in integer units, exact; a single rounding at the end.
    let (mut twice_area, mut prev_tp, mut prev_fp) = (0u128, 0u64, 0u64);
    for (tp, fp) in points {
        twice_area += u128::from(fp - prev_fp) * u128::from(tp + prev_tp);
        (prev_tp, prev_fp) = (tp, fp);
    }
    Some(twice_area as f64 / (2.0 * pos as f64 * neg as f64))
}

/// [`roc_auc`] of scores that take few distinct values, from the count of converted and other
/// leads per value: `(score, positives, negatives)` in any order, the same score may repeat.
/// Exactly `roc_auc` of the expanded rows, in O(values log values) instead of a sort of rows.
pub fn roc_auc_of_groups(groups: &mut [(f64, u64, u64)]) -> Option<f64> {
    groups.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    area_under(&curve_of_sorted(groups.iter().copied()))
}

/// Average precision, as scikit-learn's `average_precision_score`:
/// `sum_n (R_n - R_{n-1}) * P_n` over distinct thresholds (no interpolation).
///
/// `None` when there are no positives (scikit-learn warns and returns 0 there).
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    average_precision_of_curve(&curve(scores, labels))
}

impl Curve {
    fn cumulative(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.points.iter().map(|&(_, tp, fp)| (tp, fp))
    }
}

fn average_precision_of_curve(c: &Curve) -> Option<f64> {
    average_precision_of_points(c.cumulative(), c.pos)
}

pub(super) fn average_precision_of_points(points: impl Iterator<Item = (u64, u64)>, pos: u64) -> Option<f64> {
    if pos == 0 {
        return None;
    }
    let mut ap = 0.0;
    let mut prev_tp = 0u64;
    for (tp, fp) in points {
        if tp > prev_tp {
            ap += (tp - prev_tp) as f64 / pos as f64 * (tp as f64 / (tp + fp) as f64);
        }
        prev_tp = tp;
    }
    Some(ap)
}

/// Log loss of one prediction (natural log), the probability clipped to [`LOG_LOSS_EPS`].
pub fn log_loss_term(p: f64, label: bool) -> f64 {
    let p = p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
    -(if label { p } else { 1.0 - p }).ln() // the probability given to the true label
}

/// Squared error of one prediction, the Brier score's term.
pub fn brier_term(p: f64, label: bool) -> f64 {
    (p - if label { 1.0 } else { 0.0 }).powi(2)
}

/// Mean log loss (natural log), probabilities clipped to [`LOG_LOSS_EPS`].
///
/// Returns `0.0` for empty input (scikit-learn raises instead).
pub fn log_loss(scores: &[f64], labels: &[bool]) -> f64 {
    debug_assert_eq!(scores.len(), labels.len());
    if scores.is_empty() {
        return 0.0;
    }
    let total: f64 = scores.iter().zip(labels).map(|(&p, &y)| log_loss_term(p, y)).sum();
    total / scores.len() as f64
}

/// Brier score: mean of `(score - label)^2` (scikit-learn's binary `brier_score_loss`).
///
/// Returns `0.0` for empty input.
pub fn brier(scores: &[f64], labels: &[bool]) -> f64 {
    debug_assert_eq!(scores.len(), labels.len());
    if scores.is_empty() {
        return 0.0;
    }
    let total: f64 = scores.iter().zip(labels).map(|(&p, &y)| brier_term(p, y)).sum();
    total / scores.len() as f64
}

/// Kolmogorov-Smirnov statistic: `max(TPR - FPR)` over all thresholds of the ROC curve
/// (including the empty `(0, 0)` point, so the result is in `[0, 1]`).
///
/// `None` when either class is absent.
pub fn ks_statistic(scores: &[f64], labels: &[bool]) -> Option<f64> {
    ks_of_curve(&curve(scores, labels))
}

fn ks_of_curve(c: &Curve) -> Option<f64> {
    ks_of_points(c.cumulative(), c.pos, c.neg)
}

pub(super) fn ks_of_points(points: impl Iterator<Item = (u64, u64)>, pos: u64, neg: u64) -> Option<f64> {
    if pos == 0 || neg == 0 {
        return None;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some(points.fold(0.0, |best: f64, (tp, fp)| best.max(tp as f64 / p - fp as f64 / n)))
}

/// Confusion-matrix counts for one threshold. Serialized with keys `tp, fp, tn, fn`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    /// Positives predicted positive.
    pub tp: u64,
    /// Negatives predicted positive.
    pub fp: u64,
    /// Negatives predicted negative.
    pub tn: u64,
    /// Positives predicted negative (`fn` is a Rust keyword, hence the underscore).
    #[serde(rename = "fn")]
    pub fn_: u64,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl Confusion {
    /// `tp / (tp + fp)`, `0.0` when nothing is predicted positive.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// `tp / (tp + fn)`, `0.0` when there are no positives.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// `2tp / (2tp + fp + fn)` (the harmonic mean of precision and recall, computed the
    /// way scikit-learn does), `0.0` when the denominator is 0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// `(tp + tn) / total`, `0.0` for an empty matrix.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.tp + self.fp + self.tn + self.fn_)
    }
}

/// Confusion matrix where a row is predicted positive when `score >= threshold`.
pub fn confusion(scores: &[f64], labels: &[bool], threshold: f64) -> Confusion {
    debug_assert_eq!(scores.len(), labels.len());
    // counts[2 * predicted + actual]: [tn, fn, fp, tp]
    let mut counts = [0u64; 4];
    for (&s, &y) in scores.iter().zip(labels) {
        counts[2 * usize::from(s >= threshold) + usize::from(y)] += 1;
    }
    let [tn, fn_, fp, tp] = counts;
    Confusion { tp, fp, tn, fn_ }
}

/// The observed score `t` maximizing F1 of the rule `score >= t`, with that F1.
///
/// Ties in F1 go to the higher threshold (fewer leads flagged). `None` when there are
/// no positives. The F1 equals `confusion(scores, labels, t).f1()` bit for bit.
pub fn max_f1_threshold(scores: &[f64], labels: &[bool]) -> Option<(f64, f64)> {
    let c = curve(scores, labels);
    if c.pos == 0 {
        return None;
    }
    // F1 = 2tp / (tp + fp + P); compare fractions exactly by cross-multiplication so
    // equal F1s are detected as ties regardless of rounding.
    let mut best: Option<(f64, u64, u64)> = None; // (threshold, numerator, denominator)
    for &(s, tp, fp) in &c.points {
        let (num, den) = (2 * tp, tp + fp + c.pos);
        let better = match best {
            None => true,
            Some((_, bn, bd)) => u128::from(num) * u128::from(bd) > u128::from(bn) * u128::from(den),
        };
        if better {
            best = Some((s, num, den));
        }
    }
    best.map(|(s, num, den)| (s, ratio(num, den)))
}

/// Precision among the top `ceil(fraction * n)` scores (at least one row).
///
/// Ties: every row tied with the cut score is included, i.e. this is the precision of
/// `score >= s_k` where `s_k` is the k-th highest score, so the result never depends on
/// row order (and may cover more than k rows). `None` for empty input or `fraction`
/// outside `(0, 1]`.
pub fn precision_at_top(scores: &[f64], labels: &[bool], fraction: f64) -> Option<f64> {
    debug_assert_eq!(scores.len(), labels.len());
    let n = scores.len();
    if n == 0 || !(fraction > 0.0 && fraction <= 1.0) {
        return None;
    }
    let k = ((fraction * n as f64).ceil() as usize).clamp(1, n);
    let mut sorted = scores.to_vec();
    // Linear-time selection of the k-th highest score; no full sort needed.
    let (_, &mut cut, _) = sorted.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    Some(confusion(scores, labels, cut).precision())
}

/// Evaluation summary for one data partition (e.g. train / validation / test).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PartMetrics {
    /// Number of scored rows.
    pub rows: u64,
    /// Number of positive rows.
    pub positives: u64,
    /// `positives / rows` (`0.0` when empty).
    pub base_rate: f64,
    /// [`roc_auc`]; `None` with a single class.
    pub roc_auc: Option<f64>,
    /// [`average_precision`]; `None` without positives.
    pub pr_auc: Option<f64>,
    /// [`log_loss`].
    pub log_loss: f64,
    /// [`brier`].
    pub brier: f64,
    /// Threshold used for the counts below (`score >= threshold` is positive).
    pub threshold: f64,
    /// [`Confusion::precision`] at `threshold`.
    pub precision: f64,
    /// [`Confusion::recall`] at `threshold`.
    pub recall: f64,
    /// [`Confusion::f1`] at `threshold`.
    pub f1: f64,
    /// [`Confusion::accuracy`] at `threshold`.
    pub accuracy: f64,
    /// Raw counts at `threshold`.
    pub confusion: Confusion,
}

/// All metrics of one partition at the given decision threshold.
pub fn part_metrics(scores: &[f64], labels: &[bool], threshold: f64) -> PartMetrics {
    debug_assert_eq!(scores.len(), labels.len());
    let ranking = (roc_auc(scores, labels), average_precision(scores, labels));
    let losses = (log_loss(scores, labels), brier(scores, labels));
    part_metrics_of(confusion(scores, labels, threshold), threshold, ranking, losses)
}

/// [`part_metrics`] from what aggregates over the part give: the confusion counts at
/// `threshold`, (ROC AUC, PR AUC) and (log loss, Brier score).
pub fn part_metrics_of(cm: Confusion, threshold: f64, ranking: (Option<f64>, Option<f64>), losses: (f64, f64)) -> PartMetrics {
    let rows = cm.tp + cm.fp + cm.tn + cm.fn_;
    let positives = cm.tp + cm.fn_;
    PartMetrics {
        rows,
        positives,
        base_rate: ratio(positives, rows),
        roc_auc: ranking.0,
        pr_auc: ranking.1,
        log_loss: losses.0,
        brier: losses.1,
        threshold,
        precision: cm.precision(),
        recall: cm.recall(),
        f1: cm.f1(),
        accuracy: cm.accuracy(),
        confusion: cm,
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
