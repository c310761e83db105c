//! The statistics of a prospective experiment (`experiment_report()`): per arm a conversion rate
//! with its Wilson interval, and between the arms the difference with a two-sided test: the
//! pooled two-proportion z test, or Fisher's exact test when an expected cell count is below 5
//! (where the normal approximation is poor). Also the median and the verdict sentence.

use serde::Serialize;

use super::compare::{normal_cdf, normal_quantile};

/// Below this expected count in any cell of the 2x2 table, the arms are compared with Fisher's
/// exact test instead of the z test (the usual rule of thumb for the chi-square approximation).
pub const MIN_EXPECTED_FOR_Z_TEST: f64 = 5.0;

/// The Wilson score interval of `successes / n` at `confidence` (e.g. 0.95), as statsmodels'
/// `proportion_confint(method="wilson")`. `None` for `n == 0`.
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> Option<(f64, f64)> {
    if n == 0 || successes > n {
        return None;
    }
    let z = normal_quantile(0.5 + confidence / 2.0);
    let (n, p) = (n as f64, successes as f64 / n as f64);
    let z2 = z * z;
    let center = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((center - half).max(0.0), (center + half).min(1.0)))
}

/// The pooled two-proportion z test of `x1/n1` against `x2/n2`: `(z, two-sided p)`, as
/// statsmodels' `proportions_ztest([x1, x2], [n1, n2])`. `z` is positive when the first
/// proportion is larger. When every lead or none converted, `z = 0` and `p = 1`.
pub fn two_proportion_z_test(x1: u64, n1: u64, x2: u64, n2: u64) -> (f64, f64) {
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    if se == 0.0 || !se.is_finite() {
        return (0.0, 1.0);
    }
    let z = (p1 - p2) / se;
    (z, (2.0 * normal_cdf(-z.abs())).min(1.0))
}

/// Fisher's exact test on the table `[[x1, n1 - x1], [x2, n2 - x2]]`, two-sided as scipy's
/// `fisher_exact`: the probability, given the margins, of every table no more likely than the
/// observed one. The hypergeometric probabilities are built by their ratios in log space, so
/// large totals neither overflow nor need factorial tables.
pub fn fisher_exact(x1: u64, n1: u64, x2: u64, n2: u64) -> f64 {
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let total_successes = (x1 + x2) as f64;
    let n = n1f + n2f;
    // X = successes in the first row: support [lo, hi].
    let lo = (total_successes - n2f).max(0.0) as u64;
    let hi = total_successes.min(n1f) as u64;
    let mut log_p = Vec::with_capacity((hi - lo + 1) as usize);
    let mut current = 0.0;
    log_p.push(current);
    for k in lo..hi {
        let k = k as f64;
        // P(k+1) / P(k) for the hypergeometric of n1 draws from n with total_successes successes.
        let ratio = ((total_successes - k) * (n1f - k)) / ((k + 1.0) * (n - total_successes - n1f + k + 1.0));
        current += ratio.ln();
        log_p.push(current);
    }
    let max = log_p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = log_p.iter().map(|l| (l - max).exp()).collect();
    let sum: f64 = weights.iter().sum();
    let observed = weights[(x1 - lo) as usize];
    // scipy's relative tolerance for "as likely as the observed table".
    let p: f64 = weights.iter().filter(|&&w| w <= observed * (1.0 + 1e-7)).sum::<f64>() / sum;
    p.min(1.0)
}

/// Which test compared the arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ArmTest {
    #[serde(rename = "two-proportion z test")]
    TwoProportionZ,
    #[serde(rename = "Fisher's exact test")]
    FisherExact,
}

impl ArmTest {
    pub fn name(self) -> &'static str {
        match self {
            ArmTest::TwoProportionZ => "two-proportion z test",
            ArmTest::FisherExact => "Fisher's exact test",
        }
    }
}

/// The treatment arm against the control arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmComparison {
    /// Treatment rate minus control rate.
    pub difference: f64,
    /// The unpooled (Wald) interval of `difference`.
    pub ci_low: f64,
    pub ci_high: f64,
    pub test: ArmTest,
    /// The z statistic (z test only).
    pub z: Option<f64>,
    /// Two-sided.
    pub p_value: f64,
}

/// Compares `conversions / leads` of the treatment and the control arm. `None` when an arm has
/// no leads. Fisher's exact test when any expected cell count is below
/// [`MIN_EXPECTED_FOR_Z_TEST`], else the pooled z test.
pub fn compare_arms(treatment: (u64, u64), control: (u64, u64), confidence: f64) -> Option<ArmComparison> {
    let ((x1, n1), (x2, n2)) = (treatment, control);
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let z_crit = normal_quantile(0.5 + confidence / 2.0);
    let half = z_crit * (p1 * (1.0 - p1) / n1 as f64 + p2 * (1.0 - p2) / n2 as f64).sqrt();
    let n = (n1 + n2) as f64;
    let (successes, failures) = ((x1 + x2) as f64, (n1 + n2 - x1 - x2) as f64);
    let min_expected = n1.min(n2) as f64 * successes.min(failures) / n;
    let (test, z, p_value) = if min_expected < MIN_EXPECTED_FOR_Z_TEST {
        (ArmTest::FisherExact, None, fisher_exact(x1, n1, x2, n2))
    } else {
        let (z, p) = two_proportion_z_test(x1, n1, x2, n2);
        (ArmTest::TwoProportionZ, Some(z), p)
    };
    Some(ArmComparison { difference: p1 - p2, ci_low: p1 - p2 - half, ci_high: p1 - p2 + half, test, z, p_value })
}

/// The median of finite values (the mean of the middle two for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().cloned().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 })
}

/// One sentence on the outcome: which arm converted more, by how much, the p-value and its
/// test, and whether that is significant at `alpha`. `rates` are (treatment, control).
pub fn verdict(treatment: &str, control: &str, rates: (f64, f64), cmp: &ArmComparison, alpha: f64) -> String {
    let pct = |r: f64| format!("{:.1}%", 100.0 * r);
    let points = |d: f64| format!("{:+.1}", 100.0 * d);
    let p = if cmp.p_value < 0.0001 { "p < 0.0001".to_string() } else { format!("p = {:.4}", cmp.p_value) };
    let head = format!(
        "{treatment} converted {} of its leads, {control} {}: {} points ({p}, {})",
        pct(rates.0),
        pct(rates.1),
        points(cmp.difference),
        cmp.test.name()
    );
    if cmp.p_value < alpha {
        let better = if cmp.difference > 0.0 { treatment } else { control };
        format!("{head}. {better} converts better, significant at the {}% level.", alpha * 100.0)
    } else {
        format!("{head}. Not significant at the {}% level: no difference between the arms is shown.", alpha * 100.0)
    }
}

#[cfg(test)]
#[path = "experiments_tests.rs"]
mod tests;
