//! Round trips: train, score, tier, evaluate, deploy.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    #[pg_test]
    fn the_same_rows_in_another_order_give_the_same_split_and_model() {
        make_leads("leads", 2000);
        let metrics = |model: &str| {
            Spi::get_one::<pgrx::JsonB>(&format!(
                "SELECT metrics FROM lead_scoring.train('{model}', 'leads', 'converted', options => '{{\"exclude\": [\"id\"]}}')"
            ))
            .unwrap()
            .unwrap()
            .0
        };
        let first = metrics("before");
        // An UPDATE of every third row moves those rows to the end of the table's scan order.
        Spi::run("UPDATE leads SET noise = noise WHERE id % 3 = 0").unwrap();
        let moved = Spi::get_one::<bool>(
            "SELECT array_agg(id) <> (SELECT array_agg(id ORDER BY id) FROM leads) FROM (SELECT id FROM leads) s",
        )
        .unwrap();
        assert_eq!(moved, Some(true), "the scan order changed");
        assert_eq!(metrics("after"), first);
        // The artifacts differ only in the model name they are bound to: the decoded models
        // (coefficients, levels, scaling, calibration) are the same.
        let model = |name: &str| {
            let bytes =
                Spi::get_one_with_args::<Vec<u8>>("SELECT artifact FROM lead_scoring.models WHERE name = $1", &[name.into()]);
            crate::core::models::decode_model(&bytes.unwrap().unwrap()).unwrap()
        };
        assert_eq!(model("before"), model("after"), "the same model");
    }

    #[pg_test]
    fn train_returns_metrics_and_deploys_the_first_version() {
        make_leads("leads", 3000);
        let (version, deployed, auc): (Option<i32>, Option<bool>, Option<f64>) = Spi::get_three(
            "SELECT version, deployed, (metrics->'test'->>'roc_auc')::float8
               FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')",
        )
        .unwrap();
        assert_eq!(version, Some(1));
        assert_eq!(deployed, Some(true));
        assert!(auc.unwrap() > 0.7, "test AUC {auc:?}");
        let events = Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.model_events WHERE model_name = 'm'").unwrap();
        assert_eq!(events, Some(3), "deploy_decision + trained + deployed");
    }

    #[pg_test]
    fn score_tier_and_evaluate_agree() {
        make_leads("leads", 3000);
        train_default("m", "leads");
        let (min, max, n): (Option<f64>, Option<f64>, Option<i64>) =
            Spi::get_three("SELECT min(p), max(p), count(p) FROM (SELECT lead_scoring.score('m', l) AS p FROM leads l) s")
                .unwrap();
        assert_eq!(n, Some(3000));
        assert!(min.unwrap() > 0.0 && max.unwrap() < 1.0);

        // jsonb overload gives the same probability as the row overload.
        let diff = Spi::get_one::<f64>(
            "SELECT max(abs(lead_scoring.score('m', l) - lead_scoring.score('m', to_jsonb(l)))) FROM leads l",
        )
        .unwrap();
        assert!(diff.unwrap() < 1e-12);

        // Tiers follow the stored threshold: hot exactly when score >= threshold.
        let mismatched = Spi::get_one::<i64>(
            "SELECT count(*) FROM leads l, lead_scoring.models m
              WHERE m.name = 'm' AND (lead_scoring.tier('m', l) = 'hot') <> (lead_scoring.score('m', l) >= m.threshold)",
        )
        .unwrap();
        assert_eq!(mismatched, Some(0));
        let tiers = Spi::get_one::<i64>("SELECT count(DISTINCT lead_scoring.tier('m', l)) FROM leads l").unwrap();
        assert_eq!(tiers, Some(3), "hot, warm and cold all occur");
        assert_eq!(
            Spi::get_one::<String>(
                "SELECT lead_scoring.tier('m', to_jsonb(l)) FROM leads l ORDER BY lead_scoring.score('m', l) DESC LIMIT 1"
            )
            .unwrap()
            .as_deref(),
            Some("hot")
        );

        // evaluate() over the whole table matches metrics computed from score() by the core.
        let eval = Spi::get_one::<pgrx::JsonB>("SELECT lead_scoring.evaluate('m', 'leads')").unwrap().unwrap().0;
        let rows: Vec<(f64, bool)> = Spi::connect(|c| {
            c.select("SELECT lead_scoring.score('m', l), converted FROM leads l", None, &[])
                .unwrap()
                .map(|r| (r.get::<f64>(1).unwrap().unwrap(), r.get::<bool>(2).unwrap().unwrap()))
                .collect()
        });
        let (s, l): (Vec<f64>, Vec<bool>) = rows.into_iter().unzip();
        let auc = crate::core::evaluation::roc_auc(&s, &l).unwrap();
        assert!((eval["roc_auc"].as_f64().unwrap() - auc).abs() < 1e-12);
        assert_eq!(eval["rows"], 3000);
        assert_eq!(eval["model"], "m@1");
    }

    #[pg_test]
    fn versions_deploy_and_the_cache_follows() {
        make_leads("leads", 2000);
        train_default("m", "leads");
        let v2 = Spi::get_two::<i32, bool>(
            "SELECT version, deployed FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"alpha\": 200, \"deploy\": \"never\"}')",
        )
        .unwrap();
        assert_eq!(v2, (Some(2), Some(false)), "with options.deploy = never a second version does not deploy itself");
        let first = "SELECT lead_scoring.score('m', l) FROM leads l WHERE id = 1";
        let p_live = Spi::get_one::<f64>(first).unwrap().unwrap();
        let p1 = Spi::get_one::<f64>(&first.replace("'m'", "'m@1'")).unwrap().unwrap();
        let p2 = Spi::get_one::<f64>(&first.replace("'m'", "'m@2'")).unwrap().unwrap();
        assert_eq!(p_live, p1);
        assert_ne!(p1, p2);

        let deployed =
            Spi::get_one::<pgrx::JsonB>("SELECT lead_scoring.deploy('m', 2, 'stronger regularization')").unwrap().unwrap().0;
        assert_eq!(deployed["previous_version"], 1);
        assert_eq!(Spi::get_one::<f64>(first).unwrap().unwrap(), p2, "score follows the deployed version at once");
        let reason = Spi::get_one::<String>(
            "SELECT reason FROM lead_scoring.model_events WHERE model_name = 'm' AND event = 'deployed' AND version = 2",
        )
        .unwrap();
        assert_eq!(reason.as_deref(), Some("stronger regularization"));
        let overview =
            Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.model_overview WHERE name = 'm' AND deployed AND version = 2")
                .unwrap();
        assert_eq!(overview, Some(1));
    }

    #[pg_test]
    fn every_split_method_trains_and_is_recorded() {
        make_leads("leads", 2000);
        Spi::run("ALTER TABLE leads ADD COLUMN company text; UPDATE leads SET company = 'c' || (id % 97)").unwrap();
        Spi::run("ALTER TABLE leads ADD COLUMN part text; UPDATE leads SET part = CASE id % 10 WHEN 0 THEN 'test' WHEN 1 THEN 'validation' ELSE 'train' END").unwrap();
        for (split, test_rows) in [
            (r#""random""#, Some(200)),
            (r#"{"method": "time", "column": "created_at"}"#, Some(200)),
            (r#"{"method": "group", "column": "company"}"#, None),
            (r#"{"method": "column", "column": "part"}"#, Some(200)),
            (r#"{"method": "stratified", "seed": 7, "train": 0.6, "validation": 0.2}"#, Some(400)),
        ] {
            let opts = format!(r#"{{"split": {split}, "exclude": ["id", "company", "part"]}}"#);
            let version = Spi::get_one::<i32>(&format!(
                "SELECT version FROM lead_scoring.train('s', 'leads', 'converted', options => '{opts}')"
            ))
            .unwrap();
            let (method, rows): (Option<String>, Option<i64>) = Spi::get_two_with_args(
                "SELECT split->>'method', (training->'parts'->'test'->>'rows')::bigint
               FROM lead_scoring.models WHERE name = 's' AND version = $1",
                &[version.into()],
            )
            .unwrap();
            assert!(method.is_some());
            if let Some(expected) = test_rows {
                assert_eq!(rows, Some(expected), "{split}");
            }
        }
        // The time split's test part is the newest 10%.
        let newest = Spi::get_one::<pgrx::JsonB>(
            "SELECT lead_scoring.evaluate('s@2', 'SELECT * FROM leads ORDER BY created_at DESC LIMIT 200')",
        )
        .unwrap()
        .unwrap()
        .0;
        let stored = Spi::get_one::<f64>(
            "SELECT (metrics->'test'->>'log_loss')::float8 FROM lead_scoring.models WHERE name = 's' AND version = 2",
        )
        .unwrap()
        .unwrap();
        assert!((newest["log_loss"].as_f64().unwrap() - stored).abs() < 1e-9);
    }

    #[pg_test]
    fn labels_features_and_options_variants() {
        make_leads("leads", 2000);
        // Integer 0/1 label, text label with positive_label, a SELECT query as the source.
        Spi::run("ALTER TABLE leads ADD COLUMN won int, ADD COLUMN stage text").unwrap();
        Spi::run("UPDATE leads SET won = converted::int, stage = CASE WHEN converted THEN 'Closed Won' ELSE 'Lost' END").unwrap();
        let auc = |sql: &str| {
            Spi::get_one::<f64>(&format!("SELECT (metrics->'test'->>'roc_auc')::float8 FROM {sql}")).unwrap().unwrap()
        };
        let a = auc("lead_scoring.train('a', 'leads', 'won', ARRAY['visits', 'source', 'opted_in', 'noise'])");
        let b = auc("lead_scoring.train('b', 'leads', 'stage', ARRAY['visits', 'source', 'opted_in', 'noise'], options => '{\"positive_label\": \"Closed Won\"}')");
        let c = auc("lead_scoring.train('c', 'SELECT visits, source, opted_in, noise, converted FROM leads', 'converted')");
        assert!((a - b).abs() < 1e-12 && (a - c).abs() < 1e-12, "{a} {b} {c}");

        // Automatic features: email (unique text) is skipped, the timestamp is skipped, placeholders pooled.
        let features =
            Spi::get_one::<pgrx::JsonB>("SELECT features FROM lead_scoring.models WHERE name = 'c'").unwrap().unwrap().0;
        let names: Vec<&str> = features.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["visits", "source", "opted_in", "noise"]);
        let source_levels = &features[1]["levels"];
        assert!(source_levels.as_array().unwrap().iter().any(|l| l == "(missing)"), "'Select' is missing: {source_levels}");
        assert!(features[0]["missing_indicator"].as_bool().unwrap());
        Spi::run("SELECT * FROM lead_scoring.train('d', 'leads', 'converted', options => '{\"exclude\": [\"id\", \"won\", \"stage\"]}')").unwrap();
        let auto = Spi::get_one::<pgrx::JsonB>("SELECT features FROM lead_scoring.models WHERE name = 'd'").unwrap().unwrap().0;
        let auto_names: Vec<&str> = auto.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(auto_names, vec!["visits", "source", "opted_in", "noise"], "email and created_at skipped");

        // Custom tiers and class weights are stored.
        Spi::run(
            "SELECT * FROM lead_scoring.train('e', 'leads', 'converted', ARRAY['visits', 'source'],
                    options => '{\"tiers\": {\"A\": 0.7, \"B\": 0.4, \"C\": 0}, \"class_weight\": \"balanced\"}')",
        )
        .unwrap();
        let (tiers, weight): (Option<pgrx::JsonB>, Option<f64>) = Spi::get_two(
            "SELECT tiers, (training->'class_weights'->>'positive')::float8 FROM lead_scoring.models WHERE name = 'e'",
        )
        .unwrap();
        assert_eq!(tiers.unwrap().0[0]["name"], "A");
        assert!(weight.unwrap() > 1.0);
        let grades = Spi::get_one::<i64>(
            "SELECT count(DISTINCT lead_scoring.tier('e', l)) FROM leads l WHERE lead_scoring.tier('e', l) IN ('A','B','C')",
        )
        .unwrap();
        assert!(grades.unwrap() >= 2);
    }

    #[pg_test]
    fn catalog_is_kept_by_pg_dump() {
        let registered = Spi::get_one::<i64>(
            "SELECT count(*) FROM pg_extension e, unnest(e.extconfig) AS c(oid)
              WHERE e.extname = 'lead_scoring'
                AND c.oid IN ('lead_scoring.models'::regclass, 'lead_scoring.model_events'::regclass)",
        )
        .unwrap();
        assert_eq!(registered, Some(2));
    }

    #[pg_test]
    fn scoring_is_stable_parallel_safe_and_strict() {
        let rows = Spi::get_one::<i64>(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'lead_scoring' AND p.proname IN ('score', 'tier')
                AND p.provolatile = 's' AND p.proparallel = 's' AND p.proisstrict",
        )
        .unwrap();
        assert_eq!(rows, Some(4));
    }

    /// The training reader (row_stream.rs) decodes every column type it is given straight from
    /// the executor's rows, compressed text included, skips NULL labels, and train() records
    /// the seconds each phase took.
    #[pg_test]
    fn training_reads_every_column_kind_and_times_its_phases() {
        Spi::run(
            "CREATE TABLE kinds AS
             SELECT i AS id, (i % 13)::float8 / 3 AS a, (i % 7)::int4 AS b, ((i % 11) * 1.25)::numeric(8,2) AS c,
                    (ARRAY['north','south','east'])[1 + i % 3]::varchar(10) AS d, (ARRAY['x','yy'])[1 + i % 2]::char(4) AS e,
                    (i % 5 = 0) AS f,
                    -- 5,000-character values are stored compressed: the detoasting path
                    repeat(CASE WHEN i % 4 = 0 THEN 'p' ELSE 'q' END, 5000) AS long_note,
                    CASE WHEN i % 10 = 9 THEN NULL ELSE (i % 13) + (i % 4 = 0)::int * 6 + (i % 3) > 9 END AS converted
               FROM generate_series(1, 1000) i",
        )
        .unwrap();
        let stored: Option<bool> =
            Spi::get_one("SELECT pg_column_compression(long_note) IS NOT NULL FROM kinds WHERE id = 1").unwrap();
        assert_eq!(stored, Some(true), "the long text must be stored compressed for this test");
        Spi::run("SELECT * FROM lead_scoring.train('kinds_m', 'kinds', 'converted', options => '{\"exclude\": [\"id\"]}')")
            .unwrap();
        let (rows, seconds): (Option<i64>, Option<pgrx::JsonB>) = Spi::get_two(
            "SELECT (training->>'rows')::bigint, training->'seconds' FROM lead_scoring.models WHERE name = 'kinds_m'",
        )
        .unwrap();
        assert_eq!(rows, Some(900), "the 100 NULL labels are skipped");
        let seconds = seconds.unwrap().0;
        for phase in
            ["read", "audit", "fit", "calibrate", "score_rows", "metrics", "importance", "record_split", "reference", "encode"]
        {
            assert!(seconds[phase].as_f64().is_some_and(|s| s >= 0.0), "{phase}: {seconds}");
        }
        // Each level read equals the stored value, long ones included.
        let levels: Option<String> = Spi::get_one(
            "SELECT string_agg(f->>'name' || ':' || (SELECT string_agg(left(l->>'level', 3) || length(l->>'level'), ',' ORDER BY l->>'level')
                                                     FROM jsonb_array_elements(f->'levels') l), ' ' ORDER BY f->>'name')
               FROM lead_scoring.models, jsonb_array_elements(reference->'features') f
              WHERE name = 'kinds_m' AND f ? 'levels' AND jsonb_typeof(f->'levels') = 'array'",
        )
        .unwrap();
        assert_eq!(levels.as_deref(), Some("d:eas4,nor5,sou5 e:x1,yy2 f:fal5,tru4 long_note:ppp5000,qqq5000"));
    }
}
