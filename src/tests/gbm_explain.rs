//! Gradient boosting, automatic choice and explanations through SQL.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;

    use crate::tests::fixtures::make_leads;

    fn train(name: &str, algorithm: &str, options: &str) {
        Spi::run(&format!(
            "SELECT * FROM lead_scoring.train('{name}', 'leads', 'converted', ARRAY['visits', 'source', 'opted_in', 'noise'],
                                              algorithm => '{algorithm}', options => '{options}')"
        ))
        .unwrap();
    }

    fn training(name: &str) -> serde_json::Value {
        Spi::get_one_with_args::<JsonB>("SELECT training FROM lead_scoring.models WHERE name = $1", &[name.into()])
            .unwrap()
            .unwrap()
            .0
    }

    /// Largest gap between the sum of explain() rows and the model's log-odds, over every lead.
    fn additivity_gap(model: &str) -> f64 {
        Spi::get_one::<f64>(&format!(
            "SELECT max(abs(e.total - ln(s.p / (1 - s.p))))
               FROM leads l,
                    LATERAL (SELECT lead_scoring.score('{model}', l) AS p) s,
                    LATERAL (SELECT sum(contribution) AS total FROM lead_scoring.explain('{model}', l)) e"
        ))
        .unwrap()
        .unwrap()
    }

    #[pg_test]
    fn gbm_trains_scores_and_explains_additively() {
        make_leads("leads", 3000);
        train("trees", "gbm", r#"{"trees": 120, "learning_rate": 0.1, "threads": 2}"#);
        let (algorithm, auc): (Option<String>, Option<f64>) =
            Spi::get_two("SELECT algorithm, (metrics->'test'->>'roc_auc')::float8 FROM lead_scoring.models WHERE name = 'trees'")
                .unwrap();
        assert_eq!(algorithm.as_deref(), Some("gbm"));
        assert!(auc.unwrap() > 0.7, "{auc:?}");
        let t = training("trees");
        assert_eq!(t["algorithm"], "gbm");
        assert!(t["iterations"].as_u64().unwrap() <= 120, "trees used (early stopping may cut them)");
        assert!(additivity_gap("trees") < 1e-6);
        // NULL visits reach the trees as missing values (native NaN handling).
        let p = Spi::get_one::<f64>("SELECT lead_scoring.score('trees', '{\"visits\": null, \"source\": \"Google\", \"opted_in\": true, \"noise\": 0.5}'::jsonb)").unwrap();
        assert!(p.unwrap() > 0.0 && p.unwrap() < 1.0);
    }

    #[pg_test]
    fn logistic_explanations_add_up_and_the_planted_signal_ranks_first() {
        make_leads("leads", 3000);
        train("lin", "logistic", "{}");
        assert!(additivity_gap("lin") < 1e-6);
        let first = Spi::get_one::<String>("SELECT feature FROM lead_scoring.feature_importance('lin') LIMIT 1").unwrap();
        assert_eq!(first.as_deref(), Some("visits"));
        let (direction, odds): (Option<String>, Option<f64>) =
            Spi::get_two("SELECT direction, odds_ratio FROM lead_scoring.feature_importance('lin') WHERE feature = 'visits'")
                .unwrap();
        assert_eq!(direction.as_deref(), Some("higher values raise the score"));
        assert!(odds.unwrap() > 1.0);
        let levels = Spi::get_one::<JsonB>(
            "SELECT level_coefficients FROM lead_scoring.feature_importance('lin') WHERE feature = 'source'",
        )
        .unwrap()
        .unwrap()
        .0;
        assert!(levels["Reference"].as_f64().unwrap() > levels["Google"].as_f64().unwrap());
        // Row and jsonb overloads agree, and one-hot levels are one row per column.
        let (rows, diff): (Option<i64>, Option<f64>) = Spi::get_two(
            "SELECT count(*), max(abs(a.contribution - b.contribution))
               FROM leads l,
                    LATERAL lead_scoring.explain('lin', l) a
                    JOIN LATERAL lead_scoring.explain('lin', to_jsonb(l)) b ON a.feature = b.feature
              WHERE l.id = 7",
        )
        .unwrap();
        assert_eq!(rows, Some(5), "baseline + 4 features");
        assert!(diff.unwrap() < 1e-12);
    }

    #[pg_test]
    fn top_reasons_read_like_a_rep_would_say_them() {
        make_leads("leads", 3000);
        train("lin", "logistic", "{}");
        let r = Spi::get_one::<JsonB>(
            "SELECT lead_scoring.top_reasons('lin', l, 2) FROM leads l WHERE source = 'Reference' AND visits = 9 LIMIT 1",
        )
        .unwrap()
        .unwrap()
        .0;
        let positive = r["positive"].as_array().unwrap();
        assert!(positive.len() <= 2 && !positive.is_empty());
        assert_eq!(positive[0]["reason"], "visits = 9: raises the score");
        assert!(positive.iter().any(|p| p["reason"] == "source = Reference: raises the score"));
        assert!(r["score"].as_f64().unwrap() > 0.5);
        let j = Spi::get_one::<JsonB>("SELECT lead_scoring.top_reasons('lin', '{\"visits\": 0, \"source\": \"Google\", \"opted_in\": false, \"noise\": 0.1}'::jsonb)").unwrap().unwrap().0;
        assert_eq!(j["negative"][0]["reason"], "visits = 0: lowers the score");
    }

    #[pg_test]
    fn auto_keeps_logistic_unless_gbm_clearly_wins_and_says_why() {
        make_leads("leads", 3000);
        train("a", "auto", r#"{"trees": 80}"#);
        let auto = &training("a")["auto"];
        assert!(auto["logistic_validation_roc_auc"].as_f64().is_some());
        assert!(auto["gbm_validation_roc_auc"].as_f64().is_some());
        // The planted truth is linear in the log-odds: gbm cannot win by more than 0.01.
        assert_eq!(auto["chosen"], "logistic", "{auto}");
        assert!(auto["reason"].as_str().unwrap().starts_with("logistic kept"));
        // A negative min_gain is rejected; min_gain 0 lets any gain win.
        train("b", "auto", r#"{"trees": 80, "min_gain": 0}"#);
        let b = &training("b")["auto"];
        let gbm_better = b["gbm_validation_roc_auc"].as_f64() > b["logistic_validation_roc_auc"].as_f64();
        assert_eq!(b["chosen"] == "gbm", gbm_better);
    }

    #[pg_test(error = "k must be between 1 and 100, got 0")]
    fn top_reasons_rejects_bad_k() {
        make_leads("leads", 500);
        train("lin", "logistic", "{}");
        Spi::run("SELECT lead_scoring.top_reasons('lin', l, 0) FROM leads l LIMIT 1").unwrap();
    }

    #[pg_test(error = "option \"subsample\" must be above 0 and at most 1, got 2")]
    fn bad_booster_option() {
        make_leads("leads", 500);
        train("t", "gbm", r#"{"subsample": 2}"#);
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn importance_of_an_unknown_model() {
        Spi::run("SELECT * FROM lead_scoring.feature_importance('nope')").unwrap();
    }
}
