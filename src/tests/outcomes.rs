//! options.outcomes, mature_after and since: what train() counts, reads and stores, the same
//! reading in evaluate(), and an ERROR for every bad definition.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;
    use serde_json::Value;

    use crate::tests::fixtures::{error_of, make_leads};

    /// `leads` with a CRM stage: converted leads are 'won' (every fifth 'SQL'), the others
    /// 'lost', except every seventh still 'in_pipeline'; created_at runs hourly from
    /// 2025-01-01 (1000 rows end on 2025-02-11).
    fn make_crm() {
        make_leads("leads", 1000);
        Spi::run(
            "ALTER TABLE leads ADD COLUMN stage text;
             UPDATE leads SET stage = CASE WHEN converted THEN CASE WHEN id % 5 = 0 THEN 'SQL' ELSE 'won' END
                                           WHEN id % 7 = 0 THEN 'in_pipeline' ELSE 'lost' END;",
        )
        .unwrap();
    }

    const CRM: &str = r#""outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"]}"#;

    fn train(options: &str) -> Value {
        let sql = format!(
            "SELECT version FROM lead_scoring.train('m', 'leads', 'stage', options => '{{\"exclude\": [\"id\", \"converted\"], {options}}}')"
        );
        Spi::run(&sql).unwrap();
        training_of("m")
    }

    /// The stored training summary of the model's newest version.
    fn training_of(model: &str) -> Value {
        let sql = format!("SELECT training FROM lead_scoring.models WHERE name = '{model}' ORDER BY version DESC LIMIT 1");
        Spi::get_one::<JsonB>(&sql).unwrap().unwrap().0
    }

    fn count(condition: &str) -> u64 {
        Spi::get_one::<i64>(&format!("SELECT count(*) FROM leads WHERE {condition}")).unwrap().unwrap() as u64
    }

    fn train_err(options: &str) -> String {
        let sql = format!("SELECT * FROM lead_scoring.train('m', 'leads', 'stage', options => '{{\"exclude\": [\"id\", \"converted\"], {options}}}')");
        error_of(&sql)
    }

    #[pg_test]
    fn outcomes_count_each_class_and_train_on_converted_and_not_converted_only() {
        make_crm();
        let t = train(CRM);
        let o = &t["outcomes"];
        let converted = count("stage IN ('won', 'SQL')");
        let lost = count("stage = 'lost'");
        assert_eq!(o["converted"], converted, "{t}");
        assert_eq!(o["not_converted"], lost, "{t}");
        assert_eq!(o["open"], count("stage = 'in_pipeline'"), "{t}");
        assert!(o["open"].as_u64().unwrap() > 50, "{t}");
        assert_eq!(t["rows"], converted + lost, "open rows are not trained on: {t}");
        let positives: u64 = ["train", "validation", "test"].iter().map(|p| t["parts"][p]["positives"].as_u64().unwrap()).sum();
        assert_eq!(positives, converted, "'SQL' counts as converted: {t}");
        // evaluate() reads the stored definition: open rows left out, SQL converted.
        let e = Spi::get_one::<JsonB>("SELECT lead_scoring.evaluate('m', 'leads')").unwrap().unwrap().0;
        assert_eq!((e["rows"].as_u64(), e["positives"].as_u64()), (Some(converted + lost), Some(converted)), "{e}");
        // monitor() and backtest() read the same rows and labels.
        let (rows, positives) =
            Spi::get_two::<i64, i64>("SELECT rows, positives FROM lead_scoring.monitor('m', 'leads')").unwrap();
        assert_eq!((rows, positives), (Some((converted + lost) as i64), Some(converted as i64)));
        let (leads, conversions) = Spi::get_two::<i64, i64>(
            "SELECT sum(leads)::int8, sum(conversions)::int8 FROM lead_scoring.backtest('m', 'leads', 'created_at', interval '1 week')",
        )
        .unwrap();
        assert_eq!((leads, conversions), (Some((converted + lost) as i64), Some(converted as i64)));
        // The aggregate engine reads the same rows and labels.
        Spi::run("ALTER TABLE leads ADD COLUMN part text; UPDATE leads SET part = (ARRAY['train', 'train', 'train', 'validation', 'test'])[1 + id % 5]").unwrap();
        let a = train(&format!(r#"{CRM}, "engine": "aggregate", "split": {{"method": "column", "column": "part"}}"#));
        assert_eq!(a["engine"], "aggregate", "{a}");
        assert_eq!(a["rows"], converted + lost, "{a}");
    }

    #[pg_test]
    fn rep_feedback_on_a_stage_label_writes_the_first_value_of_the_flagged_class() {
        make_crm();
        train(CRM);
        // Lead 1 flagged converted, lead 2 not converted, lead 7 (in_pipeline) converted.
        Spi::run(
            "SELECT lead_scoring.flag('m', '1', true); SELECT lead_scoring.flag('m', '2', false);
             SELECT lead_scoring.flag('m', '7', true);",
        )
        .unwrap();
        let t = train(&format!(r#"{CRM}, "use_feedback": true, "key": "id""#));
        let expected_converted = count("(stage IN ('won', 'SQL') AND id NOT IN (1, 2)) OR id IN (1, 7)");
        let expected_lost = count("(stage = 'lost' AND id NOT IN (1, 7)) OR id = 2");
        assert_eq!(t["outcomes"]["converted"], expected_converted, "{t}");
        assert_eq!(t["outcomes"]["not_converted"], expected_lost, "{t}");
        assert_eq!(t["outcomes"]["open"], count("stage = 'in_pipeline' AND id <> 7"), "{t}");
    }

    #[pg_test]
    fn evaluate_refuses_a_value_the_model_has_no_class_for() {
        make_crm();
        train(CRM);
        Spi::run("UPDATE leads SET stage = 'MQL' WHERE id = 3").unwrap();
        let e = error_of("SELECT lead_scoring.evaluate('m', 'leads')");
        assert_eq!(e, "22000: label column \"stage\" has the value 'MQL', which is in no list of the model's options.outcomes");
    }

    #[pg_test]
    fn unlisted_values_follow_the_policy_and_boolean_and_integer_labels_work() {
        make_crm();
        Spi::run("UPDATE leads SET stage = 'MQL' WHERE id % 11 = 0 AND stage = 'lost'").unwrap();
        let open = train(r#""outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "unlisted": "open"}"#);
        assert_eq!(open["outcomes"]["open"], count("stage IN ('in_pipeline', 'MQL')"), "{open}");
        let negative = train(
            r#""outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"], "unlisted": "not_converted"}"#,
        );
        assert_eq!(negative["outcomes"]["not_converted"], count("stage IN ('lost', 'MQL')"), "{negative}");
        let e = Spi::get_one::<JsonB>("SELECT lead_scoring.evaluate('m', 'leads')").unwrap().unwrap().0;
        assert_eq!(e["rows"].as_u64(), Some(count("stage <> 'in_pipeline'")), "unlisted rows are negatives here: {e}");
        // Boolean and integer labels compare as their text.
        Spi::run("ALTER TABLE leads ADD COLUMN level int; UPDATE leads SET level = CASE WHEN converted THEN 3 WHEN id % 7 = 0 THEN 1 ELSE 0 END").unwrap();
        let train_b = |label: &str, outcomes: &str| {
            Spi::run(&format!("SELECT lead_scoring.train('b', 'leads', '{label}', options => '{{\"exclude\": [\"id\", \"stage\", \"converted\", \"level\"], \"outcomes\": {outcomes}}}')")).unwrap();
            training_of("b")
        };
        let b = train_b("converted", r#"{"converted": [true], "not_converted": [false]}"#);
        assert_eq!(b["outcomes"]["converted"], count("converted"), "{b}");
        let i = train_b("level", r#"{"converted": [3], "not_converted": [0], "open": [1]}"#);
        assert_eq!(
            (i["outcomes"]["converted"].as_u64(), i["outcomes"]["open"].as_u64()),
            (Some(count("level = 3")), Some(count("level = 1"))),
            "{i}"
        );
    }

    #[pg_test]
    fn mature_after_excludes_young_not_converted_rows_and_since_drops_old_ones() {
        make_crm();
        // as_of 2025-02-11; 14 days back is 2025-01-28.
        let t = train(&format!(
            r#"{CRM}, "as_of": "2025-02-11", "created_column": "created_at", "mature_after": "14 days", "since": "2025-01-05""#
        ));
        let o = &t["outcomes"];
        let young = "created_at > '2025-01-28 00:00+00'";
        let window = "created_at >= '2025-01-05 00:00+00'";
        assert_eq!(o["immature"], count(&format!("stage = 'lost' AND {young} AND {window}")), "{t}");
        assert_eq!(o["not_converted"], count(&format!("stage = 'lost' AND NOT {young} AND {window}")), "{t}");
        assert_eq!(o["converted"], count(&format!("stage IN ('won', 'SQL') AND {window}")), "young converted rows stay: {t}");
        assert_eq!(o["before_since"], count("created_at < '2025-01-05 00:00+00'"), "{t}");
        assert_eq!(o["immature_after"], "2025-01-28", "{t}");
        assert_eq!(t["rows"].as_u64(), Some(o["converted"].as_u64().unwrap() + o["not_converted"].as_u64().unwrap()), "{t}");
        let card = Spi::get_one::<String>("SELECT lead_scoring.model_card('m')").unwrap().unwrap();
        assert!(card.contains("- data window: rows created (`created_at`) from 2025-01-05 on;"), "{card}");
        assert!(card.contains("- label maturity: "), "{card}");
        assert!(card.contains("probability that `stage in ('won', 'SQL')` (the lead converts)"), "{card}");
        // Without outcomes, maturity reads the boolean label as it is.
        Spi::run(
            "SELECT lead_scoring.train('b', 'leads', 'converted', options => '{\"exclude\": [\"id\", \"stage\"], \"as_of\": \"2025-02-11\", \"created_column\": \"created_at\", \"mature_after\": \"14 days\"}')",
        )
        .unwrap();
        let b = training_of("b");
        assert_eq!(b["outcomes"]["immature"], count(&format!("NOT converted AND {young}")), "{b}");
    }

    #[pg_test]
    fn every_bad_definition_is_an_error() {
        make_crm();
        Spi::run("UPDATE leads SET stage = 'MQL' WHERE id IN (4, 8)").unwrap();
        let e = train_err(CRM);
        assert!(e.starts_with("22023: label column \"stage\" has values in no list of options.outcomes: 'MQL' (2 rows);"), "{e}");
        Spi::run("UPDATE leads SET stage = 'lost' WHERE stage = 'MQL'").unwrap();
        let cases = [
            (r#""outcomes": {"converted": ["won"], "not_converted": ["lost", "won"]}"#, "22023: label value 'won' is in both \"outcomes.converted\" and \"outcomes.not_converted\"; a value must have one class"),
            (&format!(r#"{CRM}, "positive_label": "won""#), "22023: options \"outcomes\" and \"positive_label\" cannot be used together; list the converted values in outcomes.converted"),
            (r#""mature_after": "30 days""#, "22023: option \"mature_after\" needs option \"created_column\": the date or timestamp column that says when each lead was created"),
            (&format!(r#"{CRM}, "created_column": "created", "since": "2025-01-01""#), "42703: created column \"created\" does not exist in leads"),
            (&format!(r#"{CRM}, "created_column": "noise", "since": "2025-01-01""#), "22023: created column \"noise\" has type double precision; it must be a date or timestamp"),
            (r#""outcomes": "won""#, "22023: option \"outcomes\" must be an object like {\"converted\": [\"won\"], \"not_converted\": [\"lost\"]}, got \"won\""),
            (r#""outcomes": {"converted": "won", "not_converted": ["lost"]}"#, "22023: option \"outcomes.converted\" must be a non-empty array of label values, got \"won\""),
            (r#""outcomes": {"converted": [{"a": 1}], "not_converted": ["lost"]}"#, "22023: option \"outcomes.converted\" must list strings, numbers or booleans, got {\"a\":1}"),
            (&format!(r#"{CRM}, "created_column": "created_at", "mature_after": 30"#), "22023: option \"mature_after\" must be an interval as text like \"30 days\", got 30"),
            (&format!(r#"{CRM}, "created_column": "created_at", "since": true"#), "22023: option \"since\" must be a date or timestamp as text like \"2025-01-01\", got true"),
            (&format!(r#"{CRM}, "created_column": "created_at", "since": "2099-01-01""#), "22023: options.since (2099-01-01) leaves no rows: all 1000 labelled rows were created before it"),
        ];
        for (options, expected) in cases {
            assert_eq!(train_err(options), expected, "{options}");
        }
        let e =
            train_err(&format!(r#"{CRM}, "as_of": "2025-01-02", "created_column": "created_at", "mature_after": "3 months""#));
        assert!(e.starts_with("22023: all ") && e.contains(" not-converted rows are immature: created after 2024-10-04"), "{e}");
        // A failed train() leaves no model behind.
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.models").unwrap(), Some(0));
    }

    #[pg_test]
    fn better_matching_operators_and_functions_on_the_search_path_are_never_called() {
        make_crm();
        // Better matches than pg_catalog's for what unqualified filter SQL would write: a
        // float8 epoch compared with a numeric literal. Each records that it ran in a setting (allowed in the read-only source queries).
        Spi::run(
            "ALTER TABLE leads ADD COLUMN created_on date;
             UPDATE leads SET created_on = (created_at AT TIME ZONE 'UTC')::date;
             CREATE SCHEMA evil;
             CREATE FUNCTION evil.ge(float8, numeric) RETURNS bool LANGUAGE plpgsql SET search_path = pg_catalog
               AS $$ BEGIN PERFORM set_config('evil.called', 'float8 >= numeric', false); RETURN true; END $$;
             CREATE OPERATOR evil.>= (LEFTARG = float8, RIGHTARG = numeric, FUNCTION = evil.ge);
             CREATE FUNCTION evil.le(float8, numeric) RETURNS bool LANGUAGE plpgsql SET search_path = pg_catalog
               AS $$ BEGIN PERFORM set_config('evil.called', 'float8 <= numeric', false); RETURN true; END $$;
             CREATE OPERATOR evil.<= (LEFTARG = float8, RIGHTARG = numeric, FUNCTION = evil.le);
             SELECT set_config('evil.called', '', false);
             SET LOCAL search_path = evil, public;",
        )
        .unwrap();
        // The operators work, so a call that reached them would be seen.
        assert_eq!(Spi::get_one::<bool>("SELECT 1::float8 >= 2.5").unwrap(), Some(true));
        assert_eq!(
            Spi::get_one::<String>("SELECT current_setting('evil.called')").unwrap().as_deref(),
            Some("float8 >= numeric")
        );
        Spi::run("SELECT set_config('evil.called', '', false)").unwrap();
        let options = format!(
            r#"{{"exclude": ["id", "converted", "created_at"], {CRM}, "as_of": "2025-02-11", "created_column": "created_on", "mature_after": "14 days", "since": "2025-01-05"}}"#
        );
        for sql in [
            format!("SELECT * FROM lead_scoring.train('m', 'leads', 'stage', options => '{options}')"),
            "SELECT lead_scoring.evaluate('m', 'leads')".to_string(),
        ] {
            Spi::run(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let called = Spi::get_one::<String>("SELECT current_setting('evil.called')").unwrap();
            assert_eq!(called.as_deref(), Some(""), "{sql} called evil's {called:?}");
        }
        // The filter read the dates right: 2025-01-05 onwards, immature after 2025-01-28.
        let t = training_of("m");
        assert_eq!(t["outcomes"]["before_since"], count("created_on < '2025-01-05'"), "{t}");
        assert_eq!(
            t["outcomes"]["immature"],
            count("stage = 'lost' AND created_on > '2025-01-28' AND created_on >= '2025-01-05'"),
            "{t}"
        );
    }
}
