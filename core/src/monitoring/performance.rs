//! Performance monitoring: metrics of newly labelled leads against the model's test baseline,
//! the overall status with drift, a plain-language recommendation, and metrics per period for
//! backtests. Plain Rust; the SQL layer reads rows and writes `lead_scoring.monitoring`.

use serde::Serialize;
use serde_json::{json, Value};

use crate::evaluation::Tiers;
use crate::evaluation::{average_precision, confusion, roc_auc};
use crate::models::expected_calibration_error;
use crate::models::ECE_BINS;
use crate::monitoring::drift::{DriftRow, Status, SCORE_ROW};

/// A metric this far (relative) or more below its baseline raises an alert...
pub const DEGRADATION: f64 = 0.05;
/// ...when the drop is also beyond sampling noise: (baseline - value) / standard error of the
/// difference at least this (a two-sided 5% test). Test parts are small (a few dozen
/// conversions), so without it a quiet month alerts on precision or recall by chance.
pub const SIGNIFICANCE_Z: f64 = 1.96;

/// Metrics compared with the baseline: all are "higher is better". The calibration error is
/// reported next to its baseline but never degrades the status (README, "monitor()"): it has no
/// standard error to test a rise against, and on the demo CRM it moves from 0.010 to 0.035 month
/// to month around a test value of 0.018 with nothing changed, so a 5% rule alerts on quiet
/// periods, and the planted change (0.043 and 0.057) is too close to that noise to fit a
/// looser threshold that would hold beyond this one dataset.
pub const COMPARED_METRICS: [&str; 5] = ["roc_auc", "pr_auc", "precision", "recall", "f1"];

/// Metrics of one group of labelled leads (a monitoring run or a backtest period). Metrics
/// that are undefined for the rows (AUC with one class, precision with nothing flagged, recall
/// without conversions) are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupMetrics {
    pub leads: u64,
    pub conversions: u64,
    pub conversion_rate: Option<f64>,
    pub roc_auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub threshold: f64,
    /// Leads at or above the threshold.
    pub flagged: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub calibration_error: Option<f64>,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Metrics of `scores` against `labels` at the model's `threshold`.
pub fn group_metrics(scores: &[f64], labels: &[bool], threshold: f64) -> GroupMetrics {
    let cm = confusion(scores, labels, threshold);
    let leads = scores.len() as u64;
    let conversions = cm.tp + cm.fn_;
    GroupMetrics {
        leads,
        conversions,
        conversion_rate: ratio(conversions, leads),
        roc_auc: roc_auc(scores, labels),
        pr_auc: average_precision(scores, labels),
        threshold,
        flagged: cm.tp + cm.fp,
        precision: ratio(cm.tp, cm.tp + cm.fp),
        recall: ratio(cm.tp, cm.tp + cm.fn_),
        f1: ratio(2 * cm.tp, 2 * cm.tp + cm.fp + cm.fn_),
        calibration_error: (leads > 0).then(|| expected_calibration_error(scores, labels, ECE_BINS)),
    }
}

impl GroupMetrics {
    fn get(&self, metric: &str) -> Option<f64> {
        match metric {
            "roc_auc" => self.roc_auc,
            "pr_auc" => self.pr_auc,
            "precision" => self.precision,
            "recall" => self.recall,
            "f1" => self.f1,
            "calibration_error" => self.calibration_error,
            _ => None,
        }
    }
}

/// One metric next to its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricCheck {
    pub metric: String,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    /// (value - baseline) / baseline.
    pub relative_change: Option<f64>,
    /// How many standard errors the value is below the baseline.
    pub z: Option<f64>,
    /// At least [`DEGRADATION`] below the baseline and [`SIGNIFICANCE_Z`] standard errors below
    /// it (compared metrics only).
    pub degraded: bool,
}

/// Rows behind a group's metrics, for their standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Counts {
    positives: f64,
    negatives: f64,
    flagged: f64,
}

impl Counts {
    fn of(m: &GroupMetrics) -> Counts {
        Counts { positives: m.conversions as f64, negatives: (m.leads - m.conversions) as f64, flagged: m.flagged as f64 }
    }

