//! Comparing two scores on the same leads, e.g. the model against the CRM's rule-based points:
//! DeLong's test for the AUC difference, and precision / lift among the top-scored leads.
//! Also the standard normal CDF and quantile these need (no statistics crate dependency).

use serde::{Deserialize, Serialize};

use crate::{core_err, CoreResult};

/// DeLong's test of `auc_a - auc_b` on the same leads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AucComparison {
    /// ROC AUC of score A (ties count 1/2, as `metrics::roc_auc`).
    pub auc_a: f64,
    /// ROC AUC of score B.
    pub auc_b: f64,
    /// `auc_a - auc_b`.
    pub difference: f64,
    /// Standard error of `difference` (DeLong covariance, paired leads).
    pub std_error: f64,
    /// Lower end of the confidence interval for `difference`.
    pub ci_low: f64,
    /// Upper end of the confidence interval for `difference`.
    pub ci_high: f64,
    /// `difference / std_error`.
    pub z: f64,
    /// Two-sided p-value of `z` under the standard normal.
    pub p_value: f64,
}

/// DeLong, DeLong & Clarke-Pearson (1988) test for two correlated ROC AUCs, with midranks for
/// tied scores (the `O(n log n)` formulation of Sun & Xu 2014).
///
/// `confidence` (e.g. 0.95) gives the interval `difference ± z_{(1+confidence)/2} * se`;
/// the p-value is two-sided. When `std_error` is 0 (e.g. identical scores), `z` is 0 and the
/// p-value 1 if the difference is 0, else `z = ±inf` and the p-value 0.
///
/// Errors: unequal lengths, non-finite scores, fewer than 2 positives or 2 negatives
/// (the covariances need ddof = 1), `confidence` outside `(0, 1)`.
pub fn delong_compare(score_a: &[f64], score_b: &[f64], labels: &[bool], confidence: f64) -> CoreResult<AucComparison> {
    check_inputs(score_a, score_b, labels)?;
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(core_err!(InvalidArgument, "confidence must be in (0, 1), got {confidence}"));
    }
    let m = labels.iter().filter(|&&l| l).count();
    let n = labels.len() - m;
    if m < 2 || n < 2 {
        return Err(core_err!(
            InsufficientData,
            "DeLong's test needs at least 2 converted and 2 unconverted leads, got {m} and {n}"
        ));
    }
    let (auc_a, v10_a, v01_a) = structural_components(score_a, labels, m, n);
    let (auc_b, v10_b, v01_b) = structural_components(score_b, labels, m, n);
    // var(A - B) = (S10_aa + S10_bb - 2 S10_ab)/m + (same for S01)/n = var of the paired
    // component differences, which avoids cancelling three covariance terms.
    let diff_var = |a: &[f64], b: &[f64]| {
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (d.len() - 1) as f64
    };
    let variance = diff_var(&v10_a, &v10_b) / m as f64 + diff_var(&v01_a, &v01_b) / n as f64;
    let std_error = variance.max(0.0).sqrt();
    let difference = auc_a - auc_b;
    let z = if std_error > 0.0 {
        difference / std_error
    } else if difference == 0.0 {
        0.0
    } else {
        f64::INFINITY.copysign(difference)
    };
    // 2 * (1 - Phi(|z|)) computed in the lower tail, so tiny p-values keep their precision.
    let p_value = (2.0 * normal_cdf(-z.abs())).min(1.0);
    let half = normal_quantile((1.0 + confidence) / 2.0) * std_error;
    Ok(AucComparison { auc_a, auc_b, difference, std_error, ci_low: difference - half, ci_high: difference + half, z, p_value })
}

fn check_inputs(score_a: &[f64], score_b: &[f64], labels: &[bool]) -> CoreResult<()> {
    if score_a.len() != labels.len() || score_b.len() != labels.len() {
        return Err(core_err!(
            Internal,
            "scores and labels must have equal lengths, got {}, {} and {}",
            score_a.len(),
            score_b.len(),
            labels.len()
        ));
    }
    if score_a.iter().chain(score_b).any(|s| !s.is_finite()) {
        return Err(core_err!(InvalidData, "scores must be finite; drop leads with a missing score first"));
    }
    Ok(())
}

/// AUC and the DeLong components: `V10` per positive (share of negatives it beats, ties 1/2)
/// and `V01` per negative (share of positives that beat it), from midranks.
fn structural_components(scores: &[f64], labels: &[bool], m: usize, n: usize) -> (f64, Vec<f64>, Vec<f64>) {
    let pos: Vec<f64> = scores.iter().zip(labels).filter(|(_, &l)| l).map(|(&s, _)| s).collect();
    let neg: Vec<f64> = scores.iter().zip(labels).filter(|(_, &l)| !l).map(|(&s, _)| s).collect();
    let all: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    let (tz, tx, ty) = (midranks(&all), midranks(&pos), midranks(&neg));
    let v10: Vec<f64> = (0..m).map(|i| (tz[i] - tx[i]) / n as f64).collect();
    let v01: Vec<f64> = (0..n).map(|j| 1.0 - (tz[m + j] - ty[j]) / m as f64).collect();
    let auc = (tz[..m].iter().sum::<f64>() - (m * (m + 1)) as f64 / 2.0) / (m as f64 * n as f64);
    (auc, v10, v01)
}

/// 1-based ranks with tied values sharing the mean of their ranks.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        // `==` groups -0.0 with 0.0 (adjacent under total_cmp).
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j + 1) as f64 / 2.0; // mean of the 1-based ranks i+1 ..= j
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        i = j;
    }
    ranks
}

