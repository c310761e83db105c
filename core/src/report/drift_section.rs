//! The "Latest monitoring and drift" section of the model report, from the latest row of
//! `lead_scoring.monitoring` (written by `monitor()`), or a pointer to `monitor()` when there
//! is none yet.

use std::fmt::Write;

use serde_json::Value;

use crate::report::svg_bar_chart::bar_chart;
use crate::report::svg_chart::{escape, format_number, Bar, BarChart, AMBER, GREEN, GREY, RED};

/// PSI at which a feature's status becomes `warn` / `alert` by default (drift()'s rule), drawn
/// as reference lines on the PSI chart.
pub const PSI_WARN: f64 = 0.1;
pub const PSI_ALERT: f64 = 0.25;

/// One feature (or the score) in a drift check.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftRow {
    pub feature: String,
    pub psi: Option<f64>,
    pub status: String,
    pub detail: String,
}

/// The latest monitoring run of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringSnapshot {
    pub version: Option<i32>,
    pub source: String,
    pub checked_at: String,
    pub rows: Option<i64>,
    pub positives: Option<i64>,
    pub status: String,
    pub recommendation: String,
    /// Metrics measured in the run, and the model's baseline (test) values.
    pub metrics: Value,
    pub baseline: Value,
    pub drift: Vec<DriftRow>,
}

/// Drift rows from the stored jsonb array of `{"feature", "psi", "status", "detail"}`; other
/// shapes give no rows (the section then says so) rather than an error.
pub fn drift_rows_from_json(v: &Value) -> Vec<DriftRow> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|r| DriftRow {
            feature: text(&r["feature"]),
            psi: r["psi"].as_f64(),
            status: text(&r["status"]),
            detail: text(&r["detail"]),
        })
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn status_color(status: &str) -> &'static str {
    match status {
        "alert" => RED,
        "warn" => AMBER,
        "ok" => GREEN,
        _ => GREY,
    }
}

