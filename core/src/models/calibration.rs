//! Probability calibration fitted on held-out `(score, label)` pairs, matching scikit-learn.
//!
//! Scores are the model's probabilities (finite, in `[0, 1]`), labels are `true` for
//! positives. Fitting needs both classes; the result is a small [`Calibration`] that is
//! stored with the model and applied to every new score.

use serde::{Deserialize, Serialize};

/// Scores are clamped to `[PLATT_EPS, 1 - PLATT_EPS]` before taking the log-odds, so
/// scores of exactly 0 or 1 give a finite feature (about +-27.6).
pub const PLATT_EPS: f64 = 1e-12;

/// A fitted map from raw model probability to calibrated probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Calibration {
    /// No calibration: [`Calibration::apply`] returns its input.
    None,
    /// Platt scaling on the log-odds of the raw score:
    /// `p = 1 / (1 + exp(a * f + b))` with `f = ln(s / (1 - s))` and `s` clamped to
    /// `[PLATT_EPS, 1 - PLATT_EPS]`. This is scikit-learn's sigmoid form, so `a` is
    /// negative for a useful model and `(a, b) = (-1, 0)` is the identity.
    Platt {
        /// Slope on the log-odds (negative when higher scores mean more positives).
        a: f64,
        /// Intercept.
        b: f64,
    },
    /// Isotonic regression: a non-decreasing function through the points `(x[i], y[i])`
    /// (`x` strictly increasing), linear between points and constant outside
    /// `[x[0], x[last]]`, as scikit-learn's `IsotonicRegression(out_of_bounds="clip")`.
    Isotonic {
        /// Raw-score knots, strictly increasing.
        x: Vec<f64>,
        /// Calibrated probability at each knot, non-decreasing, in `[0, 1]`.
        y: Vec<f64>,
    },
}

impl Calibration {
    /// The calibrated probability for one raw score. NaN stays NaN. A malformed
    /// `Isotonic` (empty or unequal lengths, e.g. from a hand-edited artifact) is ignored
    /// and the input returned, rather than panicking inside a query.
    pub fn apply(&self, probability: f64) -> f64 {
        if probability.is_nan() {
            return probability;
        }
        match self {
            Calibration::None => probability,
            Calibration::Platt { a, b } => 1.0 / (1.0 + (a * platt_feature(probability) + b).exp()),
            Calibration::Isotonic { x, y } => {
                if x.is_empty() || x.len() != y.len() {
                    probability
                } else {
                    interpolate(x, y, probability)
                }
            }
        }
    }

    /// Whether a calibration read from an artifact is well formed: finite Platt parameters;
    /// isotonic knots of equal, nonzero count, strictly increasing, with non-decreasing
    /// probabilities in [0, 1].
    pub fn check(&self) -> Result<(), String> {
        match self {
            Calibration::None => Ok(()),
            Calibration::Platt { a, b } if a.is_finite() && b.is_finite() => Ok(()),
            Calibration::Platt { a, b } => Err(format!("Platt calibration has a = {a}, b = {b}")),
            Calibration::Isotonic { x, y } => {
                if x.is_empty() || x.len() != y.len() {
                    return Err(format!("isotonic calibration has {} knots and {} values", x.len(), y.len()));
                }
                if x.iter().any(|v| !v.is_finite()) || x.windows(2).any(|w| w[0] >= w[1]) {
                    return Err("isotonic calibration knots are not finite and strictly increasing".into());
                }
                if y.iter().any(|v| !(0.0..=1.0).contains(v)) || y.windows(2).any(|w| w[0] > w[1]) {
                    return Err("isotonic calibration values are not non-decreasing probabilities".into());
                }
                Ok(())
            }
        }
    }

    /// The method name used in options and reports: `"none"`, `"platt"` or `"isotonic"`.
    pub fn method(&self) -> &'static str {
        match self {
            Calibration::None => "none",
            Calibration::Platt { .. } => "platt",
            Calibration::Isotonic { .. } => "isotonic",
        }
    }
}

/// Log-odds of the clamped score; written as numpy's `log(s / (1 - s))` so fixtures agree.
fn platt_feature(s: f64) -> f64 {
    let s = s.clamp(PLATT_EPS, 1.0 - PLATT_EPS);
    (s / (1.0 - s)).ln()
}

/// scipy's `interp1d(kind="linear")` after clipping to the fitted range.
fn interpolate(x: &[f64], y: &[f64], t: f64) -> f64 {
    let n = x.len();
    if n == 1 {
        return y[0];
    }
    let t = t.clamp(x[0], x[n - 1]);
    let hi = x.partition_point(|&v| v < t).clamp(1, n - 1); // searchsorted(side="left")
    let lo = hi - 1;
    let slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
    slope * (t - x[lo]) + y[lo]
}

