//! Tests of the report page.

use super::*;
use crate::evaluation::Tier;
use crate::report::drift_section::drift_rows_from_json;
use serde_json::json;

fn data() -> (Vec<f64>, Vec<bool>) {
    // 200 leads whose conversion rises with the score: a model with real signal.
    let scores: Vec<f64> = (0..200).map(|i| (i as f64 + 0.5) / 200.0).collect();
    let labels = (0..200).map(|i| (i * 7919) % 200 < i).collect();
    (scores, labels)
}

fn input() -> ReportInput {
    let (scores, labels) = data();
    ReportInput {
        name: "demo".into(),
        version: 2,
        status: "pending approval".into(),
        algorithm: "logistic".into(),
        created_at: "2026-07-01".into(),
        threshold: 0.6,
        tiers: Tiers(vec![
            Tier { name: "hot".into(), min_score: 0.6 },
            Tier { name: "warm".into(), min_score: 0.3 },
            Tier { name: "cold".into(), min_score: 0.0 },
        ]),
        segment_tiers: Vec::new(),
        metrics: json!({"test": {"roc_auc": 0.8123, "pr_auc": 0.7, "precision": 0.6, "recall": 0.5, "rows": 100}}),
        card_markdown: "# Model card: demo (version 2, deployed)\n\n## Known limitations\n\n- few rows\n".into(),
        scores,
        labels,
        importance: vec![
            Importance {
                feature: "visits".into(),
                importance: 0.2,
                direction: String::new(),
                coefficient: None,
                odds_ratio: None,
                level_coefficients: None,
            },
            Importance {
                feature: "Lead <Source> & \"x\"".into(),
                importance: 0.9,
                direction: String::new(),
                coefficient: None,
                odds_ratio: None,
                level_coefficients: None,
            },
        ],
        monitoring: None,
        funnel: None,
    }
}

#[test]
fn page_has_every_chart_table_and_the_card() {
    let html = render_report(&input());
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(
        html.contains("gbm model, pending approval, trained") || html.contains(" model, pending approval, trained"),
        "the version's state"
    );
    assert_eq!(html.matches("<svg").count(), 5, "ROC, PR, calibration, lift, importance");
    for text in [
        "ROC curve (validation, AUC ",
        "Precision-recall (validation, AP ",
        "Calibration (validation, ECE ",
        ">Lift by decile (validation)</text>",
        ">Feature importance (top 2 of 2)</text>",
        "<h2>Tiers</h2>",
        "No monitoring run yet",
        "<h2>Model card: demo (version 2, deployed)</h2>",
        "<li>few rows</li>",
        "<b>0.812</b><span>test ROC AUC</span>",
    ] {
        assert!(html.contains(text), "missing {text}");
    }
    // Self-contained: no scripts, links or external references.
    for banned in ["<script", "<link", "src=", "href=", "http://", "https://", "url("] {
        let allowed =
            banned == "http://" && html.matches(banned).count() == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert!(!html.contains(banned) || allowed, "page contains {banned}");
    }
    // The feature name is escaped in the chart, most important first.
    assert!(html.contains(">Lead &lt;Source&gt; &amp; &quot;x&quot;</text>"));
    assert!(html.find("Lead &lt;Source&gt;").unwrap() < html.find(">visits</text>").unwrap());
    assert!(!html.contains("<Source>"));
}

#[test]
fn curves_are_the_core_curves() {
    let (s, y) = data();
    let roc = roc_chart(&s, &y);
    assert!(roc.contains(&format!("AUC {}", format_number(roc_auc(&s, &y).unwrap(), 3))));
    // The first and last ROC points are (0, 0) and (1, 1): bottom left and top right of the plot.
    assert!(roc.contains("points=\"64.0,304.0 "), "{roc}");
    assert!(roc.contains(" 536.0,40.0\""));
    let lift = lift_chart(&s, &y);
    assert_eq!(lift.matches("<rect class=\"bar\"").count(), 10);
    let first = &lift_table(&s, &y, 10)[0];
    assert!(lift.contains(&format!(">{:.1}x</text>", first.lift)));
    let cal = calibration_chart(&s, &y);
    assert_eq!(cal.matches("<circle").count(), 10);
    let pr = pr_chart(&s, &y);
    assert!(pr.contains(">base rate ") && pr.contains("Precision (share of flagged leads converting)"));
    // Degenerate data: charts still render, saying there is nothing to draw.
    assert!(roc_chart(&[0.5], &[true]).contains("no data"));
    assert!(lift_chart(&[], &[]).contains("no data"));
}

