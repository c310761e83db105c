//! The model report: one self-contained HTML page (inline CSS and SVG, no scripts, no external
//! assets) with the headline numbers, ROC and precision-recall curves, calibration plot, lift
//! by decile, feature importance, tier table, latest monitoring/drift, the funnel when asked
//! for, and the model card.
//! Curves come from the validation predictions stored with the model, through the same
//! functions as the SQL curve reports (`curves.rs`, `metrics.rs`, `calibration.rs`).

use std::fmt::Write;

use serde_json::Value;

use crate::evaluation::Tiers;
use crate::evaluation::{average_precision, roc_auc};
use crate::evaluation::{calibration_curve, downsample_curve, lift_table, pr_curve, roc_curve};
use crate::explain::Importance;
use crate::models::expected_calibration_error;
use crate::report::drift_section::{drift_section, MonitoringSnapshot};
use crate::report::funnel_section::{funnel_section, FunnelSection};
use crate::report::markdown::markdown_to_html;
use crate::report::svg_bar_chart::bar_chart;
use crate::report::svg_chart::{escape, format_number, line_chart, Axis, Bar, BarChart, LineChart, Series, BLUE, GREY, ORANGE};

/// Points per curve in the charts (a curve has one point per distinct score).
const MAX_CURVE_POINTS: usize = 300;
/// Features shown in the importance chart (the most important first).
const MAX_IMPORTANCE_BARS: usize = 15;

/// Everything the report is drawn from.
pub struct ReportInput {
    pub name: String,
    pub version: i32,
    /// The version's state (`version_status`): deployed, pending approval, ...
    pub status: String,
    pub algorithm: String,
    pub created_at: String,
    pub threshold: f64,
    pub tiers: Tiers,
    /// The segments whose leads are tiered by tiers of their own (`options.segment_tiers`).
    pub segment_tiers: Vec<SegmentTiers>,
    /// `models.metrics` (per part).
    pub metrics: Value,
    /// The model card in markdown (`model_card()`'s text).
    pub card_markdown: String,
    /// The validation part's probabilities and labels (`models.validation_predictions`).
    pub scores: Vec<f64>,
    pub labels: Vec<bool>,
    pub importance: Vec<Importance>,
    pub monitoring: Option<MonitoringSnapshot>,
    /// `funnel()` over a CRM source, when the caller asked for it.
    pub funnel: Option<FunnelSection>,
}