/// Shared input checks; returns `(negatives, positives)`.
fn check(scores: &[f64], labels: &[bool]) -> Result<(u64, u64), String> {
    if scores.len() != labels.len() {
        return Err(format!("calibration: {} scores but {} labels", scores.len(), labels.len()));
    }
    if scores.is_empty() {
        return Err("calibration: no rows to fit on".into());
    }
    if let Some(s) = scores.iter().find(|s| !(0.0..=1.0).contains(*s)) {
        return Err(format!("calibration: score {s} is not a probability in [0, 1]"));
    }
    let pos = labels.iter().filter(|&&y| y).count() as u64;
    let neg = labels.len() as u64 - pos;
    if pos == 0 || neg == 0 {
        return Err("calibration: both classes are needed in the calibration rows".into());
    }
    Ok((neg, pos))
}

/// Stable `ln(1 + e^z)`.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// Platt scaling as scikit-learn's `_sigmoid_calibration`, on the log-odds of the score.
///
/// Targets are Platt's smoothed labels, `(n_pos + 1) / (n_pos + 2)` for positives and
/// `1 / (n_neg + 2)` for negatives, so the fit stays finite even on separable data. The
/// feature is `f = logit(clamp(s))` (see [`Calibration::Platt`]); for a
/// logistic model this is its decision function, which is what scikit-learn's
/// `CalibratedClassifierCV` feeds to the sigmoid. The convex 2-parameter problem is
/// solved by damped Newton (scikit-learn uses L-BFGS; the optimum is the same, to
/// within its `gtol`). When every score is equal the slope is not identified: `a = 0`
/// and `b` reproduces the mean target, as scikit-learn returns from its starting point.
/// Errors on empty input, unequal lengths, scores outside `[0, 1]` or NaN, one class.
pub fn fit_platt(scores: &[f64], labels: &[bool]) -> Result<Calibration, String> {
    let (neg, pos) = check(scores, labels)?;
    let (n0, n1, n) = (neg as f64, pos as f64, scores.len() as f64);
    let (t_pos, t_neg) = ((n1 + 1.0) / (n1 + 2.0), 1.0 / (n0 + 2.0));
    let t: Vec<f64> = labels.iter().map(|&y| if y { t_pos } else { t_neg }).collect();
    let f: Vec<f64> = scores.iter().map(|&s| platt_feature(s)).collect();
    let mean = f.iter().sum::<f64>() / n;
    let sd = (f.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    if f.iter().all(|&v| v == f[0]) {
        let mt = t.iter().sum::<f64>() / n;
        let b = -(mt / (1.0 - mt)).ln();
        return Ok(Calibration::Platt { a: 0.0, b });
    }
    // Standardize the feature for a well-conditioned 2x2 solve; mapped back at the end.
    let u: Vec<f64> = f.iter().map(|v| (v - mean) / sd).collect();
    let loss = |al: f64, be: f64| -> f64 {
        u.iter()
            .zip(&t)
            .map(|(&ui, &ti)| {
                let z = al * ui + be;
                softplus(z) - (1.0 - ti) * z
            })
            .sum()
    };
    let (mut al, mut be) = (0.0, (n0 + 1.0).ln() - (n1 + 1.0).ln()); // scikit-learn's start
    let mut cur = loss(al, be);
    'newton: for _ in 0..100 {
        let (mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&ui, &ti) in u.iter().zip(&t) {
            let p = 1.0 / (1.0 + (al * ui + be).exp());
            let (r, w) = (ti - p, p * (1.0 - p));
            g0 += r * ui;
            g1 += r;
            h00 += w * ui * ui;
            h01 += w * ui;
            h11 += w;
        }
        if g0.abs().max(g1.abs()) <= 1e-13 * n {
            break;
        }
        // Small ridge as in Lin, Lin & Weng (2007) keeps the solve defined.
        let (h00, h11) = (h00 + 1e-12, h11 + 1e-12);
        let det = h00 * h11 - h01 * h01;
        let (d0, d1) = (-(h11 * g0 - h01 * g1) / det, -(h00 * g1 - h01 * g0) / det);
        let slope = g0 * d0 + g1 * d1; // directional derivative, negative
        let mut step = 1.0;
        loop {
            let (na, nb) = (al + step * d0, be + step * d1);
            let next = loss(na, nb);
            // Near the optimum the decrease drops below the rounding of the summed loss;
            // a Newton step that changes it only by rounding noise is then accepted.
            if next <= cur + 1e-4 * step * slope || (next - cur).abs() <= 1e-13 * cur.abs() {
                (al, be, cur) = (na, nb, next);
                break;
            }
            step /= 2.0;
            if step < 1e-10 {
                break 'newton; // no further decrease representable: at the optimum
            }
        }
    }
    let (a, b) = (al / sd, be - al * mean / sd); // back to the unstandardized feature
    Ok(Calibration::Platt { a, b })
}

