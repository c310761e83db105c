//! Monitoring through SQL: reference distributions at training, drift() against a plain-SQL PSI,
//! monitor() and its catalog row, backtest() per period, the demo CRM's planted drift caught
//! (and a quiet period left quiet), and the errors.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;

    use crate::tests::fixtures::trained_with_new_leads as setup;

    fn drift_row(source: &str, feature: &str) -> (f64, String, String) {
        Spi::connect(|c| {
            let t = c.select(
                &format!("SELECT psi, status, detail FROM lead_scoring.drift('m', '{source}') WHERE feature = $1"),
                None,
                &[feature.into()],
            )?;
            let r = t.first();
            Ok::<_, pgrx::spi::Error>((r.get::<f64>(1)?.unwrap(), r.get::<String>(2)?.unwrap(), r.get::<String>(3)?.unwrap()))
        })
        .unwrap()
    }

    /// PSI of `expr` binned by `bin_sql` (an expression over `x`), reference rows vs current rows,
    /// with every share floored at 1e-4, in plain SQL.
    fn psi_in_sql(reference_rows: &str, current_rows: &str, bin_sql: &str) -> f64 {
        Spi::get_one::<f64>(&format!(
            "WITH r AS (SELECT {bin_sql} AS bin, count(*)::float8 / sum(count(*)) OVER () AS share FROM ({reference_rows}) t GROUP BY 1),
                  c AS (SELECT {bin_sql} AS bin, count(*)::float8 / sum(count(*)) OVER () AS share FROM ({current_rows}) t GROUP BY 1)
             SELECT sum((greatest(coalesce(c.share, 0), 1e-4) - greatest(coalesce(r.share, 0), 1e-4))
                        * ln(greatest(coalesce(c.share, 0), 1e-4) / greatest(coalesce(r.share, 0), 1e-4)))
               FROM r FULL JOIN c USING (bin)"
        ))
        .unwrap()
        .unwrap()
    }

    #[pg_test]
    fn psi_matches_a_plain_sql_computation() {
        setup();
        // Numeric: decile edges (percentile_disc) of the training part; a row's bin is the number
        // of edges below it; NULL is its own bin.
        Spi::run(
            "CREATE TEMP TABLE visit_edges AS
             SELECT array_agg(DISTINCT e ORDER BY e) AS e
               FROM unnest((SELECT percentile_disc(ARRAY[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]) WITHIN GROUP (ORDER BY visits)
                              FROM leads WHERE part = 'train')) e",
        )
        .unwrap();
        let bin = "CASE WHEN x IS NULL THEN -1 ELSE (SELECT count(*) FROM visit_edges, unnest(visit_edges.e) v WHERE v < x) END";
        let expected = psi_in_sql("SELECT visits AS x FROM leads WHERE part = 'train'", "SELECT visits AS x FROM new_leads", bin);
        let (psi, status, detail) = drift_row("new_leads", "visits");
        assert!((psi - expected).abs() < 1e-9, "drift {psi} vs SQL {expected}");
        assert_eq!(status, "alert");
        assert!(detail.starts_with("mean "), "{detail}");

        // Categorical: levels of the training part, unseen levels pooled.
        let bin = "CASE WHEN x IN (SELECT source FROM leads WHERE part = 'train') THEN x ELSE '(new)' END";
        let expected = psi_in_sql("SELECT source AS x FROM leads WHERE part = 'train'", "SELECT source AS x FROM new_leads", bin);
        let (psi, status, detail) = drift_row("new_leads", "source");
        assert!((psi - expected).abs() < 1e-9, "drift {psi} vs SQL {expected}");
        assert_eq!(status, "alert");
        assert!(detail.starts_with("new levels: 'Webinar' (20.0%)"), "{detail}");

        // The score: deciles of the validation part's scores, which score() reproduces.
        Spi::run(
            "CREATE TEMP TABLE score_edges AS
             SELECT array_agg(DISTINCT e ORDER BY e) AS e
               FROM unnest((SELECT percentile_disc(ARRAY[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]) WITHIN GROUP (ORDER BY lead_scoring.score('m', l))
                              FROM leads l WHERE part = 'validation')) e",
        )
        .unwrap();
        let bin = "(SELECT count(*) FROM score_edges, unnest(score_edges.e) v WHERE v < x)";
        let expected = psi_in_sql(
            "SELECT lead_scoring.score('m', l) AS x FROM leads l WHERE part = 'validation'",
            "SELECT lead_scoring.score('m', n) AS x FROM new_leads n",
            bin,
        );
        let (psi, _, _) = drift_row("new_leads", "(score)");
        assert!((psi - expected).abs() < 1e-9, "score drift {psi} vs SQL {expected}");
        assert!(psi > 0.1, "higher visits move the score: {psi}");

        // The training part against itself: nothing moved.
        let (psi, status, _) = drift_row("SELECT * FROM leads WHERE part = ''train''", "visits");
        assert!(psi.abs() < 1e-12 && status == "ok", "{psi} {status}");
    }

    #[pg_test]
    fn reference_is_stored_for_logistic_and_gbm() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.train('g', 'leads', 'converted', ARRAY['visits', 'source'], 'gbm')").unwrap();
        for model in ["m", "g"] {
            let reference =
                Spi::get_one_with_args::<JsonB>("SELECT reference FROM lead_scoring.models WHERE name = $1", &[model.into()])
                    .unwrap()
                    .unwrap()
                    .0;
            let visits = &reference["features"][0];
            assert_eq!(visits["name"], "visits");
            let shares: f64 = visits["bins"]["shares"].as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).sum();
            assert!((shares + visits["missing_share"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{model}: {visits}");
            assert!(reference["features"][1]["levels"].as_array().unwrap().len() == 4, "{model}: four sources");
            assert!(reference["score_rows"].as_u64().unwrap() > 0);
        }
        let rows = Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.drift('g', 'new_leads')").unwrap();
        assert_eq!(rows, Some(3), "two features and the score");
    }

    #[pg_test]
    fn drift_thresholds_can_be_overridden() {
        setup();
        let statuses = Spi::get_one::<Vec<String>>(
            "SELECT array_agg(status ORDER BY feature) FROM lead_scoring.drift('m', 'new_leads', warn => 1e-9, alert => 1e9)",
        )
        .unwrap()
        .unwrap();
        assert!(statuses.iter().all(|s| s == "warn"), "{statuses:?}");
    }

    #[pg_test]
    fn monitor_writes_a_row_compared_with_the_test_baseline() {
        setup();
        let (status, advice) =
            Spi::get_two::<String, String>("SELECT status, recommendation FROM lead_scoring.monitor('m', 'leads')").unwrap();
        let row = Spi::get_one::<JsonB>("SELECT to_jsonb(m) FROM lead_scoring.monitoring m").unwrap().unwrap().0;
        assert_eq!(row["model_name"], "m");
        assert_eq!(row["version"], 1);
        assert_eq!(row["source"], "leads");
        assert_eq!(row["rows"], 2000);
        assert_eq!(row["status"].as_str(), status.as_deref());
        assert_eq!(row["recommendation"].as_str(), advice.as_deref());
        let test =
            Spi::get_one::<JsonB>("SELECT metrics -> 'test' FROM lead_scoring.models WHERE name = 'm'").unwrap().unwrap().0;
        assert_eq!(row["baseline"]["roc_auc"], test["roc_auc"]);
        // The metrics are evaluate()'s on the same rows.
        let evaluated = Spi::get_one::<JsonB>("SELECT lead_scoring.evaluate('m', 'leads')").unwrap().unwrap().0;
        for k in ["roc_auc", "pr_auc", "precision", "recall", "f1"] {
            assert!((row["metrics"][k].as_f64().unwrap() - evaluated[k].as_f64().unwrap()).abs() < 1e-12, "{k}");
        }
        assert!((row["metrics"]["calibration_error"].as_f64().unwrap() - evaluated["ece"].as_f64().unwrap()).abs() < 1e-12);
        let tiers = row["metrics"]["tiers"].as_array().unwrap();
        assert_eq!(tiers.iter().map(|t| t["leads"].as_u64().unwrap()).sum::<u64>(), 2000);
        assert_eq!(row["drift"].as_array().unwrap().len(), 5, "four features and the score");
        // A metric 5% below baseline alerts: pretend the test part scored a perfect AUC.
        Spi::run("UPDATE lead_scoring.models SET metrics = jsonb_set(metrics, '{test,roc_auc}', '1.0')").unwrap();
        let (status, advice) =
            Spi::get_two::<String, String>("SELECT status, recommendation FROM lead_scoring.monitor('m', 'leads')").unwrap();
        assert_eq!(status.as_deref(), Some("alert"));
        assert!(advice.unwrap().starts_with("retrain: performance fell 5% or more below the test baseline: roc_auc"));
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.monitoring").unwrap(), Some(2));
    }

    #[pg_test]
    fn backtest_gives_metrics_per_period() {
        setup();
        // 2000 hourly leads from 2025-01-01: January, February and part of March.
        let rows = Spi::get_one::<JsonB>(
            "SELECT jsonb_agg(to_jsonb(b) ORDER BY period_start) FROM lead_scoring.backtest('m', 'leads', 'created_at', '1 month') b",
        )
        .unwrap()
        .unwrap()
        .0;
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.iter().map(|r| r["leads"].as_i64().unwrap()).sum::<i64>(), 2000);
        let february = Spi::get_one::<JsonB>(
            "SELECT lead_scoring.evaluate('m', 'SELECT * FROM leads WHERE created_at >= ''2025-02-01'' AND created_at < ''2025-03-01''')",
        )
        .unwrap()
        .unwrap()
        .0;
        assert_eq!(rows[1]["leads"], february["rows"]);
        for k in ["roc_auc", "pr_auc", "precision", "recall"] {
            assert!((rows[1][k].as_f64().unwrap() - february[k].as_f64().unwrap()).abs() < 1e-12, "{k}");
        }
        // One class in a period: NULL AUC, no error. Empty periods are listed with 0 leads.
        Spi::run("UPDATE leads SET converted = false WHERE created_at < '2025-01-15'").unwrap();
        Spi::run("UPDATE leads SET created_at = created_at + interval '14 days' WHERE created_at >= '2025-01-15'").unwrap();
        let (leads, auc) = Spi::get_two::<i64, f64>(
            "SELECT leads, roc_auc FROM lead_scoring.backtest('m', 'leads', 'created_at', '7 days') ORDER BY period_start LIMIT 1",
        )
        .unwrap();
        assert_eq!((leads, auc), (Some(167), None));
        let empty = Spi::get_one::<i64>(
            "SELECT count(*) FROM lead_scoring.backtest('m', 'leads', 'created_at', '7 days') WHERE leads = 0 AND roc_auc IS NULL",
        )
        .unwrap();
        assert_eq!(empty, Some(2), "the two weeks moved out are empty");
    }

    /// Drift on the demo CRM: trained before the product change of 2026-04-01,
    /// drift() rates pricing_visits `alert` on the leads after it (every other input stays ok),
    /// monitor() alerts and names it, and both stay ok on a pre-change quarter the model never
    /// saw. Leads of the last month (June 2026) are left out: their 30-day features are cut off
    /// by the end of the data on 2026-07-01.
    #[pg_test]
    fn demo_drift_is_caught_and_a_quiet_period_stays_ok() {
        Spi::run("SELECT lead_scoring.generate_demo(20000, 42)").unwrap();
        Spi::run(
            "CREATE VIEW before_change AS SELECT * FROM lead_scoring_demo.lead_features WHERE created_at < '2025-10-01' ORDER BY lead_id;
             CREATE VIEW quiet AS SELECT * FROM lead_scoring_demo.lead_features WHERE created_at >= '2025-10-01' AND created_at < '2026-01-01' ORDER BY lead_id;
             CREATE VIEW after_change AS SELECT * FROM lead_scoring_demo.lead_features WHERE created_at >= '2026-04-01' AND created_at < '2026-06-01' ORDER BY lead_id;
             SELECT * FROM lead_scoring.train('demo', 'before_change', 'converted', options => '{\"exclude\": [\"lead_id\"]}');",
        )
        .unwrap();
        let report = |source: &str| -> Vec<(String, f64, String)> {
            Spi::connect(|c| {
                c.select(&format!("SELECT feature, psi, status FROM lead_scoring.drift('demo', '{source}')"), None, &[])?
                    .map(|r| Ok((r.get::<String>(1)?.unwrap(), r.get::<f64>(2)?.unwrap(), r.get::<String>(3)?.unwrap())))
                    .collect::<Result<Vec<_>, pgrx::spi::Error>>()
            })
            .unwrap()
        };
        let quiet = report("quiet");
        pgrx::warning!("quiet period drift: {quiet:?}");
        assert!(quiet.iter().all(|r| r.2 == "ok"), "{quiet:?}");
        let after = report("after_change");
        pgrx::warning!("after the change: {after:?}");
        let pricing = after.iter().find(|r| r.0 == "pricing_visits").unwrap();
        assert!(pricing.1 >= 0.25 && pricing.2 == "alert", "the planted drift is an alert: {pricing:?}");
        let other_inputs: Vec<&(String, f64, String)> =
            after.iter().filter(|r| r.0 != "pricing_visits" && r.0 != "(score)").collect();
        assert!(other_inputs.iter().all(|r| r.2 == "ok"), "only pricing_visits was planted: {after:?}");
        // The score moves with its strongest input, but less: it is not an alert of its own.
        let score = after.iter().find(|r| r.0 == "(score)").unwrap();
        assert!(score.1 < pricing.1 && score.2 != "alert", "{score:?}");

        let monitor = |source: &str| -> (String, String, JsonB) {
            let (s, r, m) = Spi::get_three::<String, String, JsonB>(&format!(
                "SELECT status, recommendation, metrics FROM lead_scoring.monitor('demo', '{source}')"
            ))
            .unwrap();
            (s.unwrap(), r.unwrap(), m.unwrap())
        };
        let (status, advice, metrics) = monitor("quiet");
        pgrx::warning!("quiet period monitor: {status}: {advice}; {}", metrics.0["vs_baseline"]);
        assert_eq!(status, "ok", "{advice}");
        let (status, advice, metrics) = monitor("after_change");
        pgrx::warning!("after the change monitor: {status}: {advice}; {}", metrics.0["vs_baseline"]);
        assert_eq!(status, "alert");
        assert!(advice.starts_with("retrain") && advice.contains("pricing_visits (PSI") && advice.contains("alert)"), "{advice}");
        let alerts =
            Spi::get_one::<Vec<String>>("SELECT array_agg(status ORDER BY id) FROM lead_scoring.monitoring").unwrap().unwrap();
        assert_eq!(alerts, vec!["ok", "alert"]);
        // The rows keep drift() as it was: nothing on the quiet quarter, pricing_visits after.
        let stored = Spi::get_one::<Vec<String>>(
            "SELECT array_agg(m.source || ':' || (d->>'feature') ORDER BY m.id, d->>'feature')
               FROM lead_scoring.monitoring m, jsonb_array_elements(m.drift) d WHERE d->>'status' = 'alert'",
        )
        .unwrap()
        .unwrap();
        assert_eq!(stored, vec!["after_change:pricing_visits"]);
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn drift_of_an_unknown_model() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.drift('nope', 'leads')").unwrap();
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn monitor_of_an_unknown_model() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.monitor('nope', 'leads')").unwrap();
    }

    #[pg_test(error = "label column \"converted\" does not exist in new_leads")]
    fn monitor_needs_the_label() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.monitor('m', 'new_leads')").unwrap();
    }

    #[pg_test(error = "source query has no rows with a non-NULL label \"converted\"")]
    fn monitor_of_an_empty_period() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.monitor('m', 'SELECT * FROM leads WHERE created_at > ''2030-01-01''')").unwrap();
    }

    #[pg_test(error = "source query has no rows")]
    fn drift_of_an_empty_period() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.drift('m', 'SELECT * FROM new_leads WHERE false')").unwrap();
    }

    #[pg_test(error = "warn (0.5) must not be greater than alert (0.25)")]
    fn drift_thresholds_must_be_ordered() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.drift('m', 'leads', 0.5)").unwrap();
    }

    #[pg_test(error = "model \"m@1\" has no reference distributions")]
    fn drift_needs_a_reference() {
        setup();
        Spi::run("UPDATE lead_scoring.models SET reference = '{}'").unwrap();
        Spi::run("SELECT * FROM lead_scoring.drift('m', 'leads')").unwrap();
    }

    #[pg_test(error = "period must be a positive interval, such as '1 month' or '7 days'")]
    fn backtest_needs_a_positive_period() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.backtest('m', 'leads', 'created_at', '-1 day')").unwrap();
    }

    #[pg_test(error = "source query has no rows with a non-NULL \"created_at\"")]
    fn backtest_of_an_empty_source() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.backtest('m', 'SELECT * FROM leads WHERE false', 'created_at', '1 month')").unwrap();
    }

    #[pg_test(error = "time column \"visits\" has type integer; it must be a date or timestamp")]
    fn backtest_needs_a_time_column() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.backtest('m', 'leads', 'visits', '1 month')").unwrap();
    }
}
