use serde_json::json;

use super::*;
use crate::training::parse_train_options;

fn crm() -> OutcomeDefinition {
    OutcomeDefinition::parse(&json!({"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"]})).unwrap()
}

fn err(v: serde_json::Value) -> String {
    parse_train_options(&v).unwrap_err().message
}

fn rows(value: &str, rows: u64, before_since: u64, immature: u64) -> LabelValueRows {
    LabelValueRows { value: value.into(), rows, before_since, immature }
}

#[test]
fn values_map_to_their_class() {
    let d = crm();
    assert_eq!(d.class_of("won"), Some(OutcomeClass::Converted));
    assert_eq!(d.class_of("SQL"), Some(OutcomeClass::Converted));
    assert_eq!(d.class_of("lost"), Some(OutcomeClass::NotConverted));
    assert_eq!(d.class_of("in_pipeline"), Some(OutcomeClass::Open));
    assert_eq!(d.class_of("Won"), None, "values compare exactly, as text");
    let open = OutcomeDefinition::parse(&json!({"converted": [true], "not_converted": [false], "unlisted": "open"})).unwrap();
    assert_eq!(open.class_of("true"), Some(OutcomeClass::Converted));
    assert_eq!(open.class_of("maybe"), Some(OutcomeClass::Open));
    let ints =
        OutcomeDefinition::parse(&json!({"converted": [3, 4], "not_converted": [0], "unlisted": "not_converted"})).unwrap();
    assert_eq!(ints.class_of("4"), Some(OutcomeClass::Converted));
    assert_eq!(ints.class_of("7"), Some(OutcomeClass::NotConverted));
}

#[test]
fn parse_errors_name_the_key() {
    assert!(err(json!({"outcomes": ["won"]})).contains("option \"outcomes\" must be an object"));
    assert!(err(json!({"outcomes": {"converted": "won", "not_converted": ["lost"]}}))
        .contains("\"outcomes.converted\" must be a non-empty array"));
    assert!(err(json!({"outcomes": {"converted": [], "not_converted": ["lost"]}}))
        .contains("\"outcomes.converted\" must be a non-empty array"));
    assert!(err(json!({"outcomes": {"converted": ["won"]}})).contains("\"outcomes.not_converted\" must list at least one"));
    assert!(err(json!({"outcomes": {"converted": [null], "not_converted": ["lost"]}}))
        .contains("must list strings, numbers or booleans"));
    assert!(err(json!({"outcomes": {"converted": [["won"]], "not_converted": ["lost"]}}))
        .contains("must list strings, numbers or booleans"));
    assert!(err(json!({"outcomes": {"converted": ["won"], "not_converted": ["lost"], "unlisted": "converted"}}))
        .contains("\"outcomes.unlisted\" must be \"open\" or \"not_converted\""));
    assert!(err(json!({"outcomes": {"converted": ["won"], "not_converted": ["lost"], "closed": ["x"]}}))
        .contains("unknown option \"outcomes.closed\""));
    assert_eq!(
        err(json!({"outcomes": {"converted": ["won"], "not_converted": ["lost"], "open": ["won"]}})),
        "label value 'won' is in both \"outcomes.converted\" and \"outcomes.open\"; a value must have one class"
    );
    assert!(err(json!({"outcomes": {"converted": ["1"], "not_converted": [1]}})).contains("label value '1' is in both"));
    assert!(err(json!({"outcomes": {"converted": ["won"], "not_converted": ["lost"]}, "positive_label": "won"}))
        .contains("\"outcomes\" and \"positive_label\" cannot be used together"));
}

#[test]
fn window_options_need_each_other() {
    assert!(err(json!({"mature_after": "30 days"})).contains("option \"mature_after\" needs option \"created_column\""));
    assert!(err(json!({"since": "2025-01-01"})).contains("option \"since\" needs option \"created_column\""));
    assert!(err(json!({"created_column": "created"})).contains("only read with option \"mature_after\" or \"since\""));
    assert!(err(json!({"created_column": 3, "since": "2025-01-01"})).contains("\"created_column\" must be a column name"));
    assert!(err(json!({"created_column": "c", "since": "yesterday"})).contains("\"since\" must be a date or timestamp"));
    assert!(err(json!({"created_column": "c", "mature_after": 30})).contains("\"mature_after\" must be an interval as text"));
    for bad in ["30", "days", "-3 days", "0 days", "3 fortnights", "1 day 2"] {
        assert!(err(json!({"created_column": "c", "mature_after": bad})).contains("positive interval"), "{bad}");
    }
    let o =
        parse_train_options(&json!({"created_column": "c", "mature_after": "1 month 2 weeks", "since": "2025-01-01"})).unwrap();
    assert_eq!(o.window.mature_after_seconds, Some(44.0 * 86_400.0));
    assert_eq!(o.window.since_epoch, Some(1_735_689_600.0));
    assert_eq!(parse_interval_seconds("12 hours 30 mins").unwrap(), 45_000.0);
    assert_eq!(parse_interval_seconds("1 year").unwrap(), 365.25 * 86_400.0);
}