/// A SQL string literal (for the copy-paste hint): quotes doubled.
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The section's HTML. `model` is the model's name, for the hint to run `monitor()`.
pub fn drift_section(model: &str, latest: Option<&MonitoringSnapshot>) -> String {
    let mut out = String::from("<section id=\"drift\"><h2>Latest monitoring and drift</h2>\n");
    let Some(m) = latest else {
        let _ = write!(
            out,
            "<p class=\"empty\">No monitoring run yet for this model. Run one on newly labelled leads with:</p>\n\
             <pre>{}</pre>\n\
             <p>or schedule it with <code>lead_scoring.schedule_monitoring()</code>; this section then shows the latest run.</p>\n</section>\n",
            escape(&format!("SELECT * FROM lead_scoring.monitor({}, '<source>');", sql_literal(model)))
        );
        return out;
    };
    let version = m.version.map(|v| format!(" (version {v})")).unwrap_or_default();
    let count = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_else(|| "n/a".into());
    let _ = write!(
        out,
        "<p>Checked {} on <code>{}</code>{}: {} leads, {} converted. Status <span class=\"status {}\">{}</span>.</p>\n<p class=\"recommendation\">{}</p>\n",
        escape(&m.checked_at),
        escape(&m.source),
        escape(&version),
        count(m.rows),
        count(m.positives),
        escape(&m.status),
        escape(&m.status),
        escape(&m.recommendation)
    );
    metrics_table(&mut out, &m.metrics, &m.baseline);
    if m.drift.is_empty() {
        out.push_str("<p class=\"empty\">This run stored no drift results.</p>\n");
    } else {
        let bars = m
            .drift
            .iter()
            .map(|d| Bar {
                label: d.feature.clone(),
                value: d.psi.unwrap_or(0.0),
                color: status_color(&d.status),
                note: Some(format!("{} {}", d.psi.map_or("n/a".into(), |p| format_number(p, 3)), d.status)),
            })
            .collect();
        out.push_str(&bar_chart(&BarChart {
            title: "Drift: population stability index".into(),
            category_title: "Feature".into(),
            value_title: "PSI (training reference vs this source)".into(),
            bars,
            horizontal: true,
            reference_lines: vec![(PSI_WARN, "warn".into()), (PSI_ALERT, "alert".into())],
        }));
        out.push_str("\n<table class=\"drift\"><thead><tr><th>feature</th><th>PSI</th><th>status</th><th>detail</th></tr></thead><tbody>\n");
        for d in &m.drift {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td><span class=\"status {}\">{}</span></td><td>{}</td></tr>",
                escape(&d.feature),
                d.psi.map_or("n/a".into(), |p| format_number(p, 4)),
                escape(&d.status),
                escape(&d.status),
                escape(&d.detail)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
    out
}

/// Numeric metrics of the run next to the baseline's value of the same key, when both are
/// objects; nothing when the run stored none.
fn metrics_table(out: &mut String, metrics: &Value, baseline: &Value) {
    let Some(map) = metrics.as_object() else { return };
    let rows: Vec<(&String, f64)> = map.iter().filter_map(|(k, v)| v.as_f64().map(|x| (k, x))).collect();
    if rows.is_empty() {
        return;
    }
    out.push_str("<table class=\"metrics\"><thead><tr><th>metric</th><th>this run</th><th>baseline</th></tr></thead><tbody>\n");
    for (k, v) in rows {
        let base = baseline.get(k.as_str()).and_then(Value::as_f64).map_or(String::new(), |b| format_number(b, 4));
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{base}</td></tr>",
            escape(k),
            format_number(v, 4)
        );
    }
    out.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot() -> MonitoringSnapshot {
        MonitoringSnapshot {
            version: Some(3),
            source: "crm.leads_2026q2".into(),
            checked_at: "2026-07-01 08:00:00+00".into(),
            rows: Some(1200),
            positives: Some(80),
            status: "alert".into(),
            recommendation: "Retrain: pricing_visits drifted.".into(),
            metrics: json!({"roc_auc": 0.71, "precision": 0.5, "note": "text is skipped"}),
            baseline: json!({"roc_auc": 0.8}),
            drift: drift_rows_from_json(&json!([
                {"feature": "pricing_visits", "psi": 0.31, "status": "alert", "detail": "mean 2.1 -> 3.2"},
                {"feature": "<b>\"x\" & 'y'</b>", "psi": 0.12, "status": "warn", "detail": "new level: <i>"},
                {"feature": "score", "psi": null, "status": "ok", "detail": null}
            ])),
        }
    }

    #[test]
    fn parses_rows_leniently() {
        let rows = drift_rows_from_json(&json!([{"feature": "a", "psi": 0.2, "status": "warn", "detail": 5}, {}]));
        assert_eq!(rows[0], DriftRow { feature: "a".into(), psi: Some(0.2), status: "warn".into(), detail: "5".into() });
        assert_eq!(rows[1], DriftRow { feature: "".into(), psi: None, status: "".into(), detail: "".into() });
        assert!(drift_rows_from_json(&json!({"not": "an array"})).is_empty());
    }

    #[test]
    fn section_with_a_run_has_chart_table_and_escaped_names() {
        let html = drift_section("demo", Some(&snapshot()));
        assert_eq!(html.matches("<svg").count(), 1);
        assert!(html.contains(">Drift: population stability index</text>"));
        assert!(html.contains(">0.31 alert</text>") && html.contains(format!("fill=\"{RED}\"").as_str()));
        assert!(html.contains(format!("fill=\"{AMBER}\"").as_str()));
        assert!(html.contains(">warn</text>") && html.contains(">alert</text>"), "reference lines at 0.1 and 0.25");
        assert!(
            html.contains("<td>&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;</td><td class=\"num\">0.12</td>"),
            "{html}"
        );
        assert!(!html.contains("<b>") && !html.contains("<i>"));
        assert!(html.contains("<tr><td>roc_auc</td><td class=\"num\">0.71</td><td class=\"num\">0.8</td></tr>"));
        assert!(html.contains("<tr><td>precision</td><td class=\"num\">0.5</td><td class=\"num\"></td></tr>"));
        assert!(!html.contains("text is skipped"));
        assert!(html.contains("Retrain: pricing_visits drifted.") && html.contains("(version 3): 1200 leads, 80 converted"));
        assert!(html.contains("<td class=\"num\">n/a</td>"));
    }

    #[test]
    fn section_without_a_run_says_how_to_run_one() {
        let html = drift_section("o'brien <m>", None);
        assert!(html.contains("No monitoring run yet"));
        assert!(
            html.contains("SELECT * FROM lead_scoring.monitor(&#39;o&#39;&#39;brien &lt;m&gt;&#39;, &#39;&lt;source&gt;&#39;);"),
            "{html}"
        );
        assert!(!html.contains("<svg"));
        let empty = drift_section("m", Some(&MonitoringSnapshot { drift: vec![], metrics: json!(null), ..snapshot() }));
        assert!(empty.contains("stored no drift results") && !empty.contains("<table"));
    }
}