    /// From a part's stored metrics (`rows`, `positives`, `confusion`).
    fn of_json(v: &Value) -> Option<Counts> {
        let n = |x: Option<&Value>| x.and_then(Value::as_f64);
        let (rows, positives) = (n(v.get("rows"))?, n(v.get("positives"))?);
        let c = v.get("confusion")?;
        Some(Counts { positives, negatives: rows - positives, flagged: n(c.get("tp"))? + n(c.get("fp"))? })
    }
}

/// Standard error of a metric's value: Hanley & McNeil (1982) for ROC AUC, a binomial
/// proportion over the rows it is a share of for the others (conversions for recall and PR
/// AUC, flagged leads for precision, their mean for F1).
fn standard_error(metric: &str, v: f64, c: Counts) -> Option<f64> {
    let proportion = |n: f64| (n > 0.0).then(|| (v * (1.0 - v) / n).max(0.0).sqrt());
    match metric {
        "roc_auc" => {
            let (p, n) = (c.positives, c.negatives);
            if p < 1.0 || n < 1.0 {
                return None;
            }
            let q1 = v / (2.0 - v);
            let q2 = 2.0 * v * v / (1.0 + v);
            Some(((v * (1.0 - v) + (p - 1.0) * (q1 - v * v) + (n - 1.0) * (q2 - v * v)) / (p * n)).max(0.0).sqrt())
        }
        "pr_auc" | "recall" => proportion(c.positives),
        "precision" => proportion(c.flagged),
        "f1" => proportion((c.flagged + c.positives) / 2.0),
        _ => None,
    }
}

/// How many standard errors of the difference `value` lies below `baseline`.
fn z_below(metric: &str, value: f64, now: Counts, baseline: f64, then: Counts) -> Option<f64> {
    let se = (standard_error(metric, value, now)?.powi(2) + standard_error(metric, baseline, then)?.powi(2)).sqrt();
    Some(if se > 0.0 {
        (baseline - value) / se
    } else if baseline > value {
        f64::INFINITY
    } else {
        0.0
    })
}

/// Compares the compared metrics with the test baseline (`metrics->'test'` of the model, whose
/// calibration error is stored as `ece`).
pub fn compare_with_baseline(current: &GroupMetrics, baseline: &Value) -> Vec<MetricCheck> {
    let (now, then) = (Counts::of(current), Counts::of_json(baseline));
    let mut out: Vec<MetricCheck> = COMPARED_METRICS
        .iter()
        .map(|&m| {
            let (value, base) = (current.get(m), baseline.get(m).and_then(Value::as_f64));
            let relative_change = match (value, base) {
                (Some(v), Some(b)) if b > 0.0 => Some((v - b) / b),
                _ => None,
            };
            let z = match (value, base, then) {
                (Some(v), Some(b), Some(then)) => z_below(m, v, now, b, then),
                _ => None,
            };
            let degraded = relative_change.is_some_and(|r| r <= -DEGRADATION) && z.is_some_and(|z| z >= SIGNIFICANCE_Z);
            MetricCheck { metric: m.to_string(), value, baseline: base, relative_change, z, degraded }
        })
        .collect();
    let (value, base) = (current.calibration_error, baseline.get("ece").and_then(Value::as_f64));
    let relative_change = match (value, base) {
        (Some(v), Some(b)) if b > 0.0 => Some((v - b) / b),
        _ => None,
    };
    out.push(MetricCheck {
        metric: "calibration_error".into(),
        value,
        baseline: base,
        relative_change,
        z: None,
        degraded: false,
    });
    out
}

/// Conversion per tier, in the model's tier order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierRate {
    pub tier: String,
    pub leads: u64,
    pub conversions: u64,
    pub conversion_rate: Option<f64>,
}

pub fn tier_rates(scores: &[f64], labels: &[bool], tiers: &Tiers) -> Vec<TierRate> {
    tier_rates_of(scores.iter().map(|&s| tiers.assign(s)), labels, tiers)
}