/// Isotonic regression of the label on the score, as scikit-learn's
/// `IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)`.
///
/// Scores closer than `1e-15` to the first score of their run are merged into one point
/// whose target is the positive rate of the run (scikit-learn's `_make_unique`); then
/// pool-adjacent-violators fits a non-decreasing step function, weighted by run size.
/// Block means are compared as exact integer fractions. Only each block's first and
/// last point are kept, which leaves the interpolating function unchanged.
/// Errors on empty input, unequal lengths, scores outside `[0, 1]` or NaN, one class.
pub fn fit_isotonic(scores: &[f64], labels: &[bool]) -> Result<Calibration, String> {
    check(scores, labels)?;
    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // Unique points: (x, positives, rows).
    let mut points: Vec<(f64, u64, u64)> = Vec::new();
    for &(x, y) in &pairs {
        match points.last_mut() {
            Some(last) if x - last.0 < 1e-15 => {
                last.1 += u64::from(y);
                last.2 += 1;
            }
            _ => points.push((x, u64::from(y), 1)),
        }
    }
    // PAV blocks: (first point, last point, positives, rows). Merging equal means too
    // keeps adjacent block values strictly increasing.
    let mut blocks: Vec<(usize, usize, u64, u64)> = Vec::new();
    for (i, &(_, p, c)) in points.iter().enumerate() {
        let mut cur = (i, i, p, c);
        while let Some(&(first, _, bp, bc)) = blocks.last() {
            // bp / bc >= p / c, exactly.
            if u128::from(bp) * u128::from(cur.3) >= u128::from(cur.2) * u128::from(bc) {
                blocks.pop();
                cur = (first, cur.1, bp + cur.2, bc + cur.3);
            } else {
                break;
            }
        }
        blocks.push(cur);
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for &(first, last, p, c) in &blocks {
        let v = (p as f64 / c as f64).clamp(0.0, 1.0);
        for k in [first, last].into_iter().take(1 + usize::from(first != last)) {
            x.push(points[k].0);
            y.push(v);
        }
    }
    Ok(Calibration::Isotonic { x, y })
}

/// Index of the uniform bin of `[0, 1]` holding `s`: numpy's `searchsorted` on the interior
/// edges `i * (1 / bins)`, so bins are `[0, e1], (e1, e2], ..., (e_{k-1}, 1]` and values
/// outside `[0, 1]` fall in the end bins. Same rule as `curves::calibration_curve`.
fn uniform_bin(s: f64, bins: usize) -> usize {
    let step = 1.0 / bins as f64;
    // Number of interior edges strictly below s (edges increase, so binary search).
    let (mut lo, mut hi) = (0usize, bins - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if ((mid + 1) as f64 * step) < s {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Bins of the expected calibration error stored per part of a model.
pub const ECE_BINS: usize = 10;

/// Expected calibration error: `sum_b (n_b / n) * |mean score_b - positive rate_b|` over
/// `bins` equal-width bins of `[0, 1]` (binned as scikit-learn's `calibration_curve`
/// with `strategy="uniform"`; empty bins contribute nothing).
///
/// NaN scores are skipped; `bins == 0` is treated as 1; returns `0.0` when no rows remain.
pub fn expected_calibration_error(scores: &[f64], labels: &[bool], bins: usize) -> f64 {
    debug_assert_eq!(scores.len(), labels.len());
    let bins = bins.max(1);
    let mut acc = vec![(0u64, 0.0f64, 0u64); bins]; // (rows, score sum, positives)
    for (&s, &y) in scores.iter().zip(labels) {
        if s.is_nan() {
            continue;
        }
        let a = &mut acc[uniform_bin(s, bins)];
        a.0 += 1;
        a.1 += s;
        a.2 += u64::from(y);
    }
    ece_of_bins(&acc)
}

/// [`expected_calibration_error`] from its bins' (rows, score sum, positives), in bin order:
/// what an SQL aggregate grouped by the bins of [`uniform_bin_edges`] gives.
pub fn ece_of_bins(acc: &[(u64, f64, u64)]) -> f64 {
    let n: u64 = acc.iter().map(|a| a.0).sum();
    if n == 0 {
        return 0.0;
    }
    acc.iter().filter(|a| a.0 > 0).map(|&(c, sum, p)| c as f64 / n as f64 * (sum / c as f64 - p as f64 / c as f64).abs()).sum()
}

/// The interior edges of [`uniform_bin`]'s bins, in order: a score is in bin k when it is
/// above k edges and at or below the next (for the SQL form of the binning).
pub fn uniform_bin_edges(bins: usize) -> Vec<f64> {
    let step = 1.0 / bins.max(1) as f64;
    (1..bins.max(1)).map(|k| k as f64 * step).collect()
}

#[cfg(test)]
#[path = "calibration_tests.rs"]
mod tests;
