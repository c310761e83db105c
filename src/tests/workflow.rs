//! CRM workflow: the rescoring trigger (attach / detach), rescore(), attach_events() and
//! create_scored_view(), with their errors and hostile names.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    fn setup() {
        make_leads("leads", 1000);
        train_default("m", "leads");
    }

    fn count(sql: &str) -> i64 {
        Spi::get_one::<i64>(sql).expect("query").expect("a count")
    }

    /// Rows whose stored score or tier differ from what score()/tier() say now.
    fn stale_rows(table: &str) -> i64 {
        count(&format!(
            "SELECT count(*) FROM {table} l
              WHERE lead_score IS DISTINCT FROM lead_scoring.score('m', l)
                 OR lead_tier IS DISTINCT FROM lead_scoring.tier('m', l)"
        ))
    }

    #[pg_test]
    fn attach_scores_multi_row_insert_and_creates_columns() {
        setup();
        let name = Spi::get_one::<String>("SELECT lead_scoring.attach('leads', 'm')").unwrap().unwrap();
        assert_eq!(name, "lead_scoring_m");
        assert_eq!(
            Spi::get_one::<String>("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'lead_score'").unwrap().as_deref(),
            Some("double precision")
        );
        Spi::run(
            "INSERT INTO leads (id, email, visits, source, opted_in, noise, created_at)
             VALUES (5001, 'a@x', 9, 'Reference', true, 0.5, now()), (5002, 'b@x', 0, 'Google', false, 0.1, now()),
                    (5003, 'c@x', NULL, NULL, NULL, 0.2, now())",
        )
        .unwrap();
        assert_eq!(count("SELECT count(*) FROM leads WHERE id > 5000 AND lead_score IS NOT NULL AND lead_tier IS NOT NULL"), 3);
        assert_eq!(stale_rows("(SELECT * FROM leads WHERE id > 5000)"), 0);
        // The planted signal: many visits from a reference beat no visits from Google.
        assert_eq!(
            Spi::get_one::<bool>(
                "SELECT (SELECT lead_score FROM leads WHERE id = 5001) > (SELECT lead_score FROM leads WHERE id = 5002)"
            )
            .unwrap(),
            Some(true)
        );
    }

    #[pg_test]
    fn update_rescores_only_when_a_feature_changes() {
        setup();
        Spi::run("SELECT lead_scoring.attach('leads', 'm')").unwrap();
        Spi::run("UPDATE leads SET lead_score = 0.123, lead_tier = 'manual' WHERE id = 1").unwrap();
        // The label is not a feature: the trigger keeps the stored values.
        Spi::run("UPDATE leads SET converted = NOT converted WHERE id = 1").unwrap();
        let kept = Spi::get_one::<f64>("SELECT lead_score FROM leads WHERE id = 1").unwrap().unwrap();
        assert_eq!(kept, 0.123);
        // A feature changes: the trigger recomputes.
        Spi::run("UPDATE leads SET visits = coalesce(visits, 0) + 1 WHERE id = 1").unwrap();
        assert_eq!(stale_rows("(SELECT * FROM leads WHERE id = 1)"), 0);
        // A NULL score is always filled, even when no feature changed.
        Spi::run("UPDATE leads SET converted = converted WHERE id = 2").unwrap();
        assert_eq!(stale_rows("(SELECT * FROM leads WHERE id = 2)"), 0);
    }

    #[pg_test]
    fn copy_of_100000_rows_into_an_attached_table() {
        setup();
        Spi::run("CREATE TABLE incoming (LIKE leads)").unwrap();
        Spi::run("SELECT lead_scoring.attach('incoming', 'm', 'p', 'band')").unwrap();
        let file =
            format!("/tmp/lead_scoring_copy_test_{}.csv", Spi::get_one::<i32>("SELECT pg_backend_pid()").unwrap().unwrap());
        Spi::run(&format!(
            "COPY (SELECT i, 'l' || i || '@x', i % 10, (ARRAY['Google', 'Reference', 'Select'])[1 + i % 3], i % 2 = 0,
                          (i % 97) / 97.0, timestamptz '2025-01-01' + i * interval '1 minute', NULL
                     FROM generate_series(1, 100000) i) TO '{file}' (FORMAT csv)"
        ))
        .unwrap();
        // The server removes its file once read (it is the server's, not this process's, to delete).
        Spi::run(&format!(
            "COPY incoming (id, email, visits, source, opted_in, noise, created_at, converted) FROM PROGRAM 'cat {file} && rm -f {file}' (FORMAT csv)"
        ))
        .unwrap();
        assert_eq!(count("SELECT count(*) FROM incoming WHERE p IS NOT NULL AND band IS NOT NULL"), 100_000);
        assert_eq!(
            count("SELECT count(*) FROM incoming l WHERE p IS DISTINCT FROM lead_scoring.score('m', l) OR band IS DISTINCT FROM lead_scoring.tier('m', l)"),
            0
        );
        assert!(count("SELECT count(DISTINCT band) FROM incoming") >= 2);
    }

    #[pg_test]
    fn rescore_after_deploy_is_one_update() {
        setup();
        Spi::run("SELECT lead_scoring.attach('leads', 'm')").unwrap();
        assert_eq!(Spi::get_one::<i64>("SELECT lead_scoring.rescore('leads', 'm')").unwrap(), Some(1000));
        assert_eq!(stale_rows("leads"), 0);
        // The score columns are in the table now; a retrain leaves them out by itself.
        Spi::run("SELECT version FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"alpha\": 300}')").unwrap();
        Spi::run("SELECT lead_scoring.deploy('m', 2, 'stronger regularization')").unwrap();
        assert_eq!(stale_rows("leads"), 1000, "version 2 scores differently from version 1");
        assert_eq!(Spi::get_one::<i64>("SELECT lead_scoring.rescore('leads', 'm')").unwrap(), Some(1000));
        assert_eq!(stale_rows("leads"), 0);
    }

    #[pg_test]
    fn retraining_on_an_attached_table_leaves_its_score_columns_out() {
        setup();
        Spi::run("ALTER TABLE leads ADD COLUMN p_history float8[]").unwrap();
        Spi::run("SELECT lead_scoring.attach('leads', 'm', 'p', 'band')").unwrap();
        Spi::run("SELECT lead_scoring.rescore('leads', 'm')").unwrap();
        let features = |model: &str| -> Vec<String> {
            Spi::get_one::<Vec<String>>(&format!(
                "SELECT array_agg(f->>'name' ORDER BY f->>'name') FROM lead_scoring.models, jsonb_array_elements(features) f WHERE name = '{model}'"
            ))
            .unwrap()
            .unwrap()
        };
        Spi::run("SELECT lead_scoring.train('again', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')").unwrap();
        let automatic = features("again");
        assert!(!automatic.iter().any(|f| f == "p" || f == "band"), "{automatic:?}");
        assert_eq!(automatic, features("m"), "the same features as before the table had scores");
        // Named on purpose (a model built on another's score), a score column is used.
        Spi::run("SELECT lead_scoring.train('stacked', 'leads', 'converted', ARRAY['p', 'visits'])").unwrap();
        assert_eq!(features("stacked"), vec!["p".to_string(), "visits".to_string()]);
    }

    #[pg_test]
    fn detach_removes_the_trigger_and_keeps_the_columns() {
        setup();
        Spi::run("SELECT lead_scoring.attach('leads', 'm')").unwrap();
        assert_eq!(Spi::get_one::<bool>("SELECT lead_scoring.detach('leads', 'm')").unwrap(), Some(true));
        Spi::run("INSERT INTO leads (id, visits, source) VALUES (9001, 5, 'Google')").unwrap();
        assert_eq!(count("SELECT count(*) FROM leads WHERE id = 9001 AND lead_score IS NULL"), 1);
        assert_eq!(count("SELECT count(*) FROM lead_scoring.model_events WHERE event IN ('attached', 'detached')"), 2);
    }

    #[pg_test]
    fn hostile_table_and_column_names() {
        setup();
        Spi::run(r#"CREATE TABLE "Lead's ""Table""; DROP TABLE leads; --" AS SELECT * FROM leads"#).unwrap();
        let t = r#"'"Lead''s ""Table""; DROP TABLE leads; --"'"#;
        Spi::run(&format!(r#"SELECT lead_scoring.attach({t}, 'm', 'score"; DROP TABLE leads; --', 'Tier '' x')"#)).unwrap();
        Spi::run(&format!("SELECT lead_scoring.rescore({t}, 'm')")).unwrap();
        assert_eq!(
            count(&format!(
                r#"SELECT count(*) FROM {} l WHERE "score""; DROP TABLE leads; --" = lead_scoring.score('m', l) AND "Tier ' x" = lead_scoring.tier('m', l)"#,
                r#""Lead's ""Table""; DROP TABLE leads; --""#
            )),
            1000
        );
        Spi::run(&format!(r#"SELECT lead_scoring.create_scored_view('"Scored; DROP TABLE leads"', {t}, 'm')"#)).unwrap();
        assert_eq!(count(r#"SELECT count(*) FROM "Scored; DROP TABLE leads""#), 1000);
        assert_eq!(count("SELECT count(*) FROM leads"), 1000);
    }

    #[pg_test]
    fn attach_events_rescores_the_lead_an_event_belongs_to() {
        setup();
        Spi::run("CREATE TABLE page_views (lead_id int, at timestamptz DEFAULT now())").unwrap();
        Spi::run("CREATE TABLE crm_leads AS SELECT id AS lead_id, source, opted_in, noise FROM leads").unwrap();
        Spi::run(
            "CREATE VIEW lead_features AS
             SELECT l.lead_id, l.source, l.opted_in, l.noise,
                    (SELECT count(*) FROM page_views v WHERE v.lead_id = l.lead_id)::int AS visits
               FROM crm_leads l",
        )
        .unwrap();
        let installed = Spi::get_one::<Vec<String>>(
            "SELECT lead_scoring.attach_events('page_views', 'crm_leads', 'lead_id', 'm', 'lead_features')",
        )
        .unwrap()
        .unwrap();
        assert_eq!(installed.len(), 3);
        Spi::run("SELECT lead_scoring.rescore('crm_leads', 'm')").unwrap();
        let before = Spi::get_one::<f64>("SELECT lead_score FROM crm_leads WHERE lead_id = 7").unwrap().unwrap();
        Spi::run("INSERT INTO page_views (lead_id) SELECT 7 FROM generate_series(1, 6)").unwrap();
        let after = Spi::get_one::<f64>("SELECT lead_score FROM crm_leads WHERE lead_id = 7").unwrap().unwrap();
        let expected =
            Spi::get_one::<f64>("SELECT lead_scoring.score('m', f) FROM lead_features f WHERE lead_id = 7").unwrap().unwrap();
        assert!(after > before, "six visits raise the score: {before} -> {after}");
        assert_eq!(after, expected);
        // A new lead is scored from the view when it is inserted.
        Spi::run("INSERT INTO crm_leads VALUES (7777, 'Reference', true, 0.5)").unwrap();
        assert_eq!(count("SELECT count(*) FROM crm_leads WHERE lead_id = 7777 AND lead_tier IS NOT NULL"), 1);
        assert_eq!(Spi::get_one::<bool>("SELECT lead_scoring.detach('page_views', 'm')").unwrap(), Some(true));
        assert_eq!(Spi::get_one::<bool>("SELECT lead_scoring.detach('crm_leads', 'm')").unwrap(), Some(true));
    }

    #[pg_test(error = "feature view lead_features has no column \"visits\", which model \"m@1\" needs")]
    fn attach_events_needs_the_features_in_the_view() {
        setup();
        Spi::run("CREATE TABLE page_views (id int)").unwrap();
        Spi::run("CREATE VIEW lead_features AS SELECT id, source FROM leads").unwrap();
        Spi::run("SELECT lead_scoring.attach_events('page_views', 'leads', 'id', 'm', 'lead_features')").unwrap();
    }

    #[pg_test(error = "events and target must be different tables; use attach() to score a table from its own rows")]
    fn attach_events_to_itself() {
        setup();
        Spi::run("SELECT lead_scoring.attach_events('leads', 'leads', 'id', 'm', 'leads')").unwrap();
    }

    #[pg_test(error = "lead_scoring.score_lead_row() takes 6 trigger arguments; create it with lead_scoring.attach()")]
    fn trigger_created_by_hand_with_too_few_arguments() {
        setup();
        Spi::run(
            "CREATE TABLE by_hand (LIKE leads); ALTER TABLE by_hand ADD COLUMN lead_score float8, ADD COLUMN lead_tier text",
        )
        .unwrap();
        Spi::run("CREATE TRIGGER t BEFORE INSERT ON by_hand FOR EACH ROW EXECUTE FUNCTION lead_scoring.score_lead_row('m')")
            .unwrap();
        Spi::run("INSERT INTO by_hand SELECT * FROM leads LIMIT 1").unwrap();
    }

    #[pg_test(error = "lead_scoring.score_lead_row() must run as a BEFORE INSERT OR UPDATE ... FOR EACH ROW trigger")]
    fn trigger_created_by_hand_as_an_after_trigger() {
        setup();
        Spi::run(
            "CREATE TABLE by_hand (LIKE leads); ALTER TABLE by_hand ADD COLUMN lead_score float8, ADD COLUMN lead_tier text",
        )
        .unwrap();
        Spi::run(
            "CREATE TRIGGER t AFTER INSERT ON by_hand FOR EACH ROW
               EXECUTE FUNCTION lead_scoring.score_lead_row('m', 'lead_score', 'lead_tier', '', '', 'no_alerts')",
        )
        .unwrap();
        Spi::run("INSERT INTO by_hand SELECT * FROM leads LIMIT 1").unwrap();
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn attach_unknown_model() {
        setup();
        Spi::run("SELECT lead_scoring.attach('leads', 'nope')").unwrap();
    }

    #[pg_test(error = "table thin has no column \"visits\", which model \"m@1\" needs")]
    fn attach_to_a_table_without_the_features() {
        setup();
        Spi::run("CREATE TABLE thin (id int, source text)").unwrap();
        Spi::run("SELECT lead_scoring.attach('thin', 'm')").unwrap();
    }

    #[pg_test(error = "column \"noise\" of leads has type double precision, but lead_scoring writes text there")]
    fn attach_with_a_tier_column_of_the_wrong_type() {
        setup();
        Spi::run("SELECT lead_scoring.attach('leads', 'm', 'lead_score', 'noise')").unwrap();
    }

    #[pg_test(error = "model \"m\" is not attached to leads")]
    fn rescore_needs_an_attachment() {
        setup();
        Spi::run("SELECT lead_scoring.rescore('leads', 'm')").unwrap();
    }

    #[pg_test(error = "model \"m\" is not attached to leads")]
    fn detach_what_is_not_attached() {
        setup();
        Spi::run("SELECT lead_scoring.detach('leads', 'm')").unwrap();
    }

    #[pg_test(error = "model_name must not be NULL")]
    fn attach_null_model() {
        setup();
        Spi::run("SELECT lead_scoring.attach('leads', NULL)").unwrap();
    }

    #[pg_test(error = "column \"lead_score\" of leads does not exist, but its lead_scoring trigger writes it")]
    fn trigger_after_its_column_was_dropped() {
        setup();
        Spi::run("SELECT lead_scoring.attach('leads', 'm')").unwrap();
        Spi::run("ALTER TABLE leads DROP COLUMN lead_score").unwrap();
        Spi::run("INSERT INTO leads (id, visits) VALUES (9002, 1)").unwrap();
    }

    #[pg_test]
    fn scored_view_adds_score_score_100_and_tier() {
        setup();
        let name = Spi::get_one::<String>("SELECT lead_scoring.create_scored_view('scored_leads', 'leads', 'm')").unwrap();
        assert_eq!(name.as_deref(), Some("scored_leads"));
        assert_eq!(
            count(
                "SELECT count(*) FROM scored_leads v JOIN leads l USING (id)
                    WHERE v.score = lead_scoring.score('m', l) AND v.score_100 = round(v.score * 100)
                      AND v.tier = lead_scoring.tier('m', l)"
            ),
            1000
        );
        // top_reasons matches the function's answer for the same lead.
        assert_eq!(
            count(
                "SELECT count(*) FROM scored_leads v JOIN leads l USING (id)
                    WHERE v.top_reasons = lead_scoring.top_reasons('m', l, 3)
                      AND jsonb_array_length(v.top_reasons->'positive') <= 3"
            ),
            1000
        );
    }

    #[pg_test(error = "source \"no_such_table\" does not exist")]
    fn scored_view_of_a_missing_source() {
        setup();
        Spi::run("SELECT lead_scoring.create_scored_view('v', 'no_such_table', 'm')").unwrap();
    }

    #[pg_test(error = "source leads already has a column \"score\", which the scored view adds")]
    fn scored_view_name_clash() {
        setup();
        Spi::run("ALTER TABLE leads ADD COLUMN score int").unwrap();
        Spi::run("SELECT lead_scoring.create_scored_view('v', 'leads', 'm')").unwrap();
    }
}
