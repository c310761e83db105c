//! Tests of the model card.

use super::*;
use serde_json::json;

/// A card input for tests (also used by markdown.rs's rendering test).
pub(crate) fn input() -> CardInput {
    CardInput {
        name: "inbound".into(),
        version: 2,
        deployed: true,
        retired: false,
        algorithm: "logistic".into(),
        label: "converted".into(),
        positive_label: None,
        converted_values: Vec::new(),
        source: "crm.leads".into(),
        created_at: "2026-01-01".into(),
        created_by: "analyst".into(),
        time_window: None,
        features: json!([{"name": "visits", "kind": "numeric", "median": 3, "mean": 3.2, "scale": 2.1, "missing_indicator": true},
                         {"name": "source", "kind": "text", "levels": ["a", "b"]}]),
        split: json!({"method": "stratified"}),
        training: json!({"rows": 1000, "parts": {"test": {"rows": 100, "positives": 25}}, "converged": true}),
        metrics: json!({"train": {"roc_auc": 0.95, "positives": 50}, "test": {"rows": 100, "roc_auc": 0.80}}),
        threshold: 0.4,
        tiers: json!([{"name": "hot", "min_score": 0.4}, {"name": "cold", "min_score": 0}]),
        events: vec![CardEvent {
            at: "t".into(),
            event: "deployed".into(),
            version: Some(2),
            actor: "a|b".into(),
            reason: Some("why".into()),
            detail: json!({}),
        }],
        approval: None,
        edited: EditedCard::default(),
    }
}

#[test]
fn card_has_every_section_and_data_driven_limitations() {
    let md = render_model_card(&input());
    for section in [
        "## Intended use",
        "## Training data",
        "## Features",
        "## Algorithm and hyperparameters",
        "## Metrics",
        "## Threshold and tiers",
        "## Known limitations",
        "## Change history",
    ] {
        assert!(md.contains(section), "missing {section}");
    }
    assert!(md.contains("| visits | numeric | median 3 imputed with a missing indicator"));
    assert!(md.contains("| source | text | one-hot, 2 levels plus (other) |"));
    assert!(md.contains("The test part has only 100 rows"));
    assert!(md.contains("Only 50 converted leads"));
    assert!(md.contains("may overfit"));
    assert!(md.contains("| t | deployed | 2 | a\\|b | why |"));
}

#[test]
fn names_and_levels_cannot_inject_html_or_leave_a_code_span() {
    let hostile = "<script>alert(1)</script>";
    let md = render_model_card(&CardInput {
        name: format!("m{hostile}"),
        source: "leads` <img src=x onerror=alert(1)>".into(),
        created_by: format!("\"o'<b>{hostile}"),
        features: json!([{"name": format!("f\"'<{hostile}"), "kind": "text", "levels": [hostile]}]),
        tiers: json!([{"name": hostile, "min_score": 0.4}, {"name": "cold", "min_score": 0}]),
        events: vec![CardEvent {
            at: "t".into(),
            event: hostile.into(),
            version: None,
            actor: hostile.into(),
            reason: Some(hostile.into()),
            detail: json!({}),
        }],
        ..input()
    });
    assert!(!md.contains('<'), "{md}");
    assert!(md.contains("- tier **&lt;script&gt;alert(1)&lt;/script&gt;** from score"), "{md}");
    assert!(md.contains("on leads` &lt;img src=x onerror=alert(1)&gt;."), "{md}");
}

#[test]
fn card_shows_outcomes_maturity_and_the_data_window() {
    let plain = render_model_card(&input());
    assert!(!plain.contains("outcomes:") && !plain.contains("data window"), "{plain}");
    let outcomes = json!({"converted": 13, "not_converted": 10, "open": 6, "immature": 4, "before_since": 7,
                          "created_column": "created_at", "mature_after": "30 days", "immature_after": "2025-01-30",
                          "since": "2024-07-01"});
    let md = render_model_card(&CardInput {
        label: "stage".into(),
        converted_values: vec!["won".into(), "SQL".into()],
        training: json!({"rows": 23, "parts": {}, "outcomes": outcomes}),
        ..input()
    });
    assert!(md.contains("probability that `stage in ('won', 'SQL')` (the lead converts)"), "{md}");
    assert!(md.contains("- outcomes: 13 converted, 10 not converted, 6 open (excluded)\n"), "{md}");
    assert!(
        md.contains("- label maturity: 4 rows not converted and created (`created_at`) after 2025-01-30 (as-of minus 30 days) excluded as too young\n"),
        "{md}"
    );
    assert!(md.contains("- data window: rows created (`created_at`) from 2024-07-01 on; 7 older rows dropped\n"), "{md}");
}

#[test]
fn card_shows_the_edited_fields_the_approval_and_the_decisions() {
    let event = |event: &str, reason: &str| CardEvent {
        at: "2026-05-01".into(),
        event: event.into(),
        version: Some(2),
        actor: "risk_lead".into(),
        reason: Some(reason.into()),
        detail: json!({}),
    };
    let md = render_model_card(&CardInput {
        deployed: false,
        approval: Some("pending".into()),
        edited: EditedCard {
            owner: Some("RevOps <team>".into()),
            intended_use: Some("Inbound demo requests in EMEA.".into()),
            limitations: Some("Not for partner leads.".into()),
        },
        events: vec![
            event("decision", "keep v1 until Q3 | review"),
            event("approved", "looks fine"),
            CardEvent {
                reason: None,
                detail: json!({"owner": "RevOps", "limitations": "old text"}),
                ..event("card_changed", "")
            },
        ],
        ..input()
    });
    assert!(md.contains("# Model card: inbound (version 2, pending approval)"), "{md}");
    assert!(md.contains("Owner: RevOps &lt;team&gt;.\n"), "{md}");
    assert!(md.contains("## Intended use\n\nInbound demo requests in EMEA.\n\nRanks sales leads"), "{md}");
    assert!(md.contains("## Known limitations\n\n- Not for partner leads.\n- Learned from"), "{md}");
    assert!(md.contains("## Decisions\n\n| at | version | by | decision |"), "{md}");
    assert!(md.contains("| 2026-05-01 | 2 | risk_lead | keep v1 until Q3 \\| review |"), "{md}");
    // A decision is listed once, under Decisions, not again in the change history.
    assert_eq!(md.matches("keep v1 until Q3").count(), 1, "{md}");
    assert!(md.contains("| 2026-05-01 | approved | 2 | risk_lead | looks fine |"), "{md}");
    assert!(md.contains("| card_changed | 2 | risk_lead | changed limitations, owner |"), "{md}");
    assert!(!md.contains("old text"), "{md}");
    let plain = render_model_card(&input());
    assert!(plain.contains("## Decisions\n\nNone logged"), "{plain}");
    assert!(!plain.contains("Owner:"), "{plain}");
}
