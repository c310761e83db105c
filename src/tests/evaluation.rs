//! Evaluation through SQL: curves and reports, calibration, cross-validation and search,
//! resampling, and compare().

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;

    use crate::tests::fixtures::{make_leads, train_default};

    fn training(name: &str) -> serde_json::Value {
        Spi::get_one_with_args::<JsonB>(
            "SELECT training FROM lead_scoring.models WHERE name = $1 ORDER BY version DESC LIMIT 1",
            &[name.into()],
        )
        .unwrap()
        .unwrap()
        .0
    }

    fn metrics(name: &str) -> serde_json::Value {
        Spi::get_one_with_args::<JsonB>(
            "SELECT metrics FROM lead_scoring.models WHERE name = $1 ORDER BY version DESC LIMIT 1",
            &[name.into()],
        )
        .unwrap()
        .unwrap()
        .0
    }

    fn train(name: &str, options: &str) {
        Spi::run(&format!(
            "SELECT * FROM lead_scoring.train('{name}', 'leads', 'converted', ARRAY['visits', 'source', 'opted_in', 'noise'], options => '{options}')"
        ))
        .unwrap();
    }

    #[pg_test]
    fn curve_aggregates_match_the_model_reports() {
        make_leads("leads", 3000);
        train_default("m", "leads");
        Spi::run("CREATE TABLE scored AS SELECT lead_scoring.score('m', l) AS p, converted FROM leads l").unwrap();
        let agg = Spi::get_one::<JsonB>("SELECT lead_scoring.lift(p, converted) FROM scored").unwrap().unwrap().0;
        let rows = agg.as_array().unwrap();
        assert_eq!(rows.len(), 10);
        let report =
            Spi::get_one::<JsonB>("SELECT jsonb_agg(to_jsonb(l) ORDER BY decile) FROM lead_scoring.lift('m', 'leads') l")
                .unwrap()
                .unwrap()
                .0;
        for (a, b) in rows.iter().zip(report.as_array().unwrap()) {
            assert_eq!(a["leads"], b["leads"]);
            assert_eq!(a["conversions"], b["conversions"]);
            assert!((a["lift"].as_f64().unwrap() - b["lift"].as_f64().unwrap()).abs() < 1e-12);
        }
        assert!(rows[0]["lift"].as_f64().unwrap() > 1.5, "top decile converts well above average");
        assert!((rows[9]["cumulative_share_of_conversions"].as_f64().unwrap() - 1.0).abs() < 1e-12);

        let (roc_points, auc_from_curve): (Option<i64>, Option<f64>) = Spi::get_two(
            "SELECT count(*), sum((fpr - lag_fpr) * (tpr + lag_tpr) / 2)
               FROM (SELECT fpr, tpr, lag(fpr) OVER w AS lag_fpr, lag(tpr) OVER w AS lag_tpr
                       FROM lead_scoring.roc_curve('m', 'leads') WINDOW w AS (ORDER BY fpr, tpr)) c",
        )
        .unwrap();
        let auc = Spi::get_one::<f64>("SELECT lead_scoring.roc_auc(p, converted) FROM scored").unwrap().unwrap();
        assert!(roc_points.unwrap() > 10);
        assert!((auc_from_curve.unwrap() - auc).abs() < 1e-9, "trapezoid under the ROC curve is the AUC");
        let pr = Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.pr_curve('m', 'leads')").unwrap().unwrap();
        assert!(pr > 10);
        let pr_agg =
            Spi::get_one::<i64>("SELECT jsonb_array_length(lead_scoring.pr_curve(p, converted)) FROM scored").unwrap().unwrap();
        assert!(pr_agg > 10 && pr_agg <= 1000);
        let bins = Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.calibration_curve('m', 'leads', 5)").unwrap().unwrap();
        assert!((1..=5).contains(&bins));
        let (p_agg, p_fn): (Option<f64>, Option<f64>) = Spi::get_two(
            "SELECT (SELECT lead_scoring.precision_at_top(p, converted, 0.1) FROM scored), lead_scoring.precision_at_top('m', 'leads', 0.1)",
        )
        .unwrap();
        assert_eq!(p_agg, p_fn);
        let eval = Spi::get_one::<JsonB>("SELECT lead_scoring.evaluate('m', 'leads')").unwrap().unwrap().0;
        assert_eq!(eval["lift"].as_array().unwrap().len(), 10);
        assert!(eval["ks"].as_f64().unwrap() > 0.2);
        assert_eq!(eval["precision_at_top"]["10%"].as_f64(), p_fn);
    }

    #[pg_test(error = "fraction must be above 0 and at most 1, got 0")]
    fn precision_at_top_rejects_bad_fractions() {
        Spi::run("SELECT lead_scoring.precision_at_top(0.5, true, 0)").unwrap();
    }

    #[pg_test]
    fn calibration_is_fitted_on_validation_and_lowers_calibration_error() {
        make_leads("leads", 6000);
        train("weighted_raw", r#"{"class_weight": "balanced", "calibration": "none"}"#);
        train("weighted_platt", r#"{"class_weight": "balanced"}"#);
        train("isotonic", r#"{"calibration": "isotonic"}"#);
        assert_eq!(training("weighted_raw")["calibration"], "none");
        assert_eq!(training("weighted_platt")["calibration"], "platt", "on by default with class weights");
        assert_eq!(training("isotonic")["calibration"], "isotonic");
        let raw = metrics("weighted_raw")["test"]["ece"].as_f64().unwrap();
        let platt = metrics("weighted_platt")["test"]["ece"].as_f64().unwrap();
        assert!(platt < raw / 2.0, "balanced weights inflate probabilities; Platt undoes it: {raw} -> {platt}");
        // score() returns the calibrated probability that evaluate() measures.
        let diff = Spi::get_one::<f64>(
            "SELECT abs((lead_scoring.evaluate('weighted_platt', 'leads')->>'brier')::float8
                        - (SELECT lead_scoring.brier(lead_scoring.score('weighted_platt', l), converted) FROM leads l))",
        )
        .unwrap()
        .unwrap();
        assert!(diff < 1e-12);
    }

    #[pg_test]
    fn cross_validation_and_search_are_stored_and_deterministic() {
        make_leads("leads", 3000);
        train("cv", r#"{"cv": 4}"#);
        let cv = &metrics("cv")["cv"];
        assert_eq!(cv["folds"], 4);
        assert_eq!(cv["roc_auc"]["values"].as_array().unwrap().len(), 4);
        assert!(cv["roc_auc"]["mean"].as_f64().unwrap() > 0.7 && cv["roc_auc"]["std"].as_f64().unwrap() >= 0.0);

        let search = r#"{"search": {"alpha": [0.01, 1, 100000], "class_weight": ["none", "balanced"]}, "cv": 3}"#;
        train("s1", search);
        train("s2", search);
        let (t1, t2) = (training("s1"), training("s2"));
        assert_eq!(t1["search"].as_array().unwrap().len(), 6, "every grid candidate is stored");
        assert_eq!(t1["alpha"], t2["alpha"], "the same seed picks the same alpha");
        assert_ne!(t1["alpha"], 100000.0, "a penalty that erases the signal loses");
        let random = r#"{"search": {"method": "random", "n_iter": 3, "alpha": {"min": 0.001, "max": 10}}, "cv": 3}"#;
        train("r", random);
        assert_eq!(training("r")["search"].as_array().unwrap().len(), 3);
    }

    #[pg_test]
    fn time_split_cross_validation_uses_expanding_windows() {
        make_leads("leads", 3000);
        train("t", r#"{"cv": 3, "split": {"method": "time", "column": "created_at"}}"#);
        assert_eq!(metrics("t")["cv"]["time_ordered"], true);
    }

    #[pg_test]
    fn resampling_touches_only_the_training_part() {
        make_leads("leads", 3000);
        train("plain", "{}");
        train("smote", r#"{"resample": "smote"}"#);
        train("under", r#"{"resample": {"method": "undersample", "ratio": 0.5}}"#);
        let (plain, smote, under) = (training("plain"), training("smote"), training("under"));
        assert!(smote["resample"]["synthetic_rows"].as_u64().unwrap() > 0);
        assert!(under["resample"]["dropped_rows"].as_u64().unwrap() > 0);
        for part in ["validation", "test"] {
            assert_eq!(plain["parts"][part], smote["parts"][part], "{part} rows are never resampled");
            assert_eq!(plain["parts"][part], under["parts"][part]);
        }
        assert_eq!(smote["calibration"], "platt", "calibration is on by default after resampling");
    }

    #[pg_test]
    fn compare_the_model_with_rule_based_points() {
        make_leads("leads", 3000);
        train_default("m", "leads");
        Spi::run("ALTER TABLE leads ADD COLUMN rule_points int; UPDATE leads SET rule_points = CASE WHEN source = 'Reference' THEN 20 ELSE 0 END + CASE WHEN opted_in THEN 5 ELSE 0 END").unwrap();
        let rows: Vec<(String, Option<f64>, Option<f64>, Option<f64>, Option<f64>)> = Spi::connect(|c| {
            c.select(
                "SELECT metric, score_a, score_b, ci_low, p_value FROM lead_scoring.compare('leads', 'converted', 'lead_scoring.score(''m'', src)', 'rule_points')",
                None,
                &[],
            )
            .unwrap()
            .map(|r| (r.get(1).unwrap().unwrap(), r.get(2).unwrap(), r.get(3).unwrap(), r.get(4).unwrap(), r.get(5).unwrap()))
            .collect()
        });
        assert_eq!(rows.len(), 7);
        let auc = &rows[0];
        assert_eq!(auc.0, "roc_auc");
        assert!(auc.1.unwrap() > auc.2.unwrap(), "the model beats the rule");
        assert!(auc.3.unwrap() > 0.0, "and the whole confidence interval of the difference is above 0");
        assert!(auc.4.unwrap() < 0.01);
        assert_eq!(rows[1].0, "precision_top_10%");
        assert_eq!(rows[4].0, "lift_top_10%");
    }

    #[pg_test(error = "confidence must be between 0 and 1 (exclusive), got 1")]
    fn compare_rejects_bad_confidence() {
        make_leads("leads", 100);
        Spi::run("SELECT * FROM lead_scoring.compare('leads', 'converted', 'noise', 'visits', 1)").unwrap();
    }
}
