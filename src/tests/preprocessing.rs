//! train()'s preprocessing options through SQL: log scaling, quantile bins, interaction terms
//! and date features, each scored the same from a table row and from jsonb.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;

    use crate::tests::fixtures::make_leads;

    /// Leads whose conversion needs a bin (a middle band of `size` converts), an interaction
    /// (`visits` only matters for `segment` 'b') and a date (weekend leads rarely convert).
    fn make_shaped_leads() {
        Spi::run(
            "SELECT setseed(0.17);
             CREATE TABLE shaped AS
             SELECT *, random() < 1 / (1 + exp(-(-2.0 + CASE WHEN size BETWEEN 40 AND 60 THEN 2.0 ELSE 0 END
                                                 + CASE WHEN segment = 'b' THEN 0.8 * (visits - 5) ELSE 0 END
                                                 - CASE WHEN extract(isodow FROM created_at) >= 6 THEN 2.0 ELSE 0 END))) AS converted
               FROM (SELECT i AS id, floor(random() * 100)::int AS size, floor(random() * 10)::int AS visits,
                            (ARRAY['a', 'b'])[1 + floor(random() * 2)::int] AS segment,
                            floor(exp(random() * 8))::numeric AS revenue,
                            timestamptz '2025-01-01 09:00+00' + floor(random() * 365) * interval '1 day' AS created_at,
                            (date '2025-01-01' + floor(random() * 365)::int) AS last_call
                       FROM generate_series(1, 6000) i) s",
        )
        .unwrap();
    }

    fn test_auc(model: &str, features: &str, options: &str) -> f64 {
        Spi::get_one::<f64>(&format!(
            "SELECT (metrics->'test'->>'roc_auc')::float8
               FROM lead_scoring.train('{model}', 'shaped', 'converted', ARRAY[{features}], options => '{options}')"
        ))
        .unwrap()
        .unwrap()
    }

    #[pg_test]
    fn bins_interactions_and_dates_learn_what_a_linear_term_cannot() {
        make_shaped_leads();
        let plain = test_auc("plain", "'size', 'visits', 'segment'", "{}");
        let shaped = test_auc(
            "shaped",
            "'size', 'visits', 'segment', 'created_at'",
            r#"{"bins": {"size": 10}, "interactions": [["visits", "segment"]], "as_of": "2026-01-01"}"#,
        );
        assert!(shaped > plain + 0.1, "with bins, interaction and date {shaped} vs plain {plain}");
        let f = Spi::get_one::<JsonB>("SELECT features FROM lead_scoring.models WHERE name = 'shaped'").unwrap().unwrap().0;
        assert_eq!(f[0]["bins"].as_array().unwrap().len(), 10, "{f}");
        assert_eq!(f[3]["kind"], "date");
        assert_eq!(f[3]["as_of"], "2026-01-01");
        assert_eq!(f[4]["name"], "visits × segment");
        // The day of week carries the planted weekend effect: Saturday's coefficient is strongly negative.
        let saturday = Spi::get_one::<f64>(
            "SELECT (level_coefficients->>'on Saturday')::float8 FROM lead_scoring.feature_importance('shaped') WHERE feature = 'created_at'",
        )
        .unwrap()
        .unwrap();
        assert!(saturday < -0.5, "Saturday coefficient {saturday}");
    }

    #[pg_test]
    fn rows_and_jsonb_score_alike_and_explanations_add_up() {
        make_shaped_leads();
        test_auc(
            "m",
            "'size', 'visits', 'segment', 'revenue', 'created_at', 'last_call'",
            r#"{"bins": ["size"], "log": ["revenue"], "interactions": [["visits", "segment"], ["size", "revenue"]], "as_of": "2026-01-01T00:00:00Z"}"#,
        );
        let diff = Spi::get_one::<f64>(
            "SELECT max(abs(lead_scoring.score('m', s) - lead_scoring.score('m', to_jsonb(s)))) FROM shaped s",
        )
        .unwrap()
        .unwrap();
        assert!(diff < 1e-12, "row vs jsonb {diff}");
        // Baseline plus contributions (interaction rows included) is the log-odds of the uncalibrated score.
        let (gap, rows): (Option<f64>, Option<i64>) = Spi::get_two(
            "SELECT max(abs(total - ln(p / (1 - p)))), min(n)
               FROM (SELECT s.id, lead_scoring.score('m', s) AS p,
                            (SELECT sum(contribution) FROM lead_scoring.explain('m', s)) AS total,
                            (SELECT count(*) FROM lead_scoring.explain('m', s)) AS n
                       FROM shaped s WHERE s.id <= 200) t",
        )
        .unwrap();
        assert!(gap.unwrap() < 1e-6, "additivity gap {gap:?}");
        assert_eq!(rows, Some(9), "baseline + 6 columns + 2 interactions");
        let value = Spi::get_one::<String>(
            "SELECT value FROM lead_scoring.explain('m', (SELECT s FROM shaped s WHERE id = 1)) WHERE feature = 'created_at'",
        )
        .unwrap()
        .unwrap();
        let expected = Spi::get_one::<String>(
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM shaped WHERE id = 1",
        )
        .unwrap()
        .unwrap();
        assert_eq!(value, expected);
    }

    #[pg_test]
    fn model_sql_writes_log_scaling_and_score_uses_it_alike() {
        make_shaped_leads();
        test_auc("lg", "'visits', 'segment', 'revenue'", r#"{"log": ["revenue"]}"#);
        let sql = Spi::get_one::<String>("SELECT lead_scoring.model_sql('lg')").unwrap().unwrap();
        let diff = Spi::get_one::<f64>(&format!("SELECT max(abs(lead_scoring.score('lg', s) - ({sql}))) FROM shaped s"))
            .unwrap()
            .unwrap();
        assert!(diff < 1e-9, "model_sql vs score {diff}");
    }

    #[pg_test(
        error = "model_sql does not support quantile bins or date features yet (feature \"size\"); score this model with lead_scoring.score()"
    )]
    fn model_sql_refuses_bins() {
        make_shaped_leads();
        test_auc("bn", "'size', 'visits'", r#"{"bins": ["size"]}"#);
        Spi::run("SELECT lead_scoring.model_sql('bn')").unwrap();
    }

    #[pg_test]
    fn date_columns_are_skipped_unless_named() {
        make_leads("leads", 500);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')").unwrap();
        let names = Spi::get_one::<JsonB>(
            "SELECT jsonb_path_query_array(features, '$[*].name') FROM lead_scoring.models WHERE name = 'm'",
        )
        .unwrap()
        .unwrap()
        .0;
        assert!(!names.as_array().unwrap().iter().any(|n| n == "created_at"), "{names}");
    }

    #[pg_test(error = "option \"log\" names \"source\", which is not numeric")]
    fn log_of_a_text_column() {
        make_leads("leads", 300);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', ARRAY['visits', 'source'], options => '{\"log\": [\"source\"]}')").unwrap();
    }

    #[pg_test(error = "option \"interactions\" names \"opted_in\", which is not one of the model's features")]
    fn interaction_with_a_column_not_in_features() {
        make_leads("leads", 300);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', ARRAY['visits', 'source'], options => '{\"interactions\": [[\"visits\", \"opted_in\"]]}')").unwrap();
    }

    #[pg_test(error = "option \"as_of\" must be an ISO 8601 date or timestamp such as \"2026-04-01\", got \"soon\"")]
    fn unreadable_as_of() {
        make_leads("leads", 300);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', ARRAY['visits', 'created_at'], options => '{\"as_of\": \"soon\"}')").unwrap();
    }

    #[pg_test(error = "model \"m@1\": feature \"created_at\" is Infinity; NaN and Infinity are not valid feature values")]
    fn infinite_date_at_scoring_time() {
        make_leads("leads", 300);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', ARRAY['visits', 'created_at'])").unwrap();
        Spi::run("UPDATE leads SET created_at = 'infinity' WHERE id = 7").unwrap();
        Spi::run("SELECT lead_scoring.score('m', l) FROM leads l").unwrap();
    }
}
