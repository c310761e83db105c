//! Scoring paths checked against each other: model_sql() reproduces score() row by row, and the aggregate engine reproduces the
//! in-memory logistic fit and runs in parallel workers.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::real_data::tests::{load_x_education, LEAKING};

    fn x_education_options(extra: &str) -> String {
        let mut ex: Vec<&str> = LEAKING.to_vec();
        ex.extend(["Prospect ID", "Lead Number", "file_row"]);
        format!(
            r#"{{"split": {{"method": "column", "column": "part"}}, "exclude": {}{extra}}}"#,
            serde_json::to_string(&ex).unwrap()
        )
    }

    fn train(model: &str, source: &str, label: &str, options: &str) {
        Spi::run(&format!("SELECT * FROM lead_scoring.train('{model}', '{source}', '{label}', options => '{options}')")).unwrap();
    }

    /// (largest |score() - model_sql expression|, rows compared, rows where either is NULL).
    fn gap(model: &str, table: &str) -> (f64, i64, i64) {
        let expr = Spi::get_one::<String>(&format!("SELECT lead_scoring.model_sql('{model}')")).unwrap().unwrap();
        let row = Spi::get_three::<f64, i64, i64>(&format!(
            "SELECT max(abs(s - e)), count(*), count(*) FILTER (WHERE s IS NULL OR e IS NULL)
               FROM (SELECT lead_scoring.score('{model}', l) AS s, {expr} AS e FROM {table} l) q"
        ))
        .unwrap();
        (row.0.unwrap(), row.1.unwrap(), row.2.unwrap())
    }

    fn coefficients(model: &str) -> (f64, Vec<f64>) {
        let artifact = Spi::get_one::<Vec<u8>>(&format!(
            "SELECT artifact FROM lead_scoring.models WHERE name = '{model}' ORDER BY version DESC LIMIT 1"
        ))
        .unwrap()
        .unwrap();
        match crate::core::models::decode_model(&artifact).unwrap().estimator {
            crate::core::models::Estimator::Logistic(fit) => (fit.intercept, fit.coefficients),
            _ => panic!("not logistic"),
        }
    }

    #[pg_test]
    fn model_sql_equals_score_on_every_real_row_with_every_calibration() {
        load_x_education();
        // Rows the model never saw: unseen levels, placeholders, NULLs in every kind of column.
        Spi::run(
            "CREATE TABLE x_education.scored AS SELECT * FROM x_education.leads_split;
             INSERT INTO x_education.scored (\"Lead Source\", \"Lead Origin\", \"City\", \"TotalVisits\", \"Specialization\", part)
             VALUES ('never seen', 'Select', '', NULL, NULL, 'new'), (NULL, NULL, 'Select', 1e6, '', 'new'),
                    ('It''s \"odd\"', 'x\\y', 'Mumbai', -3, 'Select', 'new')",
        )
        .unwrap();
        for (model, calibration) in [("x_plain", "none"), ("x_platt", "platt"), ("x_iso", "isotonic")] {
            train(
                model,
                "x_education.leads_split",
                "Converted",
                &x_education_options(&format!(r#", "calibration": "{calibration}""#)),
            );
            let (max_gap, rows, nulls) = gap(model, "x_education.scored");
            assert_eq!((rows, nulls), (9240, 0), "{model}");
            assert!(max_gap < 1e-9, "{model}: model_sql differs from score() by {max_gap}");
        }
    }

    #[pg_test]
    fn model_sql_quotes_hostile_column_names_and_levels() {
        Spi::run(
            r#"SELECT setseed(0.3);
               CREATE TABLE "My ""Leads""" AS
               SELECT i AS id,
                      (ARRAY['Google', 'O''Reilly', 'back\slash', 'Select', ''])[1 + i % 5] AS "Lead ""Source""; DROP TABLE x; --",
                      CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 13)::numeric END AS "select",
                      i % 3 = 0 AS "O'Reilly flag",
                      random() < 0.2 + (i % 5) * 0.1 AS converted
                 FROM generate_series(1, 400) AS i;"#,
        )
        .unwrap();
        train("hostile", "\"My \"\"Leads\"\"\"", "converted", r#"{"exclude": ["id"], "min_level_count": 1}"#);
        Spi::run(
            r#"INSERT INTO "My ""Leads""" VALUES (401, 'never seen', NULL, NULL, false), (402, NULL, 5, true, true),
                                                 (403, 'back\slash', -1, NULL, false)"#,
        )
        .unwrap();
        let (max_gap, rows, nulls) = gap("hostile", "\"My \"\"Leads\"\"\"");
        assert_eq!((rows, nulls), (403, 0));
        assert!(max_gap < 1e-9, "{max_gap}");
    }

    #[pg_test(error = "model_sql supports logistic models only; model \"trees@1\" is gbm (gradient boosted trees)")]
    fn model_sql_refuses_gbm() {
        crate::tests::fixtures::make_leads("leads", 600);
        Spi::run(
            "SELECT * FROM lead_scoring.train('trees', 'leads', 'converted', algorithm => 'gbm',
                    options => '{\"exclude\": [\"id\", \"email\", \"created_at\"], \"trees\": 5}')",
        )
        .unwrap();
        Spi::run("SELECT lead_scoring.model_sql('trees')").unwrap();
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn model_sql_of_an_unknown_model_is_an_error() {
        Spi::run("SELECT lead_scoring.model_sql('nope')").unwrap();
    }

    #[pg_test]
    fn aggregate_engine_gives_the_in_memory_coefficients() {
        load_x_education();
        for (model, engine) in [("x_memory", "memory"), ("x_aggregate", "aggregate")] {
            let opts = x_education_options(&format!(r#", "engine": "{engine}", "tol": 1e-10, "class_weight": "balanced""#));
            train(model, "x_education.leads_split", "Converted", &opts);
        }
        let (b0, b) = coefficients("x_memory");
        let (a0, a) = coefficients("x_aggregate");
        assert_eq!(a.len(), b.len());
        assert!(b.len() > 50, "{} inputs", b.len());
        assert!((a0 - b0).abs() < 1e-6, "intercept {a0} vs {b0}");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!((x - y).abs() < 1e-6, "coefficient {i}: aggregate {x} vs memory {y}");
        }
        let training = Spi::get_one::<pgrx::JsonB>("SELECT training FROM lead_scoring.models WHERE name = 'x_aggregate'")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(training["engine"], "aggregate");
        assert!(training["engine_passes"].as_u64().unwrap() >= 3, "{training}");
        // Same scores, hence the same stored test metrics.
        let auc = |m: &str| {
            Spi::get_one::<f64>(&format!(
                "SELECT (metrics->'test'->>'roc_auc')::float8 FROM lead_scoring.models WHERE name = '{m}'"
            ))
            .unwrap()
            .unwrap()
        };
        assert!((auc("x_memory") - auc("x_aggregate")).abs() < 1e-9);
    }

    #[pg_test(
        error = "options.engine 'aggregate' cannot be used here: it needs the split stored in a column: options.split = {\"method\": \"column\", \"column\": ...}"
    )]
    fn aggregate_engine_needs_a_split_column() {
        crate::tests::fixtures::make_leads("leads", 300);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"engine\": \"aggregate\"}')")
            .unwrap();
    }

    #[pg_test]
    fn aggregate_pass_runs_in_parallel_workers_with_the_same_sums() {
        load_x_education();
        train("x_par", "x_education.leads_split", "Converted", &x_education_options(""));
        Spi::run("CREATE TABLE x_education.split_copy AS SELECT * FROM x_education.leads_split").unwrap();
        let artifact = Spi::get_one::<Vec<u8>>("SELECT artifact FROM lead_scoring.models WHERE name = 'x_par'").unwrap().unwrap();
        let model = crate::core::models::decode_model(&artifact).unwrap();
        let source = crate::executor::source::Source {
            from_sql: "x_education.split_copy".into(),
            display: "split_copy".into(),
            relation: Some("x_education.split_copy".into()),
        };
        let label = crate::core::data::SourceColumn {
            name: "Converted".into(),
            type_name: "integer".into(),
            class: crate::core::data::ColumnClass::Numeric { integer: true },
        };
        let query =
            crate::executor::aggregate_engine::pass_query(&source, &label, None, None, "part", &model.preprocessor, (1.0, 1.0))
                .unwrap();
        let theta: Vec<String> = (0..=model.preprocessor.width()).map(|i| format!("{}", 0.01 * i as f64)).collect();
        let query = query.replace("$1::float8[]", &format!("'{{{}}}'::float8[]", theta.join(",")));
        Spi::run("SET LOCAL max_parallel_workers_per_gather = 0").unwrap();
        let serial = Spi::get_one::<Vec<f64>>(&query).unwrap().unwrap();
        Spi::run(
            "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
             SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;",
        )
        .unwrap();
        let plan: Vec<String> = Spi::connect(|client| {
            client
                .select(&format!("EXPLAIN (COSTS OFF) {query}"), None, &[])?
                .map(|row| row.get::<String>(1).map(|s| s.unwrap_or_default()))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("Partial Aggregate") && plan.contains("Gather"), "{plan}");
        // Without a row limit (Spi::get_one sets one, and then no worker is launched).
        let parallel = Spi::connect(|client| client.select(&query, None, &[])?.first().get_one::<Vec<f64>>()).unwrap().unwrap();
        assert_eq!(serial.len(), parallel.len());
        let train_rows =
            Spi::get_one::<i64>("SELECT count(*) FROM x_education.split_copy WHERE part = 'train'").unwrap().unwrap();
        assert_eq!((serial[1], parallel[1]), (train_rows as f64, train_rows as f64), "every training row counted once");
        for (i, (a, b)) in serial.iter().zip(&parallel).enumerate() {
            assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "entry {i}: serial {a} vs parallel {b}");
        }
    }

    #[pg_test]
    fn logistic_irls_pass_sums_one_row_and_rejects_bad_rows() {
        let state = Spi::get_one::<Vec<f64>>(
            "SELECT lead_scoring.logistic_irls_pass(x.i, x.v, x.y, 1.0, '{0,0,0}')
               FROM (VALUES (ARRAY[0, 1], ARRAY[1.0, 2.0]::float8[], true), (ARRAY[0], ARRAY[1.0]::float8[], NULL)) AS x(i, v, y)",
        )
        .unwrap()
        .unwrap();
        // d = 3, one row (the NULL label adds nothing), log loss ln 2, gradient (p - y) x with
        // p = 1/2, input sums, Hessian x x' / 4 (upper triangle).
        let expected = [3.0, 1.0, 2f64.ln(), -0.5, -0.5, -1.0, 1.0, 2.0, 0.25, 0.25, 0.5, 0.25, 0.5, 1.0];
        assert_eq!(state.len(), expected.len());
        for (a, b) in state.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-15, "{state:?}");
        }
    }

    #[pg_test(error = "logistic_irls_pass: input index 0 is out of order or out of range (0 to 1)")]
    fn logistic_irls_pass_rejects_unordered_inputs() {
        Spi::run("SELECT lead_scoring.logistic_irls_pass(ARRAY[1, 0], ARRAY[1.0, 1.0]::float8[], true, 1.0, '{0,0,0}')").unwrap();
    }

    #[pg_test(error = "logistic_irls_accum can only be called as part of the logistic_irls_pass aggregate")]
    fn logistic_irls_accum_outside_an_aggregate_is_an_error() {
        Spi::run("SELECT lead_scoring.logistic_irls_accum(NULL, ARRAY[0], ARRAY[1.0]::float8[], true, 1.0, '{0,0}')").unwrap();
    }

    /// numeric features are read from their stored bytes when that is exact (the trigger's
    /// cost): every kind of stored numeric (short and long format, negative weights, more digits
    /// than a double holds) must score exactly as its float8 cast does, in score() and in the
    /// rescoring trigger.
    #[pg_test]
    fn numeric_features_score_as_their_float8_cast() {
        Spi::run(
            "CREATE TABLE num_leads AS
             SELECT i AS id,
                    (CASE i % 6
                       WHEN 0 THEN round((random() * 100)::numeric, 1)
                       WHEN 1 THEN round((random() * 1e6)::numeric, 4) - 500000
                       WHEN 2 THEN round((random() * 1e-3)::numeric, 12)
                       WHEN 3 THEN round((random() * 1e12)::numeric, 6)
                       WHEN 4 THEN (random() * 1e20)::numeric(40, 0) / 1e19
                       ELSE (random() * 50)::numeric END) AS amount,
                    random() < 0.3 AS converted
               FROM generate_series(1, 3000) i",
        )
        .unwrap();
        Spi::run("UPDATE num_leads SET converted = NOT converted WHERE amount > 40 AND amount < 60").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('num', 'num_leads', 'converted', options => '{\"exclude\": [\"id\"]}')")
            .unwrap();
        Spi::run("CREATE VIEW num_leads_float AS SELECT id, amount::float8 AS amount FROM num_leads").unwrap();
        let differ = Spi::get_one::<i64>(
            "SELECT count(*) FROM num_leads n JOIN num_leads_float f USING (id)
              WHERE lead_scoring.score('num', n) <> lead_scoring.score('num', f)",
        )
        .unwrap();
        assert_eq!(differ, Some(0));
        Spi::run("CREATE TABLE num_attached (LIKE num_leads)").unwrap();
        Spi::run("SELECT lead_scoring.attach('num_attached', 'num', alerts => false)").unwrap();
        Spi::run("INSERT INTO num_attached SELECT * FROM num_leads").unwrap();
        let differ = Spi::get_one::<i64>(
            "SELECT count(*) FROM num_attached a JOIN num_leads_float f USING (id)
              WHERE a.lead_score IS DISTINCT FROM lead_scoring.score('num', f)",
        )
        .unwrap();
        assert_eq!(differ, Some(0));
    }

    /// The aggregate engine's passes inside train() use the parallel workers they are planned
    /// with (a pass run with a row limit, as Spi::get_one does, never launches any), and the
    /// fit with workers equals the fit without.
    #[pg_test]
    fn aggregate_engine_uses_parallel_workers_inside_train() {
        load_x_education();
        let opts = x_education_options(r#", "engine": "aggregate""#);
        Spi::run("SET LOCAL max_parallel_workers_per_gather = 0").unwrap();
        train("x_agg_serial", "x_education.leads_split", "Converted", &opts);
        Spi::run(
            "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
             SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;",
        )
        .unwrap();
        train("x_agg_parallel", "x_education.leads_split", "Converted", &opts);
        let states = |m: &str| {
            Spi::get_one::<i64>(&format!(
                "SELECT (training->>'engine_partial_states')::int8 FROM lead_scoring.models WHERE name = '{m}'"
            ))
            .unwrap()
            .unwrap()
        };
        assert_eq!(states("x_agg_serial"), 1);
        assert!(states("x_agg_parallel") >= 2, "no parallel worker took part: {}", states("x_agg_parallel"));
        let gap = Spi::get_one::<f64>(
            "SELECT max(abs(a.coefficient - b.coefficient))
               FROM lead_scoring.feature_importance('x_agg_serial') a
               JOIN lead_scoring.feature_importance('x_agg_parallel') b USING (feature)",
        )
        .unwrap()
        .unwrap();
        assert!(gap < 1e-6, "coefficients differ by {gap}");
    }
}