#[test]
fn tier_table_counts_validation_leads_per_tier() {
    let r = input();
    let html = tier_table(&r.tiers, r.threshold, &r.scores, &r.labels);
    // Scores (i + 0.5) / 200: hot >= 0.6 is i >= 120 (80 leads), warm 0.3..0.6 is 60 leads, cold 60.
    assert!(html.contains("<td><strong>hot</strong></td><td class=\"num\">0.6</td><td class=\"num\"></td><td class=\"num\">80</td><td class=\"num\">40.0%</td>"), "{html}");
    assert!(html
        .contains("<td><strong>warm</strong></td><td class=\"num\">0.3</td><td class=\"num\">0.6</td><td class=\"num\">60</td>"));
    assert!(html
        .contains("<td><strong>cold</strong></td><td class=\"num\">0</td><td class=\"num\">0.3</td><td class=\"num\">60</td>"));
    let hot_converted = r.scores.iter().zip(&r.labels).filter(|(s, y)| **s >= 0.6 && **y).count();
    assert!(html.contains(&format!("<td class=\"num\">{hot_converted}</td>")));
}

#[test]
fn segments_with_their_own_tiers_get_a_row_each() {
    let mut r = input();
    assert!(!render_report(&r).contains("Tiers per segment"), "no segment table without segment tiers");
    r.segment_tiers = vec![SegmentTiers {
        segment: "Web <form>".into(),
        threshold: Some(0.41234),
        tiers: Tiers(vec![Tier { name: "hot".into(), min_score: 0.5 }, Tier { name: "cold".into(), min_score: 0.0 }]),
    }];
    let html = render_report(&r);
    let table = &html[html.find("<h3>Tiers per segment</h3>").expect("the segment table")..];
    assert!(html.find("<h2>Tiers</h2>").unwrap() < html.find("<h3>Tiers per segment</h3>").unwrap());
    assert!(
        table.contains("<td><strong>Web &lt;form&gt;</strong></td><td class=\"num\">0.4123</td><td>hot 0.5, cold 0</td>"),
        "{table}"
    );
}

#[test]
fn the_funnel_is_shown_only_when_given_before_the_card() {
    let mut r = input();
    assert!(!render_report(&r).contains("<h2>Funnel</h2>"));
    r.funnel = Some(FunnelSection {
        source: "crm_leads".into(),
        period: "quarter".into(),
        tiers_from: "the model's tiers".into(),
        rows: vec![crate::evaluation::FunnelRow { tier: Some("hot".into()), leads: 10, conversions: 4, ..Default::default() }],
    });
    let html = render_report(&r);
    let (funnel, card) = (html.find("<h2>Funnel</h2>").unwrap(), html.find("<section class=\"card\">").unwrap());
    assert!(html.find("<h2>Tiers</h2>").unwrap() < funnel && funnel < card);
    assert!(
        html.contains("<td>all</td><td><strong>hot</strong></td><td class=\"num\">10</td><td class=\"num\">4</td>"),
        "{html}"
    );
}

#[test]
fn latest_monitoring_run_is_shown() {
    let mut r = input();
    r.monitoring = Some(MonitoringSnapshot {
        version: Some(2),
        source: "crm.new".into(),
        checked_at: "2026-07-02".into(),
        rows: Some(10),
        positives: Some(1),
        status: "warn".into(),
        recommendation: "Investigate pricing_visits.".into(),
        metrics: json!({}),
        baseline: json!({}),
        drift: drift_rows_from_json(&json!([{"feature": "pricing_visits", "psi": 0.15, "status": "warn", "detail": ""}])),
    });
    let html = render_report(&r);
    assert_eq!(html.matches("<svg").count(), 6);
    assert!(html.contains("Investigate pricing_visits.") && !html.contains("No monitoring run yet"));
}
