//! What an ordinary role (NOSUPERUSER, nothing granted beyond PUBLIC's) can and cannot do: it
//! cannot change the catalog tables, cannot read a source it has no SELECT on through any
//! function that reads sources, trains only on the rows row-level security shows it, and no
//! source query can change data, not even through a function it calls.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    /// `outcome(sql)`: 'ok' or the SQLSTATE and message of its error; created before any SET ROLE.
    fn setup() {
        make_leads("leads", 600);
        train_default("m", "leads");
        Spi::run(
            "CREATE FUNCTION outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
             BEGIN EXECUTE q; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
             CREATE ROLE ls_ordinary NOSUPERUSER NOLOGIN;",
        )
        .unwrap();
    }

    fn outcome(sql: &str) -> String {
        Spi::get_one_with_args::<String>("SELECT outcome($1)", &[sql.into()]).unwrap().unwrap()
    }

    #[pg_test]
    fn an_ordinary_role_cannot_change_models_events_or_monitoring() {
        setup();
        let undeployed =
            r#"SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{"exclude": ["id"], "deploy": "never"}')"#;
        Spi::run(undeployed).unwrap();
        Spi::run("SET LOCAL ROLE ls_ordinary").unwrap();
        let statements = [
            "UPDATE lead_scoring.models SET threshold = 0.01",
            "DELETE FROM lead_scoring.models",
            "INSERT INTO lead_scoring.models (name, version) VALUES ('m', 99)",
            "UPDATE lead_scoring.model_events SET reason = 'forged'",
            "DELETE FROM lead_scoring.model_events",
            "INSERT INTO lead_scoring.model_events (model_name, event) VALUES ('m', 'deployed')",
            "UPDATE lead_scoring.monitoring SET status = 'ok'",
            "DELETE FROM lead_scoring.monitoring",
            "INSERT INTO lead_scoring.monitoring (model_name) VALUES ('m')",
            "SELECT lead_scoring.deploy('m', 2, 'mine now')",
            "SELECT lead_scoring.rollback('m', 'mine now')",
            "SELECT lead_scoring.retire('m', 2, 'mine now')",
            "SELECT lead_scoring.set_tiers('m', '{\"A\": 0.5, \"B\": 0}')",
            "SELECT * FROM lead_scoring.train('m', 'leads', 'converted')",
            "SELECT lead_scoring.approve('m', 2, 'mine now')",
            "SELECT lead_scoring.reject('m', 2, 'mine now')",
            "SELECT lead_scoring.set_card('m', owner => 'me')",
            "SELECT lead_scoring.log_decision('m', 'mine now')",
        ];
        let mut refused = 0;
        for sql in statements {
            let got = outcome(sql);
            // 42501 insufficient_privilege for the tables; the governance functions may stop
            // earlier (nothing to roll back to, the deployed version cannot be retired).
            assert!(got.starts_with("42501") || (!sql.contains(" lead_scoring.models") && got != "ok"), "{sql}: {got}");
            refused += 1;
        }
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(refused, 18);
        let unchanged = "SELECT string_agg(version || ':' || deployed || ':' || (retired_at IS NULL) || ':' || (threshold > 0.01), ',' ORDER BY version)
                           FROM lead_scoring.models";
        assert_eq!(Spi::get_one::<String>(unchanged).unwrap().as_deref(), Some("1:true:true:true,2:false:true:true"));
    }

    #[pg_test]
    fn a_source_without_select_is_refused_by_every_function_that_reads_sources() {
        setup();
        Spi::run(
            "CREATE VIEW leads_view AS SELECT * FROM leads;
             GRANT INSERT, UPDATE ON lead_scoring.models TO ls_ordinary;
             GRANT INSERT ON lead_scoring.model_events, lead_scoring.monitoring TO ls_ordinary;
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA lead_scoring TO ls_ordinary;",
        )
        .unwrap();
        Spi::run("SET LOCAL ROLE ls_ordinary").unwrap();
        let mut refused = 0;
        for source in ["leads", "leads_view", "SELECT * FROM leads"] {
            let s = source.replace('\'', "''");
            for sql in [
                format!("SELECT * FROM lead_scoring.train('m2', '{s}', 'converted', options => '{{\"exclude\": [\"id\"]}}')"),
                format!("SELECT * FROM lead_scoring.audit('{s}', 'converted')"),
                format!("SELECT * FROM lead_scoring.feature_report('{s}', 'converted')"),
                format!("SELECT lead_scoring.evaluate('m', '{s}')"),
                format!("SELECT * FROM lead_scoring.drift('m', '{s}')"),
                format!("SELECT * FROM lead_scoring.monitor('m', '{s}')"),
                format!("SELECT * FROM lead_scoring.backtest('m', '{s}', 'created_at', interval '1 day')"),
            ] {
                let got = outcome(&sql);
                assert!(got.contains("permission denied for"), "{sql}: {got}");
                refused += 1;
            }
        }
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(refused, 21);
    }

    #[pg_test]
    fn training_under_row_level_security_reads_only_the_visible_rows() {
        setup();
        Spi::run(
            "ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
             CREATE POLICY first_half ON leads FOR SELECT TO ls_ordinary USING (id <= 400);
             GRANT SELECT ON leads TO ls_ordinary;
             GRANT INSERT, UPDATE ON lead_scoring.models TO ls_ordinary;
             GRANT INSERT ON lead_scoring.model_events TO ls_ordinary;
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA lead_scoring TO ls_ordinary;",
        )
        .unwrap();
        Spi::run("SET LOCAL ROLE ls_ordinary").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('rls', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')").unwrap();
        Spi::run("RESET ROLE").unwrap();
        let rows = Spi::get_one::<i64>("SELECT (training->>'rows')::bigint FROM lead_scoring.models WHERE name = 'rls'").unwrap();
        assert_eq!(rows, Some(400));
    }

    #[pg_test]
    fn a_source_query_cannot_change_data() {
        setup();
        Spi::run(
            "CREATE TABLE victims AS SELECT * FROM leads;
             CREATE FUNCTION deleting_leads() RETURNS SETOF leads LANGUAGE plpgsql AS $$
             BEGIN DELETE FROM victims; RETURN QUERY SELECT * FROM leads; END $$;",
        )
        .unwrap();
        let mut refused = 0;
        for source in [
            "DELETE FROM victims RETURNING *",
            "WITH d AS (DELETE FROM victims RETURNING *) SELECT * FROM d",
            "SELECT * FROM deleting_leads()",
        ] {
            let s = source.replace('\'', "''");
            for sql in [
                format!("SELECT * FROM lead_scoring.train('dml', '{s}', 'converted', options => '{{\"exclude\": [\"id\"]}}')"),
                format!("SELECT lead_scoring.evaluate('m', '{s}')"),
                format!("SELECT * FROM lead_scoring.monitor('m', '{s}')"),
            ] {
                let got = outcome(&sql);
                assert_ne!(got, "ok", "{sql}");
                refused += 1;
            }
        }
        assert_eq!(refused, 9);
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM victims").unwrap(), Some(600));
        // The function's DELETE is refused as in a read-only transaction.
        let got = outcome("SELECT lead_scoring.evaluate('m', 'SELECT * FROM deleting_leads()')");
        assert!(got.starts_with("25006: cannot execute DELETE in a read-only transaction"), "{got}");
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.models WHERE name = 'dml'").unwrap(), Some(0));
    }

    #[pg_test]
    fn every_function_that_reads_a_source_runs_it_read_only() {
        setup();
        Spi::run(
            "CREATE TABLE victims AS SELECT * FROM leads;
             CREATE FUNCTION deleting_leads() RETURNS SETOF leads LANGUAGE plpgsql AS $$
             BEGIN DELETE FROM victims; RETURN QUERY SELECT * FROM leads; END $$;",
        )
        .unwrap();
        let s = "SELECT * FROM deleting_leads()";
        let calls = [
            format!("SELECT * FROM lead_scoring.train('dml', '{s}', 'converted', options => '{{\"exclude\": [\"id\"]}}')"),
            format!(
                "SELECT * FROM lead_scoring.train('dml', '{s}', 'converted', options => '{{\"exclude\": [\"id\"], \"engine\": \"aggregate\"}}')"
            ),
            format!("SELECT * FROM lead_scoring.audit('{s}', 'converted')"),
            format!("SELECT * FROM lead_scoring.feature_report('{s}')"),
            format!("SELECT lead_scoring.evaluate('m', '{s}')"),
            format!("SELECT * FROM lead_scoring.monitor('m', '{s}')"),
            format!("SELECT * FROM lead_scoring.drift('m', '{s}')"),
            format!("SELECT * FROM lead_scoring.backtest('m', '{s}', 'created_at', interval '1 week')"),
            format!("SELECT * FROM lead_scoring.compare('{s}', 'converted', 'noise', 'visits')"),
            format!("SELECT * FROM lead_scoring.lift('m', '{s}')"),
            format!("SELECT * FROM lead_scoring.roc_curve('m', '{s}')"),
            format!("SELECT * FROM lead_scoring.pr_curve('m', '{s}')"),
            format!("SELECT * FROM lead_scoring.calibration_curve('m', '{s}')"),
            format!("SELECT lead_scoring.precision_at_top('m', '{s}', 0.1)"),
        ];
        for sql in &calls {
            let got = outcome(sql);
            assert!(got.starts_with("25006: cannot execute DELETE in a read-only transaction"), "{sql}: {got}");
        }
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM victims").unwrap(), Some(600));
        // The caller's transaction is writable again after each refusal and each success.
        Spi::run("SELECT * FROM lead_scoring.audit('leads', 'converted')").unwrap();
        Spi::run("INSERT INTO victims SELECT * FROM leads LIMIT 1").unwrap();
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM victims").unwrap(), Some(601));
    }

    #[pg_test]
    fn generated_sql_is_not_hijacked_by_a_function_earlier_on_the_search_path() {
        setup();
        // A better match than pg_catalog.format(text, VARIADIC "any") for the statement
        // attach() builds to add the score column: chosen over it when unqualified.
        Spi::run(
            "CREATE TABLE hijacked (x int);
             CREATE SCHEMA evil;
             CREATE FUNCTION evil.format(text, regclass, text) RETURNS text LANGUAGE sql
               AS $$ SELECT 'INSERT INTO public.hijacked VALUES (1)' $$;
             -- ... and for the schema-qualified names attach_events() stores in its triggers.
             CREATE FUNCTION evil.format(text, name, name) RETURNS text LANGUAGE sql
               AS $$ SELECT 'public.hijacked' $$;
             CREATE TABLE ev_views (id int);
             CREATE TABLE ev_leads AS SELECT * FROM leads;
             CREATE VIEW ev_features AS SELECT * FROM ev_leads;
             SET LOCAL search_path = evil, public;",
        )
        .unwrap();
        Spi::run("SELECT lead_scoring.attach('leads', 'm')").unwrap();
        Spi::run("SELECT lead_scoring.attach_events('ev_views', 'ev_leads', 'id', 'm', 'ev_features')").unwrap();
        let stored = Spi::get_one::<String>(
            "SELECT encode(tgargs, 'escape') FROM pg_trigger WHERE tgrelid = 'ev_views'::regclass AND NOT tgisinternal",
        )
        .unwrap()
        .unwrap();
        assert!(stored.starts_with("public.ev_leads\\000id\\000m\\000public.ev_features\\000"), "{stored}");
        Spi::run("RESET search_path").unwrap();
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM hijacked").unwrap(), Some(0));
        assert_eq!(Spi::get_one::<i64>("SELECT count(lead_score) FROM leads").unwrap(), Some(0));
    }

    #[pg_test]
    fn operators_earlier_on_the_search_path_are_never_called() {
        setup();
        // attach_events() with a varchar key, set up before the operators below exist (the
        // view's own `=` is bound when it is created).
        Spi::run(
            "CREATE TABLE ev_views (lead_key varchar);
             CREATE TABLE ev_leads AS SELECT id::varchar AS lead_key, source, opted_in, noise FROM leads;
             CREATE VIEW ev_features AS
             SELECT l.lead_key, l.source, l.opted_in, l.noise,
                    (SELECT count(*) FROM ev_views v WHERE v.lead_key = l.lead_key)::int AS visits
               FROM ev_leads l;
             SELECT lead_scoring.attach_events('ev_views', 'ev_leads', 'lead_key', 'm', 'ev_features', alerts => false);",
        )
        .unwrap();
        // Better matches than pg_catalog's `=` for a numeric label compared with an integer:
        // chosen over it when generated SQL writes an unqualified `=` with mixed types. Each
        // records that it ran in a setting (allowed in the read-only source queries).
        Spi::run(
            "CREATE TABLE nleads AS SELECT *, converted::int::numeric AS won,
                    CASE WHEN id % 5 = 0 THEN 'test' WHEN id % 5 = 1 THEN 'validation' ELSE 'train' END AS part FROM leads;
             CREATE SCHEMA evil;
             CREATE FUNCTION evil.eq_float8_int4(float8, int4) RETURNS bool LANGUAGE plpgsql SET search_path = pg_catalog
               AS $$ BEGIN PERFORM set_config('evil.called', 'float8 = int4', false); RETURN $1 = $2; END $$;
             CREATE OPERATOR evil.= (LEFTARG = float8, RIGHTARG = int4, FUNCTION = evil.eq_float8_int4);
             CREATE FUNCTION evil.eq_numeric_int4(numeric, int4) RETURNS bool LANGUAGE plpgsql SET search_path = pg_catalog
               AS $$ BEGIN PERFORM set_config('evil.called', 'numeric = int4', false); RETURN $1 = $2; END $$;
             CREATE OPERATOR evil.= (LEFTARG = numeric, RIGHTARG = int4, FUNCTION = evil.eq_numeric_int4);
             CREATE FUNCTION evil.eq_varchar(varchar, varchar) RETURNS bool LANGUAGE plpgsql SET search_path = pg_catalog
               AS $$ BEGIN PERFORM set_config('evil.called', 'varchar = varchar', false); RETURN $1::text = $2::text; END $$;
             CREATE OPERATOR evil.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = evil.eq_varchar);
             SELECT set_config('evil.called', '', false);
             SET LOCAL search_path = evil, public;",
        )
        .unwrap();
        // The operators work, so a call that reached them would be seen.
        assert_eq!(Spi::get_one::<bool>("SELECT 1::numeric = 1").unwrap(), Some(true));
        assert_eq!(Spi::get_one::<String>("SELECT current_setting('evil.called')").unwrap().as_deref(), Some("numeric = int4"));
        Spi::run("SELECT set_config('evil.called', '', false)").unwrap();
        for sql in [
            "SELECT * FROM lead_scoring.train('n_mem', 'nleads', 'won', options => '{\"exclude\": [\"id\", \"converted\"]}')",
            "SELECT * FROM lead_scoring.train('n_agg', 'nleads', 'won', options => '{\"exclude\": [\"id\", \"converted\"], \"engine\": \"aggregate\",
                                  \"split\": {\"method\": \"column\", \"column\": \"part\"}}')",
            "SELECT * FROM lead_scoring.compare('nleads', 'won', 'noise', 'visits')",
            "SELECT lead_scoring.evaluate('n_agg', 'nleads')",
            "SELECT * FROM lead_scoring.monitor('n_agg', 'nleads')",
            "SELECT * FROM lead_scoring.backtest('n_agg', 'nleads', 'created_at', interval '1 week')",
            "SELECT * FROM lead_scoring.audit('nleads', 'won')",
            "SELECT * FROM lead_scoring.optimal_threshold('n_agg', 'f1')",
            // The attach_events() statement trigger, fired by whoever inserts events.
            "INSERT INTO ev_views SELECT '7'::varchar FROM generate_series(1, 6)",
        ] {
            Spi::run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let called = Spi::get_one::<String>("SELECT current_setting('evil.called')").unwrap();
            assert_eq!(called.as_deref(), Some(""), "{sql} called the operator evil.=");
        }
        // ... and it did rescore the lead, exactly as score() on the view.
        let (got, expected) = Spi::get_two::<f64, f64>(
            "SELECT l.lead_score, lead_scoring.score('m', f) FROM ev_leads l JOIN ev_features f USING (lead_key) WHERE l.lead_key = '7'",
        )
        .unwrap();
        assert!(got.is_some() && got == expected, "{got:?} vs {expected:?}");
    }

    #[pg_test]
    fn catalog_queries_use_pg_catalog_even_when_the_search_path_lists_it_late() {
        setup();
        // With pg_catalog listed after `evil`, an unqualified `=` on text or int4 in a catalog
        // query would resolve to these spies (exact matches, found first).
        Spi::run(
            "CREATE SCHEMA evil;
             CREATE FUNCTION evil.eq_text(text, text) RETURNS bool LANGUAGE plpgsql SET search_path = pg_catalog
               AS $$ BEGIN PERFORM set_config('evil.called', 'text = text', false); RETURN $1 = $2; END $$;
             CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.eq_text);
             CREATE FUNCTION evil.eq_int4(int4, int4) RETURNS bool LANGUAGE plpgsql SET search_path = pg_catalog
               AS $$ BEGIN PERFORM set_config('evil.called', 'int4 = int4', false); RETURN $1 = $2; END $$;
             CREATE OPERATOR evil.= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = evil.eq_int4);
             SELECT set_config('evil.called', '', false);
             SET LOCAL search_path = evil, pg_catalog, public;",
        )
        .unwrap();
        assert_eq!(Spi::get_one::<bool>("SELECT 'a'::text = 'a'::text").unwrap(), Some(true));
        assert_eq!(Spi::get_one::<String>("SELECT current_setting('evil.called')").unwrap().as_deref(), Some("text = text"));
        Spi::run("SELECT set_config('evil.called', '', false)").unwrap();
        for sql in [
            "SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"deploy\": \"never\"}')",
            "SELECT lead_scoring.deploy('m', 2, 'checked')",
            "SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"deploy\": \"never\", \"skip_unchanged\": true}')",
            "SELECT lead_scoring.rollback('m', 'back')",
            "SELECT lead_scoring.score('m@2', l) FROM leads l LIMIT 5",
            "SELECT lead_scoring.tier('m', l) FROM leads l LIMIT 5",
            "SELECT lead_scoring.model_card('m')",
            "SELECT lead_scoring.flag('m', '7', true, 'rep says so')",
            "SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"use_feedback\": true, \"key\": \"id\", \"deploy\": \"never\"}')",
            "SELECT lead_scoring.retire('m', 2, 'old')",
        ] {
            Spi::run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let called = Spi::get_one::<String>("SELECT current_setting('evil.called')").unwrap();
            assert_eq!(called.as_deref(), Some(""), "{sql} called the operator evil.=");
        }
        // The caller's own path is back after each call, and after an ERROR raised while it was
        // pinned and caught by the caller.
        assert_eq!(Spi::get_one::<String>("SHOW search_path").unwrap().as_deref(), Some("evil, pg_catalog, public"));
        let missing = outcome("SELECT lead_scoring.score('no_such_model', l) FROM leads l");
        assert!(missing.starts_with("42704"), "{missing}");
        assert_eq!(Spi::get_one::<String>("SHOW search_path").unwrap().as_deref(), Some("evil, pg_catalog, public"));
    }

    #[pg_test]
    fn a_model_belongs_to_the_role_that_trained_it_first() {
        setup();
        Spi::run(
            "CREATE ROLE ls_admin NOLOGIN;
             GRANT SELECT ON leads TO ls_admin;
             GRANT INSERT, UPDATE ON lead_scoring.models TO ls_admin;
             GRANT INSERT ON lead_scoring.model_events TO ls_admin;
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA lead_scoring TO ls_admin;
             CREATE ROLE ls_alice NOLOGIN IN ROLE ls_admin;
             CREATE ROLE ls_bob NOLOGIN IN ROLE ls_admin;
             SET LOCAL ROLE ls_alice;
             SELECT * FROM lead_scoring.train('alices', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}');
             SELECT * FROM lead_scoring.train('alices', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"deploy\": \"never\"}');
             RESET ROLE;",
        )
        .unwrap();
        let changes = [
            "SELECT lead_scoring.deploy('alices', 2, 'mine now')",
            "SELECT lead_scoring.retire('alices', 2, 'mine now')",
            "SELECT lead_scoring.rollback('alices', 'mine now')",
            "SELECT lead_scoring.set_tiers('alices', '{\"A\": 0.5, \"B\": 0}')",
            "SELECT * FROM lead_scoring.train('alices', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')",
            "SELECT lead_scoring.deploy('m', 1, 'the superuser''s model')",
        ];
        Spi::run("SET LOCAL ROLE ls_bob").unwrap();
        let mut refused = 0;
        for sql in changes {
            let got = outcome(sql);
            assert!(got.starts_with("42501: only the role that trained model \""), "{sql}: {got}");
            refused += 1;
        }
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(refused, 6);
        // A member of the owner may change it, and so may a superuser.
        Spi::run("GRANT ls_alice TO ls_bob; SET LOCAL ROLE ls_bob").unwrap();
        assert_eq!(outcome("SELECT lead_scoring.deploy('alices', 2, 'on behalf of alice')"), "ok");
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(outcome("SELECT lead_scoring.rollback('alices', 'superuser')"), "ok");
        let deployed = Spi::get_one::<i32>("SELECT version FROM lead_scoring.models WHERE name = 'alices' AND deployed").unwrap();
        assert_eq!(deployed, Some(1));
    }
}