/// One segment's own threshold and tiers, as `tier()` applies them to the segment's leads.
pub struct SegmentTiers {
    pub segment: String,
    /// The threshold chosen on the segment's validation leads at training.
    pub threshold: Option<f64>,
    pub tiers: Tiers,
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;color:#222;margin:24px auto;max-width:1160px;padding:0 16px;background:#fff}\
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}\
.summary{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}\
.kpi b{display:block;font-size:20px}.kpi span{font-size:12px;color:#555}.charts{display:grid;grid-template-columns:repeat(2,560px);gap:16px}\
.chart{border:1px solid #e5e5e5;border-radius:4px}table{border-collapse:collapse;margin:8px 0;font-size:13px}\
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}td.num{text-align:right}\
code,pre{font-family:'DejaVu Sans Mono',monospace;background:#f4f4f4;border-radius:3px;padding:1px 4px}pre{padding:8px}\
.status{font-weight:bold;padding:1px 6px;border-radius:3px;color:#fff;background:#7f7f7f}.status.ok{background:#2ca02c}\
.status.warn{background:#e6a700}.status.alert{background:#d62728}.note{color:#555;font-size:13px}.card{font-size:14px}";

/// Renders the page.
pub fn render_report(r: &ReportInput) -> String {
    let mut out = String::new();
    let title = format!("Lead scoring report: {} (version {})", r.name, r.version);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
        t = escape(&title)
    );
    let positives = r.labels.iter().filter(|&&y| y).count();
    let _ = writeln!(
        out,
        "<p class=\"note\">{} model, {}, trained {}. Charts use the validation part stored with the model ({} leads, {} converted); the headline metrics are on the test part.</p>",
        escape(&r.algorithm),
        escape(&r.status),
        escape(&r.created_at),
        r.scores.len(),
        positives
    );
    if r.metrics["test"].get("rmse").is_some() {
        regression_body(&mut out, r);
    } else {
        classification_body(&mut out, r);
    }
    out.push_str(&drift_section(&r.name, r.monitoring.as_ref()));
    if let Some(f) = &r.funnel {
        out.push_str(&funnel_section(f));
    }
    out.push_str("<section class=\"card\">\n");
    out.push_str(&markdown_to_html(&r.card_markdown, 1));
    out.push_str("</section>\n</body></html>\n");
    out
}

/// A regression model (`options.task = 'regression'`): its test RMSE, MAE and R², importance and
/// value tiers; the probability charts do not apply to a predicted value.
fn regression_body(out: &mut String, r: &ReportInput) {
    let test = &r.metrics["test"];
    let metric = |key: &str, digits: usize| test[key].as_f64().map_or("n/a".into(), |v| format_number(v, digits));
    let kpis = [
        (metric("rmse", 2), "test RMSE"),
        (metric("mae", 2), "test MAE"),
        (metric("r2", 3), "test R²"),
        (metric("mean_label", 2), "test mean label"),
        (metric("rows", 0), "test leads"),
    ];
    out.push_str("<p class=\"note\">A regression model (options.task 'regression'): score() returns the predicted value in the label's unit.</p>\n<div class=\"summary\">");
    for (value, label) in kpis {
        let _ = write!(out, "<div class=\"kpi\"><b>{}</b><span>{label}</span></div>", escape(&value));
    }
    out.push_str("</div>\n<h2>Feature importance</h2>\n");
    out.push_str(&importance_chart(&r.importance));
    out.push_str("\n<h2>Value tiers</h2>\n<table><tr><th>tier</th><th>from predicted value</th></tr>\n");
    for t in &r.tiers.0 {
        let _ = writeln!(out, "<tr><td>{}</td><td>{}</td></tr>", escape(&t.name), escape(&format_number(t.min_score, 2)));
    }
    out.push_str("</table>\n");
}

fn classification_body(out: &mut String, r: &ReportInput) {
    summary(out, r);
    out.push_str("<h2>Performance</h2>\n<div class=\"charts\">\n");
    for chart in [
        roc_chart(&r.scores, &r.labels),
        pr_chart(&r.scores, &r.labels),
        calibration_chart(&r.scores, &r.labels),
        lift_chart(&r.scores, &r.labels),
    ] {
        out.push_str(&chart);
        out.push('\n');
    }
    out.push_str("</div>\n<h2>Feature importance</h2>\n");
    out.push_str(&importance_chart(&r.importance));
    out.push('\n');
    out.push_str(&tier_table(&r.tiers, r.threshold, &r.scores, &r.labels));
    out.push_str(&segment_tier_table(&r.segment_tiers));
}

/// Headline numbers of the test part.
fn summary(out: &mut String, r: &ReportInput) {
    let test = &r.metrics["test"];
    let metric = |key: &str| test[key].as_f64().map_or("n/a".into(), |v| format_number(v, 3));
    let kpis = [
        (metric("roc_auc"), "test ROC AUC"),
        (metric("pr_auc"), "test PR AUC"),
        (metric("precision"), "test precision"),
        (metric("recall"), "test recall"),
        (format_number(r.threshold, 3), "threshold"),
        (test["rows"].as_f64().map_or("n/a".into(), |v| format_number(v, 0)), "test leads"),
    ];
    out.push_str("<div class=\"summary\">");
    for (value, label) in kpis {
        let _ = write!(out, "<div class=\"kpi\"><b>{}</b><span>{label}</span></div>", escape(&value));
    }
    out.push_str("</div>\n");
}

fn unit_axis(title: &str) -> Axis {
    Axis { title: title.into(), min: 0.0, max: 1.0 }
}

fn model_series(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series { name: name.into(), color: BLUE, points, dashed: false, markers: false }
}

fn reference_series(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series { name: name.into(), color: GREY, points, dashed: true, markers: false }
}

/// ROC curve with the chance diagonal; the AUC in the title.
pub fn roc_chart(scores: &[f64], labels: &[bool]) -> String {
    let points = downsample_curve(&roc_curve(scores, labels), MAX_CURVE_POINTS).iter().map(|p| (p.fpr, p.tpr)).collect();
    let auc = roc_auc(scores, labels).map_or("n/a".into(), |a| format_number(a, 3));
    line_chart(&LineChart {
        title: format!("ROC curve (validation, AUC {auc})"),
        x: unit_axis("False positive rate"),
        y: unit_axis("True positive rate (recall)"),
        series: vec![model_series("model", points), reference_series("chance", vec![(0.0, 0.0), (1.0, 1.0)])],
        legend_at_top: false,
    })
}

/// Precision against recall, with the base rate (a random ranking's precision).
pub fn pr_chart(scores: &[f64], labels: &[bool]) -> String {
    let points = downsample_curve(&pr_curve(scores, labels), MAX_CURVE_POINTS).iter().map(|p| (p.recall, p.precision)).collect();
    let ap = average_precision(scores, labels).map_or("n/a".into(), |a| format_number(a, 3));
    let base = if scores.is_empty() { 0.0 } else { labels.iter().filter(|&&y| y).count() as f64 / labels.len() as f64 };
    line_chart(&LineChart {
        title: format!("Precision-recall (validation, AP {ap})"),
        x: unit_axis("Recall (share of conversions found)"),
        y: unit_axis("Precision (share of flagged leads converting)"),
        series: vec![
            model_series("model", points),
            reference_series(&format!("base rate {}", format_number(base, 3)), vec![(0.0, base), (1.0, base)]),
        ],
        legend_at_top: true,
    })
}

/// Observed conversion rate against mean predicted score in 10 bins, with the diagonal.
pub fn calibration_chart(scores: &[f64], labels: &[bool]) -> String {
    let bins = calibration_curve(scores, labels, 10);
    let points = bins.iter().map(|b| (b.mean_predicted, b.observed_rate)).collect();
    let ece = format_number(expected_calibration_error(scores, labels, 10), 3);
    line_chart(&LineChart {
        title: format!("Calibration (validation, ECE {ece})"),
        x: unit_axis("Mean predicted probability"),
        y: unit_axis("Observed conversion rate"),
        series: vec![
            Series { markers: true, ..model_series("model", points) },
            reference_series("perfectly calibrated", vec![(0.0, 0.0), (1.0, 1.0)]),
        ],
        legend_at_top: false,
    })
}

/// Lift per decile of score (decile 1 = highest scores); 1 = no better than random.
pub fn lift_chart(scores: &[f64], labels: &[bool]) -> String {
    let bars = lift_table(scores, labels, 10)
        .iter()
        .map(|row| Bar { label: row.decile.to_string(), value: row.lift, color: ORANGE, note: Some(format!("{:.1}x", row.lift)) })
        .collect();
    bar_chart(&BarChart {
        title: "Lift by decile (validation)".into(),
        category_title: "Score decile (1 = highest scores)".into(),
        value_title: "Lift (conversion rate / average)".into(),
        bars,
        horizontal: false,
        reference_lines: vec![(1.0, "no model".into())],
    })
}

/// The most important features, as stored at training (mean |SHAP| on the validation part).
pub fn importance_chart(importance: &[Importance]) -> String {
    let mut items: Vec<&Importance> = importance.iter().collect();
    items.sort_by(|a, b| b.importance.total_cmp(&a.importance));
    let bars = items
        .iter()
        .take(MAX_IMPORTANCE_BARS)
        .map(|i| Bar { label: i.feature.clone(), value: i.importance, color: BLUE, note: Some(format_number(i.importance, 3)) })
        .collect();
    let shown = importance.len().min(MAX_IMPORTANCE_BARS);
    bar_chart(&BarChart {
        title: format!("Feature importance (top {shown} of {})", importance.len()),
        category_title: "Feature".into(),
        value_title: "Mean |SHAP| on validation leads (log-odds)".into(),
        bars,
        horizontal: true,
        reference_lines: vec![],
    })
}

/// One row per tier, highest first: its score band and how the validation leads fall into it.
pub fn tier_table(tiers: &Tiers, threshold: f64, scores: &[f64], labels: &[bool]) -> String {
    let mut out = String::from("<h2>Tiers</h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"note\">Decision threshold {}: a lead at or above it is predicted to convert. Counts are the validation leads.</p>",
        format_number(threshold, 4)
    );
    out.push_str("<table class=\"tiers\"><thead><tr><th>tier</th><th>scores from</th><th>below</th><th>leads</th><th>share of leads</th><th>converted</th><th>conversion rate</th></tr></thead><tbody>\n");
    let n = scores.len();
    for (i, t) in tiers.0.iter().enumerate() {
        let members: Vec<bool> =
            scores.iter().zip(labels).filter(|(s, _)| tiers.assign(**s) == t.name).map(|(_, &y)| y).collect();
        let converted = members.iter().filter(|&&y| y).count();
        let upper = if i == 0 { "".to_string() } else { format_number(tiers.0[i - 1].min_score, 4) };
        let share = if n == 0 { "n/a".into() } else { format!("{:.1}%", 100.0 * members.len() as f64 / n as f64) };
        let rate =
            if members.is_empty() { "n/a".into() } else { format!("{:.1}%", 100.0 * converted as f64 / members.len() as f64) };
        let _ = writeln!(
            out,
            "<tr><td><strong>{}</strong></td><td class=\"num\">{}</td><td class=\"num\">{upper}</td><td class=\"num\">{}</td><td class=\"num\">{share}</td><td class=\"num\">{converted}</td><td class=\"num\">{rate}</td></tr>",
            escape(&t.name),
            format_number(t.min_score, 4),
            members.len()
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

/// The segments with tiers of their own, one row each: the tier table above is the version's
/// tiers, which tier() applies only to the leads of the other segments.
pub fn segment_tier_table(segments: &[SegmentTiers]) -> String {
    if segments.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h3>Tiers per segment</h3>\n");
    out.push_str("<p class=\"note\">Leads of these segments are tiered by their segment model's own threshold and tiers (options.segment_tiers, set_tiers(..., segment)); the table above holds for the other leads.</p>\n");
    out.push_str(
        "<table class=\"tiers\"><thead><tr><th>segment</th><th>threshold</th><th>tiers, scores from</th></tr></thead><tbody>\n",
    );
    for s in segments {
        let threshold = s.threshold.map_or_else(|| "n/a".to_string(), |t| format_number(t, 4));
        let bands: Vec<String> =
            s.tiers.0.iter().map(|t| format!("{} {}", escape(&t.name), format_number(t.min_score, 4))).collect();
        let _ = writeln!(
            out,
            "<tr><td><strong>{}</strong></td><td class=\"num\">{threshold}</td><td>{}</td></tr>",
            escape(&s.segment),
            bands.join(", ")
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