#[test]
fn intervals_as_postgres_and_iso_8601_write_them() {
    let (h, d) = (3_600.0, 86_400.0);
    let cases = [
        ("30 days", 30.0 * d),
        ("1.5 days", 1.5 * d),
        ("30d", 30.0 * d),
        ("36h 30m", 36.5 * h),
        ("2W", 14.0 * d),
        ("1 mon 2 days", 32.0 * d),
        ("90 MINUTES", 1.5 * h),
        ("1 day 02:30", d + 2.5 * h),
        ("36:00:00", 36.0 * h),
        ("1 yr", 365.25 * d),
        ("P30D", 30.0 * d),
        ("P1M15D", 45.0 * d),
        ("PT36H", 36.0 * h),
        ("P2W", 14.0 * d),
        ("P1DT12H30M", d + 12.5 * h),
        ("p0.5d", 0.5 * d),
    ];
    for (text, seconds) in cases {
        assert_eq!(parse_interval_seconds(text).ok(), Some(seconds), "{text}");
    }
    for bad in
        ["", "P", "PT", "P30", "P3X", "30 days ago", "1:2:3:4", "12:xx", "d", "3 fortnights", "P-3D", "-1 day", "1 day 2", "P1DT"]
    {
        let e = parse_interval_seconds(bad).unwrap_err().to_string();
        assert!(e.contains("positive interval") && e.contains("P30D"), "{bad}: {e}");
    }
}

#[test]
fn tally_counts_each_class_and_the_window() {
    let d = crm();
    let window = DataWindow {
        created_column: Some("created".into()),
        mature_after: Some("30 days".into()),
        mature_after_seconds: Some(30.0 * 86_400.0),
        since: Some("2025-01-01".into()),
        since_epoch: Some(1_735_689_600.0),
    };
    let values = [rows("won", 10, 2, 3), rows("SQL", 5, 0, 0), rows("lost", 20, 4, 6), rows("in_pipeline", 7, 1, 2)];
    let c = tally_outcomes(&values, |v| d.class_of(v), &window, 1_740_787_200.0, "stage").unwrap();
    // Converted rows are kept however young; immature counts only not-converted rows.
    assert_eq!((c.converted, c.not_converted, c.open, c.immature, c.before_since), (13, 10, 6, 6, 7));
    assert_eq!(c.immature_after.as_deref(), Some("2025-01-30"));
    assert_eq!(
        c.notice(),
        "outcomes: 13 converted, 10 not converted, 6 open (excluded), 6 immature (excluded: not converted and created after 2025-01-30), 7 created before 2025-01-01 (dropped)"
    );
}

#[test]
fn tally_errors() {
    let d = crm();
    let none = DataWindow::default();
    let e = tally_outcomes(
        &[rows("won", 3, 0, 0), rows("MQL", 4, 0, 0), rows("lost", 2, 0, 0), rows("x", 1, 0, 0)],
        |v| d.class_of(v),
        &none,
        0.0,
        "stage",
    )
    .unwrap_err();
    assert!(
        e.message.starts_with("label column \"stage\" has values in no list of options.outcomes: 'MQL' (4 rows), 'x' (1 rows);"),
        "{}",
        e.message
    );
    let window = DataWindow {
        created_column: Some("c".into()),
        mature_after: Some("30 days".into()),
        mature_after_seconds: Some(1.0),
        ..DataWindow::default()
    };
    let e = tally_outcomes(&[rows("won", 3, 0, 1), rows("lost", 2, 0, 2)], |v| d.class_of(v), &window, 0.0, "stage").unwrap_err();
    assert!(e.message.starts_with("all 2 not-converted rows are immature"), "{}", e.message);
    let since = DataWindow {
        created_column: Some("c".into()),
        since: Some("2099-01-01".into()),
        since_epoch: Some(4e9),
        ..DataWindow::default()
    };
    let e = tally_outcomes(
        &[rows("won", 3, 3, 0), rows("lost", 2, 2, 0), rows("MQL", 1, 1, 0)],
        |v| d.class_of(v),
        &since,
        0.0,
        "stage",
    )
    .unwrap_err();
    assert_eq!(e.message, "options.since (2099-01-01) leaves no rows: all 6 labelled rows were created before it");
    let e = tally_outcomes(&[rows("in_pipeline", 3, 0, 0)], |v| d.class_of(v), &none, 0.0, "stage").unwrap_err();
    assert!(e.message.starts_with("all 3 labelled rows are open"), "{}", e.message);
}

#[test]
fn generated_sql_names_pg_catalog() {
    let d = crm();
    assert_eq!(
        d.kept_sql("(\"stage\")::pg_catalog.text"),
        "((\"stage\")::pg_catalog.text IS NULL OR NOT ((\"stage\")::pg_catalog.text OPERATOR(pg_catalog.=) ANY (ARRAY['in_pipeline']::pg_catalog.text[])))"
    );
    let open = OutcomeDefinition::parse(&json!({"converted": ["won"], "not_converted": ["lost"], "unlisted": "open"})).unwrap();
    assert_eq!(open.kept_sql("t"), "(t IS NULL OR t OPERATOR(pg_catalog.=) ANY (ARRAY['won', 'lost']::pg_catalog.text[]))");
    let n = OutcomeDefinition::parse(
        &json!({"converted": ["it's"], "not_converted": ["b"], "open": ["o"], "unlisted": "not_converted"}),
    )
    .unwrap();
    assert_eq!(n.kept_sql("t"), "(t IS NULL OR NOT (t OPERATOR(pg_catalog.=) ANY (ARRAY['o']::pg_catalog.text[])))");
    assert_eq!(n.converted_sql("t"), "t OPERATOR(pg_catalog.=) ANY (ARRAY['it''s']::pg_catalog.text[])");
    let w = DataWindow {
        created_column: Some("c".into()),
        since_epoch: Some(10.0),
        mature_after_seconds: Some(5.0),
        ..DataWindow::default()
    };
    assert_eq!(w.since_sql("e"), "(e IS NULL OR e OPERATOR(pg_catalog.>=) 10.0::float8)");
    assert_eq!(w.mature_sql("e", 100.0), "(e IS NULL OR e OPERATOR(pg_catalog.<=) 95.0::float8)");
}
