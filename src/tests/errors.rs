//! Every bad input gets a clear ERROR (exact messages) with the SQLSTATE of its kind, and a
//! failed train() leaves nothing behind.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    fn setup_model() {
        make_leads("leads", 1000);
        train_default("m", "leads");
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn unknown_model() {
        setup_model();
        Spi::run("SELECT lead_scoring.score('nope', l) FROM leads l").unwrap();
    }

    #[pg_test(error = "model \"m\" has no version 9")]
    fn unknown_version() {
        setup_model();
        Spi::run("SELECT lead_scoring.score('m@9', l) FROM leads l").unwrap();
    }

    #[pg_test(error = "model \"m@x\" is not a valid model name; use 'name' or 'name@version'")]
    fn malformed_model_name() {
        setup_model();
        Spi::run("SELECT lead_scoring.score('m@x', l) FROM leads l").unwrap();
    }

    #[pg_test(error = "source \"no_such_table\" does not exist")]
    fn missing_source() {
        Spi::run("SELECT * FROM lead_scoring.train('m', 'no_such_table', 'converted')").unwrap();
    }

    #[pg_test(error = "source \"leads; DROP TABLE leads\" is neither a table or view name nor a SELECT query")]
    fn source_name_cannot_inject_sql() {
        make_leads("leads", 100);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads; DROP TABLE leads', 'converted')").unwrap();
    }

    #[pg_test(error = "label column \"won\" does not exist in leads")]
    fn missing_label_column() {
        make_leads("leads", 100);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'won')").unwrap();
    }

    #[pg_test(error = "source leads has no rows with a non-NULL label \"converted\"")]
    fn all_null_label() {
        make_leads("leads", 100);
        Spi::run("UPDATE leads SET converted = NULL").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted')").unwrap();
    }

    #[pg_test(
        error = "label \"converted\" has only one class (100 rows, all not converted); a model needs converted and non-converted leads"
    )]
    fn one_class_label() {
        make_leads("leads", 100);
        Spi::run("UPDATE leads SET converted = false").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted')").unwrap();
    }

    #[pg_test(
        error = "the training part has 4 converted and 156 non-converted leads; at least 10 of each are needed (options.min_class_rows)"
    )]
    fn too_few_of_a_class() {
        make_leads("leads", 200);
        Spi::run("UPDATE leads SET converted = (id <= 5)").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')").unwrap();
    }

    #[pg_test(error = "label column \"outcome\" is text; set options.positive_label to the value that means converted")]
    fn text_label_needs_positive_label() {
        make_leads("leads", 100);
        Spi::run("ALTER TABLE leads ADD COLUMN outcome text").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'outcome', options => '{\"exclude\": [\"converted\"]}')")
            .unwrap();
    }

    #[pg_test(error = "label column \"stage\" has the value 2; a numeric label must be 0 or 1 (or set options.positive_label)")]
    fn numeric_label_must_be_0_or_1() {
        make_leads("leads", 100);
        Spi::run("ALTER TABLE leads ADD COLUMN stage int DEFAULT 2").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'stage', options => '{\"exclude\": [\"converted\"]}')").unwrap();
    }

    #[pg_test(error = "the row given to lead_scoring has no column \"visits\", which model \"m@1\" needs")]
    fn feature_missing_at_scoring_time() {
        setup_model();
        Spi::run("CREATE TABLE partial AS SELECT id, source, opted_in, noise FROM leads").unwrap();
        Spi::run("SELECT lead_scoring.score('m', p) FROM partial p").unwrap();
    }

    #[pg_test(error = "the jsonb lead has no key \"visits\", which model \"m@1\" needs")]
    fn feature_missing_in_jsonb() {
        setup_model();
        Spi::run("SELECT lead_scoring.score('m', '{\"source\": \"Google\"}'::jsonb)").unwrap();
    }

    #[pg_test(error = "feature \"noise\" has the value NaN; NaN and Infinity are not valid feature values")]
    fn nan_feature_in_training() {
        make_leads("leads", 300);
        Spi::run("UPDATE leads SET noise = 'NaN' WHERE id = 7").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted')").unwrap();
    }

    #[pg_test(error = "model \"m@1\": feature \"noise\" is Infinity; NaN and Infinity are not valid feature values")]
    fn infinite_feature_at_scoring_time() {
        setup_model();
        Spi::run("UPDATE leads SET noise = 'Infinity' WHERE id = 7").unwrap();
        Spi::run("SELECT lead_scoring.score('m', l) FROM leads l").unwrap();
    }

    #[pg_test(error = "feature column \"tags\" has type text[]; features must be numeric, text, boolean or a date")]
    fn unsupported_feature_type() {
        make_leads("leads", 100);
        Spi::run("ALTER TABLE leads ADD COLUMN tags text[]").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', ARRAY['visits', 'tags'])").unwrap();
    }

    #[pg_test(error = "feature column \"visitz\" does not exist in leads")]
    fn unknown_feature_column() {
        make_leads("leads", 100);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', ARRAY['visitz'])").unwrap();
    }

    #[pg_test]
    fn unknown_option_key() {
        make_leads("leads", 100);
        // The message lists every known option (taken from the parser, so it never goes stale).
        let message = Spi::get_one::<String>(
            "CREATE FUNCTION pg_temp.train_error() RETURNS text LANGUAGE plpgsql AS $f$
             BEGIN
               PERFORM * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"alhpa\": 1}');
               RETURN 'no error';
             EXCEPTION WHEN OTHERS THEN RETURN SQLERRM;
             END $f$;
             SELECT pg_temp.train_error()",
        )
        .unwrap();
        let expected =
            format!("unknown option \"alhpa\"; known options are: {}", crate::core::training::KNOWN_OPTIONS.join(", "));
        assert_eq!(message.as_deref(), Some(expected.as_str()));
        assert!(expected.contains("alpha, as_of, bins, calibration, class_weight"));
    }

    #[pg_test(error = "option \"alpha\" must be a number, got \"big\"")]
    fn wrong_option_type() {
        make_leads("leads", 100);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"alpha\": \"big\"}')").unwrap();
    }

    #[pg_test(error = "unknown algorithm \"svm\"; available: logistic, gbm, auto")]
    fn unknown_algorithm() {
        make_leads("leads", 100);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', algorithm => 'svm')").unwrap();
    }

    #[pg_test(error = "model_name must not be NULL")]
    fn null_model_name() {
        make_leads("leads", 100);
        Spi::run("SELECT * FROM lead_scoring.train(NULL, 'leads', 'converted')").unwrap();
    }

    #[pg_test(error = "lead must be a table row, got a value of type integer")]
    fn scalar_lead() {
        setup_model();
        Spi::run("SELECT lead_scoring.score('m', 42)").unwrap();
    }

    #[pg_test(error = "model \"m\" has no version 5")]
    fn deploy_unknown_version() {
        setup_model();
        Spi::run("SELECT lead_scoring.deploy('m', 5)").unwrap();
    }

    #[pg_test(error = "split column \"part\" must hold 'train', 'validation' or 'test' in every row, found 'holdout'")]
    fn bad_split_column_value() {
        make_leads("leads", 300);
        Spi::run("ALTER TABLE leads ADD COLUMN part text DEFAULT 'holdout'").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"split\": {\"method\": \"column\", \"column\": \"part\"}}')").unwrap();
    }

    #[pg_test]
    fn failed_train_leaves_nothing_behind() {
        make_leads("leads", 300);
        // Fails after reading and fitting would start: one class only.
        Spi::run("UPDATE leads SET converted = true").unwrap();
        Spi::run(
            "DO $$ BEGIN
               PERFORM * FROM lead_scoring.train('m', 'leads', 'converted');
               RAISE EXCEPTION 'train should have failed';
             EXCEPTION WHEN data_exception THEN NULL;
             END $$",
        )
        .unwrap();
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.models").unwrap(), Some(0));
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.model_events").unwrap(), Some(0));
    }

    #[pg_test]
    fn hostile_column_and_table_names_are_quoted() {
        make_leads("leads", 1000);
        Spi::run(r#"CREATE TABLE "we""ird; DROP TABLE leads; --" AS SELECT visits AS "a""; DROP TABLE leads; --", source AS "Lead Source", converted FROM leads"#).unwrap();
        Spi::run(r#"SELECT * FROM lead_scoring.train('hostile', '"we""ird; DROP TABLE leads; --"', 'converted')"#).unwrap();
        let scored =
            Spi::get_one::<i64>(r#"SELECT count(lead_scoring.score('hostile', t)) FROM "we""ird; DROP TABLE leads; --" t"#)
                .unwrap();
        assert_eq!(scored, Some(1000));
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM leads").unwrap(), Some(1000), "leads still exists");
    }

    #[pg_test(error = "permission denied for table leads")]
    fn source_the_caller_cannot_read() {
        make_leads("leads", 100);
        Spi::run("CREATE ROLE lead_scoring_outsider; GRANT USAGE ON SCHEMA lead_scoring TO lead_scoring_outsider").unwrap();
        Spi::run("SET ROLE lead_scoring_outsider").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted')").unwrap();
    }

    /// The SQLSTATE `statement` fails with, caught in PL/pgSQL ("no error" if it succeeds).
    fn sqlstate_of(statement: &str) -> String {
        Spi::run(
            "CREATE OR REPLACE FUNCTION pg_temp.sqlstate_of(statement text) RETURNS text LANGUAGE plpgsql AS $f$
             DECLARE state text;
             BEGIN
               EXECUTE statement;
               RETURN 'no error';
             EXCEPTION WHEN OTHERS THEN
               GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
               RETURN state;
             END $f$",
        )
        .unwrap();
        Spi::get_one_with_args::<String>("SELECT pg_temp.sqlstate_of($1)", &[statement.into()]).unwrap().unwrap()
    }

    #[pg_test]
    fn a_bad_option_is_invalid_parameter_value() {
        make_leads("leads", 100);
        let train = |options: &str| {
            sqlstate_of(&format!("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{options}')"))
        };
        assert_eq!(train(r#"{"alhpa": 1}"#), "22023", "unknown option");
        assert_eq!(train(r#"{"alpha": "big"}"#), "22023", "option of the wrong type");
        assert_eq!(train(r#"{"split": {"method": "kfold"}}"#), "22023", "unknown split method");
    }

    #[pg_test]
    fn a_missing_column_is_undefined_column() {
        make_leads("leads", 300);
        // Checked by the extension when it reads the source ...
        assert_eq!(sqlstate_of("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', ARRAY['visitz'])"), "42703");
        // ... and by the core when an option names a feature that is not there.
        let log =
            r#"SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{"exclude": ["id"], "log": ["visitz"]}')"#;
        assert_eq!(sqlstate_of(log), "42703");
    }

    #[pg_test]
    fn too_little_or_unusable_data_is_data_exception() {
        make_leads("leads", 300);
        let train = "SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')";
        Spi::run("UPDATE leads SET converted = (id <= 5)").unwrap();
        assert_eq!(sqlstate_of(train), "22000", "too few of a class (the core's check)");
        Spi::run("UPDATE leads SET converted = false").unwrap();
        assert_eq!(sqlstate_of(train), "22000", "one class (the extension's check)");
        Spi::run("UPDATE leads SET converted = (id % 4 = 0), noise = CASE WHEN id = 7 THEN 'NaN' ELSE noise END").unwrap();
        assert_eq!(sqlstate_of(train), "22000", "NaN in a feature");
    }

    #[pg_test]
    fn a_corrupt_artifact_is_data_corrupted() {
        setup_model();
        // Edited before the first score: a hand-edited row sends no invalidation, so a model this
        // backend had already loaded would stay cached.
        let score = "SELECT lead_scoring.score('m', l) FROM leads l";
        // One byte of the body flipped: the checksum no longer matches.
        Spi::run("UPDATE lead_scoring.models SET artifact = set_byte(artifact, length(artifact) - 1, 255 - get_byte(artifact, length(artifact) - 1))").unwrap();
        assert_eq!(sqlstate_of(score), "XX001");
        Spi::run("UPDATE lead_scoring.models SET artifact = '\\xdeadbeef'::bytea").unwrap();
        assert_eq!(sqlstate_of(score), "XX001");
        assert_eq!(sqlstate_of("SELECT lead_scoring.explain('m', l) FROM leads l LIMIT 1"), "XX001");
    }

    #[pg_test]
    fn past_the_memory_limit_is_program_limit_exceeded() {
        // The core's check of the Newton system, with options.max_memory.
        Spi::run(
            "CREATE TABLE companies AS SELECT g AS id, 'company ' || (g % 2000) AS company, (g % 7) AS n,
                    ((g % 2000) % 10 < 3) AS converted FROM generate_series(1, 6000) g",
        )
        .unwrap();
        let fit = r#"SELECT * FROM lead_scoring.train('c', 'companies', 'converted', options => '{"exclude": ["id"], "min_level_count": 1, "max_levels": 5000, "leakage": "ignore", "max_memory": "100MB"}')"#;
        assert_eq!(sqlstate_of(fit), "54000");
        // The extension's checks while reading rows and keeping pairs, with the setting.
        Spi::run("CREATE TABLE wide AS SELECT g AS id, md5(g::text) AS email, (g % 3 = 0) AS converted FROM generate_series(1, 50000) g").unwrap();
        Spi::run("SET LOCAL lead_scoring.max_memory = '1MB'").unwrap();
        assert_eq!(sqlstate_of("SELECT * FROM lead_scoring.train('w', 'wide', 'converted')"), "54000");
        assert_eq!(
            sqlstate_of("SELECT lead_scoring.roc_auc((g / 200000.0)::float8, g % 2 = 0) FROM generate_series(1, 200000) g"),
            "54000"
        );
    }

    #[pg_test]
    fn non_convergence_is_reported_and_recorded() {
        make_leads("leads", 1000);
        Spi::run(
            "SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"max_iter\": 1}')",
        )
        .unwrap();
        let (converged, iterations): (Option<bool>, Option<i64>) = Spi::get_two(
            "SELECT (training->>'converged')::boolean, (training->>'iterations')::bigint FROM lead_scoring.models WHERE name = 'm'",
        )
        .unwrap();
        assert_eq!(converged, Some(false));
        assert_eq!(iterations, Some(1));
    }
}