/// How each score does among its own top-scored leads at one cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopShare {
    /// Requested share of leads, as given.
    pub share: f64,
    /// Leads in the cut: `ceil(share * n)` (at least 1), the same for both scores.
    pub leads: u64,
    /// Converted share among score A's top `leads`.
    pub precision_a: f64,
    /// Converted share among score B's top `leads`.
    pub precision_b: f64,
    /// Same value as `precision_a` (sales' name for it); kept so either name can be shown.
    pub conversion_rate_a: f64,
    /// Same value as `precision_b`.
    pub conversion_rate_b: f64,
    /// `precision_a / overall conversion rate` (0 when nothing converted).
    pub lift_a: f64,
    /// `precision_b / overall conversion rate` (0 when nothing converted).
    pub lift_b: f64,
}

/// Precision and lift of each score among its top `ceil(share * n)` leads, per share.
///
/// Exactly `leads` rows are taken for each score: rows are stable-sorted by score,
/// descending, so tied scores at the cut go to the earlier rows in input order (unlike
/// `metrics::precision_at_top`, which takes every row tied with the cut). `ceil` has a
/// 1e-9 guard so 0.28 × 25 (= 7.000000000000001) gives 7 leads, not 8.
///
/// Infallible by design (callers validate first): a share outside `(0, 1]` is clamped to
/// 1..=n leads (NaN gives 1); with no leads every field but `share` is 0; unequal lengths are
/// a caller bug (debug assertion; release builds use the shortest); NaN scores sort by
/// `f64::total_cmp`, i.e. above every number, so drop them first.
pub fn top_shares(score_a: &[f64], score_b: &[f64], labels: &[bool], shares: &[f64]) -> Vec<TopShare> {
    debug_assert!(score_a.len() == labels.len() && score_b.len() == labels.len());
    let n = labels.len().min(score_a.len()).min(score_b.len());
    // Prefix counts of converted leads in each score's descending order.
    let converted_prefix = |scores: &[f64]| {
        let mut order: Vec<usize> = (0..n).collect();
        // `+ 0.0` turns -0.0 into 0.0 so they tie, as `==` would say.
        order.sort_by(|&i, &j| (scores[j] + 0.0).total_cmp(&(scores[i] + 0.0)));
        let mut prefix = vec![0u64; n + 1];
        for (r, &i) in order.iter().enumerate() {
            prefix[r + 1] = prefix[r] + labels[i] as u64;
        }
        prefix
    };
    let (pa, pb) = (converted_prefix(score_a), converted_prefix(score_b));
    let base_rate = if n > 0 { pa[n] as f64 / n as f64 } else { 0.0 };
    let lift = |p: f64| if base_rate > 0.0 { p / base_rate } else { 0.0 };
    let rate = |converted: u64, leads: usize| if leads > 0 { converted as f64 / leads as f64 } else { 0.0 };
    shares
        .iter()
        .map(|&share| {
            let leads = ((share * n as f64 - 1e-9).ceil() as usize).clamp(n.min(1), n);
            let (precision_a, precision_b) = (rate(pa[leads], leads), rate(pb[leads], leads));
            TopShare {
                share,
                leads: leads as u64,
                precision_a,
                precision_b,
                conversion_rate_a: precision_a,
                conversion_rate_b: precision_b,
                lift_a: lift(precision_a),
                lift_b: lift(precision_b),
            }
        })
        .collect()
}

/// Complementary error function, to near machine precision (relative, in both tails).
///
/// A positive-term series for erf below 1 (erfc >= 0.157 there, so `1 - erf` is harmless),
/// and Laplace's continued fraction (modified Lentz, < 220 terms) above, where `1 - erf`
/// would lose relative precision. `normal_cdf` built on it is within 3e-14 (relative) of
/// mpmath for -12 < x < 10.
fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 1.0 {
        // erf(x) = 2/sqrt(pi) e^{-x^2} sum_k (2x^2)^k x / (1*3*...*(2k+1))
        let (mut term, mut sum, mut k) = (x, x, 0.0);
        while term > sum * 1e-17 {
            k += 1.0;
            term *= 2.0 * x * x / (2.0 * k + 1.0);
            sum += term;
        }
        return 1.0 - std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp() * sum;
    }
    if x > 27.3 {
        return 0.0; // below the smallest subnormal
    }
    // erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    let tiny = 1e-300;
    let (mut f, mut c, mut d) = (x, x, 0.0);
    for k in 1..5000 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        d = if d.abs() < tiny { 1.0 / tiny } else { 1.0 / d };
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// Standard normal CDF, `0.5 * erfc(-x / sqrt 2)`: relative error below 1e-13 for x > -12,
/// growing slowly in the far lower tail (3e-13 at -37.5) as scipy's does. NaN for NaN.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile (inverse CDF): Acklam's rational approximation (relative error
/// 1.15e-9) refined by one Halley step on [`normal_cdf`], giving ~1e-15. Upper-tail
/// probabilities are mirrored to the lower tail, where `1 - p` is exact and the CDF keeps its
/// relative precision. `-inf` at 0, `+inf` at 1, NaN outside `[0, 1]`.
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p > 0.5 {
        return -normal_quantile(1.0 - p);
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let x = if p < 0.02425 {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // Halley step: e / pdf(x), with the relative error taken on the CDF so it works at 1e-300.
    let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    if pdf == 0.0 {
        return x;
    }
    let u = (normal_cdf(x) - p) / pdf;
    x - u / (1.0 + 0.5 * x * u)
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
