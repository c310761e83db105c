//! The metric aggregates through SQL: equal to scikit-learn on the stored fixtures, with GROUP BY,
//! integer labels, NULLs skipped, and the same answer from a forced parallel plan.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/metrics_sklearn.json");

    /// Loads every fixture case into `metric_cases(case_name, score, label)`.
    fn load_cases() -> Vec<serde_json::Value> {
        let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let cases = fixture["cases"].as_array().unwrap().clone();
        Spi::run("CREATE TABLE metric_cases (case_name text, score float8, label boolean)").unwrap();
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let scores: Vec<f64> = serde_json::from_value(case["scores"].clone()).unwrap();
            let labels: Vec<bool> = case["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_i64().map_or_else(|| l.as_bool().unwrap(), |x| x == 1))
                .collect();
            Spi::run_with_args(
                "INSERT INTO metric_cases SELECT $1, s, l FROM unnest($2::float8[], $3::boolean[]) AS u(s, l)",
                &[name.into(), scores.into(), labels.into()],
            )
            .unwrap();
        }
        cases
    }

    fn close(a: Option<f64>, b: &serde_json::Value, what: &str) {
        match (a, b.as_f64()) {
            (None, None) => {}
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{what}: {a} vs {b}"),
            (a, _) => panic!("{what}: {a:?} vs {b}"),
        }
    }

    #[pg_test]
    fn aggregates_equal_scikit_learn_per_group() {
        let cases = load_cases();
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let row = Spi::connect(|c| {
                let t = c
                    .select(
                        "SELECT lead_scoring.roc_auc(score, label), lead_scoring.pr_auc(score, label),
                                lead_scoring.log_loss(score, label), lead_scoring.brier(score, label),
                                lead_scoring.ks_statistic(score, label),
                                lead_scoring.confusion(score, label, $2)
                           FROM metric_cases WHERE case_name = $1 GROUP BY case_name",
                        None,
                        &[name.into(), case["threshold"].as_f64().unwrap().into()],
                    )
                    .unwrap()
                    .first();
                (
                    t.get::<f64>(1).unwrap(),
                    t.get::<f64>(2).unwrap(),
                    t.get::<f64>(3).unwrap(),
                    t.get::<f64>(4).unwrap(),
                    t.get::<f64>(5).unwrap(),
                    t.get::<pgrx::JsonB>(6).unwrap().unwrap().0,
                )
            });
            close(row.0, &case["roc_auc"], &format!("{name} roc_auc"));
            close(row.1, &case["average_precision"], &format!("{name} pr_auc"));
            close(row.2, &case["log_loss"], &format!("{name} log_loss"));
            close(row.3, &case["brier"], &format!("{name} brier"));
            close(row.4, &case["ks"], &format!("{name} ks"));
            for key in ["tp", "fp", "tn", "fn"] {
                assert_eq!(row.5[key], case[key], "{name} {key}");
            }
            for key in ["precision", "recall", "f1", "accuracy"] {
                close(row.5[key].as_f64(), &case[key], &format!("{name} {key}"));
            }
        }
    }

    #[pg_test]
    fn integer_labels_and_nulls() {
        Spi::run(
            "CREATE TABLE s AS SELECT * FROM (VALUES (0.9, 1), (0.8, 0), (0.7, 1), (0.2, 0), (NULL, 1), (0.5, NULL)) v(score, label)",
        )
        .unwrap();
        let (auc, n): (Option<f64>, Option<f64>) =
            Spi::get_two("SELECT lead_scoring.roc_auc(score, label), lead_scoring.roc_auc(score, label = 1) FROM s").unwrap();
        assert_eq!(auc, Some(0.75));
        assert_eq!(n, Some(0.75));
        let empty = Spi::get_one::<f64>("SELECT lead_scoring.roc_auc(score, label = 1) FROM s WHERE false").unwrap();
        assert_eq!(empty, None);
        let c = Spi::get_one::<pgrx::JsonB>("SELECT lead_scoring.confusion(score, label, 0.75) FROM s").unwrap().unwrap().0;
        assert_eq!(
            (c["tp"].as_i64(), c["fp"].as_i64(), c["tn"].as_i64(), c["fn"].as_i64()),
            (Some(1), Some(1), Some(1), Some(1))
        );
    }

    #[pg_test(error = "label 2 is not 0 or 1")]
    fn integer_labels_must_be_0_or_1() {
        Spi::run("SELECT lead_scoring.roc_auc(0.5, 2)").unwrap();
    }

    #[pg_test(error = "score 1.5 is not a probability between 0 and 1")]
    fn log_loss_needs_probabilities() {
        Spi::run("SELECT lead_scoring.log_loss(1.5, true)").unwrap();
    }

    #[pg_test(error = "score NaN is not a finite number")]
    fn nan_scores_are_rejected() {
        Spi::run("SELECT lead_scoring.roc_auc('NaN'::float8, true)").unwrap();
    }

    #[pg_test]
    fn parallel_plan_gives_the_serial_answer() {
        Spi::run(
            "CREATE TABLE big_scores AS
             SELECT i % 7 AS grp, ((i * 7919) % 1000) / 1000.0 AS score, ((i * 104729) % 3 = 0) AS label
               FROM generate_series(1::bigint, 200000) i;
             ANALYZE big_scores",
        )
        .unwrap();
        // Pair-based metrics sort their pairs, so they are exact in any plan; log loss and Brier
        // are sums, equal up to floating-point addition order.
        let exact = "SELECT lead_scoring.roc_auc(score, label)::text || ' ' || lead_scoring.pr_auc(score, label)::text
                            || ' ' || lead_scoring.ks_statistic(score, label)::text
                            || ' ' || lead_scoring.confusion(score, label, 0.5)::text
                       FROM big_scores";
        let sums = "SELECT lead_scoring.log_loss(score, label), lead_scoring.brier(score, label) FROM big_scores";
        let grouped = "SELECT string_agg(a::text, ',' ORDER BY grp) FROM
                         (SELECT grp, lead_scoring.roc_auc(score, label) a FROM big_scores GROUP BY grp) g";
        Spi::run("SET max_parallel_workers_per_gather = 0").unwrap();
        let serial = (
            Spi::get_one::<String>(exact).unwrap(),
            Spi::get_two::<f64, f64>(sums).unwrap(),
            Spi::get_one::<String>(grouped).unwrap(),
        );
        Spi::run(
            "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
             SET min_parallel_table_scan_size = 0",
        )
        .unwrap();
        for q in [exact, sums] {
            let plan = Spi::get_one::<pgrx::Json>(&format!("EXPLAIN (ANALYZE, FORMAT JSON) {q}")).unwrap().unwrap().0.to_string();
            assert!(plan.contains(r#""Partial Mode":"Partial""#), "expected a partial aggregate: {plan}");
            assert!(
                !plan.contains(r#""Workers Launched":0"#) && plan.contains(r#""Workers Launched""#),
                "workers must run: {plan}"
            );
        }
        let parallel = (
            Spi::get_one::<String>(exact).unwrap(),
            Spi::get_two::<f64, f64>(sums).unwrap(),
            Spi::get_one::<String>(grouped).unwrap(),
        );
        assert!(serial.0.is_some());
        assert_eq!(serial.0, parallel.0);
        assert_eq!(serial.2, parallel.2);
        let ((l1, b1), (l2, b2)) = (serial.1, parallel.1);
        assert!((l1.unwrap() - l2.unwrap()).abs() < 1e-12 && (b1.unwrap() - b2.unwrap()).abs() < 1e-12);
    }

    /// The state of roc_auc, pr_auc and ks_statistic as a value (what a Citus shard computes).
    fn counts_aggregate() {
        Spi::run(
            "CREATE AGGREGATE counts_of(float8, boolean) (SFUNC = lead_scoring.score_counts_accum, STYPE = lead_scoring.score_counts);
             CREATE AGGREGATE merged(lead_scoring.score_counts) (SFUNC = lead_scoring.score_counts_combine, STYPE = lead_scoring.score_counts);
             CREATE TABLE tied AS SELECT i % 7 AS shard, ((i * 7919) % 1000) / 1000.0 AS score, ((i * 104729) % 3 = 0) AS label
               FROM generate_series(1::bigint, 50000) i",
        )
        .unwrap();
    }

    #[pg_test]
    fn score_counts_round_trip_through_their_text_form() {
        counts_aggregate();
        // Through text and back, as Citus sends a shard's state to the coordinator: the same
        // metrics bit for bit, and the text holds one 16-byte entry per distinct score.
        let (same, text_bytes) = Spi::get_two::<bool, i64>(
            "WITH c AS (SELECT counts_of(score, label)::text AS t FROM tied)
             SELECT lead_scoring.roc_auc_counts_final(t::lead_scoring.score_counts) = (SELECT lead_scoring.roc_auc(score, label) FROM tied)
                AND lead_scoring.pr_auc_counts_final(t::lead_scoring.score_counts) = (SELECT lead_scoring.pr_auc(score, label) FROM tied)
                AND lead_scoring.ks_statistic_counts_final(t::lead_scoring.score_counts) = (SELECT lead_scoring.ks_statistic(score, label) FROM tied),
                    length(t) / 2
               FROM c",
        )
        .unwrap();
        assert_eq!(same, Some(true));
        assert_eq!(text_bytes, Some(24 + 16 * 1000));
    }

    #[pg_test]
    fn shard_states_merge_into_the_state_of_all_rows() {
        counts_aggregate();
        // As on Citus: one state per shard, sent as text, merged by the combine function.
        let same = Spi::get_one::<bool>(
            "WITH shards AS (SELECT counts_of(score, label)::text AS t FROM tied GROUP BY shard),
                  whole AS (SELECT merged(t::lead_scoring.score_counts) AS m FROM shards)
             SELECT lead_scoring.roc_auc_counts_final(m) = (SELECT lead_scoring.roc_auc(score, label) FROM tied)
                AND lead_scoring.pr_auc_counts_final(m) = (SELECT lead_scoring.pr_auc(score, label) FROM tied)
                AND lead_scoring.ks_statistic_counts_final(m) = (SELECT lead_scoring.ks_statistic(score, label) FROM tied)
                AND m::text = (SELECT counts_of(score, label)::text FROM tied)
               FROM whole",
        )
        .unwrap();
        assert_eq!(same, Some(true));
    }

    #[pg_test(error = "corrupt score_counts value")]
    fn score_counts_text_is_checked() {
        // A header that claims one sorted entry and no room for it.
        Spi::run(&format!("SELECT '{}01{}'::lead_scoring.score_counts", "", "00".repeat(23))).unwrap();
    }

    #[pg_test]
    fn running_window_gives_each_prefix_its_value() {
        counts_aggregate();
        // A window aggregate calls the final function on a state that keeps growing: it must
        // read the state without changing it.
        let different = Spi::get_one::<i64>(
            "WITH t AS (SELECT row_number() OVER () AS i, score, label FROM tied LIMIT 3000),
                  running AS (SELECT i, lead_scoring.roc_auc(score, label) OVER (ORDER BY i) AS auc FROM t)
             SELECT count(*) FROM running r
              WHERE r.i % 97 = 0 AND r.auc IS DISTINCT FROM (SELECT lead_scoring.roc_auc(score, label) FROM t WHERE t.i <= r.i)",
        )
        .unwrap();
        assert_eq!(different, Some(0));
    }
}