/// Conversion per tier when each lead's tier is already known (`assigned`, one name per label):
/// with per-segment tiers a lead's tier depends on its segment, not only on its score. Tiers in
/// `order`'s order, then any other name in the order first seen.
pub fn tier_rates_of<S: AsRef<str>>(assigned: impl IntoIterator<Item = S>, labels: &[bool], order: &Tiers) -> Vec<TierRate> {
    let mut out: Vec<TierRate> =
        order.0.iter().map(|t| TierRate { tier: t.name.clone(), leads: 0, conversions: 0, conversion_rate: None }).collect();
    for (name, &y) in assigned.into_iter().zip(labels) {
        let name = name.as_ref();
        let at = match out.iter().position(|t| t.tier == name) {
            Some(i) => i,
            None => {
                out.push(TierRate { tier: name.to_string(), leads: 0, conversions: 0, conversion_rate: None });
                out.len() - 1
            }
        };
        out[at].leads += 1;
        out[at].conversions += u64::from(y);
    }
    for t in &mut out {
        t.conversion_rate = ratio(t.conversions, t.leads);
    }
    out
}

/// alert when a compared metric degraded or drift says alert; warn when drift says warn.
pub fn overall_status(checks: &[MetricCheck], drift: &[DriftRow]) -> Status {
    let worst_drift = drift.iter().map(|d| d.status).max().unwrap_or(Status::Ok);
    if checks.iter().any(|c| c.degraded) {
        Status::Alert
    } else {
        worst_drift
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// A plain-language recommendation: retrain when performance fell, investigate the most
/// drifted feature when inputs moved, otherwise ok.
pub fn recommendation(checks: &[MetricCheck], drift: &[DriftRow]) -> String {
    let degraded: Vec<String> = checks
        .iter()
        .filter(|c| c.degraded)
        .map(|c| {
            format!(
                "{} {:.3} vs {:.3} at test ({} lower)",
                c.metric,
                c.value.unwrap_or(f64::NAN),
                c.baseline.unwrap_or(f64::NAN),
                pct(-c.relative_change.unwrap_or(0.0))
            )
        })
        .collect();
    let mut features: Vec<&DriftRow> = drift.iter().filter(|d| d.feature != SCORE_ROW && d.status > Status::Ok).collect();
    features.sort_by(|a, b| b.psi.total_cmp(&a.psi));
    let named = |rows: &[&DriftRow]| {
        rows.iter()
            .take(3)
            .map(|d| format!("{} (PSI {:.2}, {})", d.feature, d.psi, d.status.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let score_moved = drift.iter().find(|d| d.feature == SCORE_ROW && d.status > Status::Ok);
    if !degraded.is_empty() {
        let mut text = format!("retrain: performance fell 5% or more below the test baseline: {}", degraded.join("; "));
        if !features.is_empty() {
            text.push_str(&format!(". Inputs shifted in {}; retrain on recent leads", named(&features)));
        }
        return text;
    }
    if let Some(top) = features.first() {
        let verb = if top.status == Status::Alert { "investigate" } else { "watch" };
        return format!(
            "{verb} feature {}: its distribution shifted since training ({}); performance is within 5% of the test baseline, retrain if the shift persists",
            top.feature,
            named(&features)
        );
    }
    if let Some(s) = score_moved {
        return format!(
            "watch the score distribution (PSI {:.2}, {}): no single input moved much; performance is within 5% of the test baseline",
            s.psi,
            s.status.as_str()
        );
    }
    "ok: performance is within 5% of the test baseline and no input has drifted".to_string()
}

/// The `metrics` document of a monitoring row.
pub fn metrics_json(current: &GroupMetrics, checks: &[MetricCheck], tiers: &[TierRate]) -> Value {
    let mut out = serde_json::to_value(current).expect("metrics serialize");
    out["vs_baseline"] = serde_json::to_value(checks).expect("checks serialize");
    out["tiers"] = serde_json::to_value(tiers).expect("tiers serialize");
    out
}

/// The `baseline` document: the compared test metrics as stored with the model.
pub fn baseline_json(test: &Value) -> Value {
    let pick = |k: &str| test.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "rows": pick("rows"), "positives": pick("positives"), "roc_auc": pick("roc_auc"), "pr_auc": pick("pr_auc"),
        "precision": pick("precision"), "recall": pick("recall"), "f1": pick("f1"),
        "calibration_error": pick("ece"), "threshold": pick("threshold"),
    })
}

#[cfg(test)]
#[path = "performance_tests.rs"]
mod tests;
