//! audit(), feature_report() and train()'s leakage guard through SQL, on a small table and on
//! the real X Education leads.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use std::collections::HashMap;

    /// (column -> (id_like, leakage_suspect, univariate_auc, reason)) of an audit.
    fn audit(source: &str, label: &str) -> HashMap<String, (bool, Option<bool>, Option<f64>, Option<String>)> {
        Spi::connect(|c| {
            c.select(
                "SELECT column_name, id_like, leakage_suspect, univariate_auc, reason FROM lead_scoring.audit($1, $2)",
                None,
                &[source.into(), label.into()],
            )
            .unwrap()
            .map(|r| {
                (
                    r.get::<String>(1).unwrap().unwrap(),
                    (
                        r.get::<bool>(2).unwrap().unwrap(),
                        r.get::<bool>(3).unwrap(),
                        r.get::<f64>(4).unwrap(),
                        r.get::<String>(5).unwrap(),
                    ),
                )
            })
            .collect()
        })
    }

    #[pg_test]
    fn scorecard_of_a_small_table() {
        Spi::run(
            "CREATE TABLE crm_leads AS
             SELECT i AS id, CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 13)::float8 END AS visits,
                    CASE i % 4 WHEN 0 THEN 'Select' WHEN 1 THEN '' ELSE 'Web' END AS source,
                    i % 3 = 0 AS converted
               FROM generate_series(1, 100) i
             UNION ALL SELECT 1, 1000, 'Web', false",
        )
        .unwrap();
        let row = Spi::connect(|c| {
            let r = c
                .select(
                    "SELECT rows, nulls, placeholders, distinct_values, duplicate_rows, outliers, min, max, id_like
                       FROM lead_scoring.audit('crm_leads') WHERE column_name = $1",
                    None,
                    &["visits".into()],
                )
                .unwrap()
                .first();
            (
                r.get::<i64>(1).unwrap(),
                r.get::<i64>(2).unwrap(),
                r.get::<i64>(4).unwrap(),
                r.get::<i64>(5).unwrap(),
                r.get::<i64>(6).unwrap(),
                r.get::<f64>(8).unwrap(),
                r.get::<bool>(9).unwrap(),
            )
        });
        assert_eq!(row, (Some(101), Some(10), Some(14), Some(0), Some(1), Some(1000.0), Some(false)));
        let (placeholders, levels) = Spi::get_two::<i64, pgrx::JsonB>(
            "SELECT placeholders, conversion_by_level FROM lead_scoring.audit('crm_leads', 'converted') WHERE column_name = 'source'",
        )
        .unwrap();
        assert_eq!(placeholders, Some(50));
        let levels = levels.unwrap().0;
        assert_eq!(levels[0]["level"], "Web");
        assert_eq!(levels[0]["leads"], 51);
        let dup = Spi::get_one::<i64>("SELECT duplicate_rows FROM lead_scoring.audit('SELECT converted FROM crm_leads') LIMIT 1")
            .unwrap();
        assert_eq!(dup, Some(99));
    }

    #[pg_test(error = "label column \"source\" has type text; audit needs a boolean or 0/1 label")]
    fn audit_needs_a_boolean_label() {
        Spi::run("CREATE TABLE t AS SELECT 'a'::text AS source").unwrap();
        Spi::run("SELECT * FROM lead_scoring.audit('t', 'source')").unwrap();
    }

    #[pg_test]
    fn x_education_leaks_and_ids_are_flagged() {
        crate::tests::real_data::tests::load_x_education();
        let a = audit("x_education.leads", "Converted");
        for leak in ["Tags", "Lead Quality"] {
            assert_eq!(a[leak].1, Some(true), "{leak}: {:?}", a[leak]);
        }
        for id in ["Prospect ID", "Lead Number", "file_row"] {
            assert!(a[id].0, "{id} should look like an id: {:?}", a[id]);
            assert_eq!(a[id].1, Some(false));
        }
        for real in
            ["Total Time Spent on Website", "TotalVisits", "Lead Source", "Lead Origin", "What is your current occupation"]
        {
            assert_eq!(a[real].1, Some(false), "{real} is a real signal: {:?}", a[real]);
        }
        let tags_auc = a["Tags"].2.unwrap();
        assert!(tags_auc > 0.9, "Tags separates the classes: {tags_auc}");
        assert!(a["Lead Quality"].3.as_deref().unwrap().contains("filled in for"));
        let mut flagged: Vec<&String> = a.iter().filter(|(_, v)| v.1 == Some(true)).map(|(k, _)| k).collect();
        flagged.sort();
        assert_eq!(flagged, vec!["Lead Profile", "Lead Quality", "Tags"]);
    }

    #[pg_test]
    fn train_warns_by_default_and_ignore_trains() {
        Spi::run(
            "CREATE TABLE leaky AS
             SELECT i AS id, (i % 7)::float8 + (i % 3 = 0)::int AS visits,
                    CASE WHEN i % 3 = 0 THEN 'Hot' END AS rep_rating, i % 3 = 0 AS converted
               FROM generate_series(1, 300) i",
        )
        .unwrap();
        let v = Spi::get_one::<i32>(
            "SELECT version FROM lead_scoring.train('leaky', 'leaky', 'converted', options => '{\"exclude\": [\"id\"]}')",
        )
        .unwrap();
        assert_eq!(v, Some(1));
        let v = Spi::get_one::<i32>(
            "SELECT version FROM lead_scoring.train('leaky', 'leaky', 'converted', options => '{\"exclude\": [\"id\"], \"leakage\": \"ignore\"}')",
        )
        .unwrap();
        assert_eq!(v, Some(2));
    }

    #[pg_test(
        error = "possible target leakage in \"rep_rating\" (alone it separates converted from other leads almost perfectly (univariate ROC AUC 1.000 >= 0.85); filled in for 100% of converted leads but 0% of the others, as if recorded after the outcome)"
    )]
    fn train_refuses_suspects_with_leakage_error() {
        Spi::run(
            "CREATE TABLE leaky AS
             SELECT (i % 7)::float8 AS visits, CASE WHEN i % 3 = 0 THEN 'Hot' END AS rep_rating, i % 3 = 0 AS converted
               FROM generate_series(1, 300) i",
        )
        .unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('leaky', 'leaky', 'converted', options => '{\"leakage\": \"error\"}')")
            .unwrap();
    }

    #[pg_test(error = "option \"leakage\" must be \"warn\", \"error\" or \"ignore\", got \"stop\"")]
    fn leakage_option_values() {
        Spi::run("CREATE TABLE t AS SELECT i::float8 AS x, i % 2 = 0 AS y FROM generate_series(1, 100) i").unwrap();
        Spi::run("SELECT * FROM lead_scoring.train('t', 't', 'y', options => '{\"leakage\": \"stop\"}')").unwrap();
    }

    #[pg_test]
    fn feature_report_shows_redundant_columns() {
        Spi::run(
            "CREATE TABLE f AS SELECT i::float8 AS a, ((i * 37) % 101)::float8 AS b, 2.0 * i + (i * 37) % 101 AS c,
                    (i % 5)::float8 AS d, i % 2 = 0 AS y FROM generate_series(1, 200) i",
        )
        .unwrap();
        let rows: Vec<(String, f64, String)> = Spi::connect(|c| {
            c.select(
                "SELECT feature, vif, most_correlated_with FROM lead_scoring.feature_report('f', 'y') ORDER BY feature",
                None,
                &[],
            )
            .unwrap()
            .map(|r| (r.get(1).unwrap().unwrap(), r.get(2).unwrap().unwrap(), r.get(3).unwrap().unwrap()))
            .collect()
        });
        assert_eq!(rows.len(), 4);
        assert!(rows[0].1.is_infinite() && rows[1].1.is_infinite() && rows[2].1.is_infinite(), "{rows:?}");
        assert!(rows[3].1 < 1.1, "d is independent: {rows:?}");
        assert_eq!(rows[0].2, "c");
        let r =
            Spi::get_one::<f64>("SELECT (correlations->>'a')::float8 FROM lead_scoring.feature_report('f') WHERE feature = 'c'")
                .unwrap()
                .unwrap();
        let expected = Spi::get_one::<f64>("SELECT corr(a, c) FROM f").unwrap().unwrap();
        assert!((r - expected).abs() < 1e-9);
    }

    #[pg_test(error = "source f has no numeric columns besides the label")]
    fn feature_report_needs_numbers() {
        Spi::run("CREATE TABLE f AS SELECT 'x'::text AS t, 1 AS y").unwrap();
        Spi::run("SELECT * FROM lead_scoring.feature_report('f', 'y')").unwrap();
    }
}
