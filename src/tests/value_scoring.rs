//! Value-based scoring through SQL: a regression of deal value (`options.task = 'regression'`),
//! expected_value(), value tiers, and the errors of each.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{error_of, make_leads};

    /// `leads` with `deal_value` = 1000 + 400 per visit + 3000 for Reference leads, +-250 noise;
    /// 20 rows have a NULL and 10 a NaN deal value. The conversion model `m` and the value model `v`.
    fn setup() {
        make_leads("leads", 3000);
        Spi::run(
            "ALTER TABLE leads ADD COLUMN deal_value float8;
             UPDATE leads SET deal_value = CASE WHEN id % 150 = 0 THEN NULL
                                                WHEN id % 300 = 1 THEN 'NaN'::float8
                                                ELSE 1000 + 400 * coalesce(visits, 3)
                                                     + CASE source WHEN 'Reference' THEN 3000 ELSE 0 END
                                                     + 500 * (noise - 0.5) END",
        )
        .unwrap();
        // The deal value is known only once a deal closes: never a feature of the conversion model.
        Spi::run(
            "SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"deal_value\"], \"key\": \"id\"}')",
        )
        .unwrap();
        Spi::run(
            "SELECT * FROM lead_scoring.train('v', 'leads', 'deal_value', ARRAY['visits', 'source', 'opted_in'],
                                             options => '{\"task\": \"regression\"}')",
        )
        .unwrap();
    }

    #[pg_test]
    fn a_regression_predicts_deal_value_with_regression_metrics() {
        setup();
        let (algorithm, skipped, auc): (Option<String>, Option<i64>, Option<f64>) = Spi::get_three(
            "SELECT algorithm, (training->'regression'->>'skipped_labels')::int8, (metrics->'test'->>'roc_auc')::float8
               FROM lead_scoring.models WHERE name = 'v'",
        )
        .unwrap();
        let (r2, rmse): (Option<f64>, Option<f64>) = Spi::get_two(
            "SELECT (metrics->'test'->>'r2')::float8, (metrics->'test'->>'rmse')::float8 FROM lead_scoring.models WHERE name = 'v'",
        )
        .unwrap();
        assert_eq!(algorithm.as_deref(), Some("linear"));
        assert!(r2.unwrap() > 0.95, "R² {r2:?}");
        // The noise is uniform over 500: RMSE about 500 / sqrt(12) = 144.
        assert!((rmse.unwrap() - 144.0).abs() < 25.0, "RMSE {rmse:?}");
        assert_eq!(auc, None, "no ROC AUC for a predicted value");
        assert_eq!(skipped, Some(30), "20 NULL and 10 NaN deal values are left out and counted");
        // score() is the predicted amount, not a probability: a Reference lead with 9 visits is
        // worth about 1000 + 3600 + 3000.
        let worth = Spi::get_one::<f64>(
            "SELECT lead_scoring.score('v', '{\"visits\": 9, \"source\": \"Reference\", \"opted_in\": true}'::jsonb)",
        )
        .unwrap()
        .unwrap();
        assert!((worth - 7600.0).abs() < 100.0, "{worth}");
        // explain(): contributions in the label's unit add up to the predicted value.
        let gap = Spi::get_one::<f64>(
            "SELECT max(abs((SELECT sum(contribution) FROM lead_scoring.explain('v', l)) - lead_scoring.score('v', l)))
               FROM (SELECT * FROM leads LIMIT 50) l",
        )
        .unwrap()
        .unwrap();
        assert!(gap < 1e-6, "{gap}");
        let model_card = Spi::get_one::<String>("SELECT lead_scoring.model_card('v')").unwrap().unwrap();
        assert!(model_card.contains("task: regression") && model_card.contains("RMSE"), "{model_card}");
        // A scored view of a regression model: the value as score, no score_100.
        Spi::run("SELECT lead_scoring.create_scored_view('valued_leads', 'leads', 'v')").unwrap();
        let (without_100, valued): (Option<i64>, Option<i64>) = Spi::get_two(
            "SELECT count(*) FILTER (WHERE score_100 IS NULL), count(*) FILTER (WHERE score > 1 AND tier IN ('Gold', 'Silver', 'Bronze'))
               FROM valued_leads",
        )
        .unwrap();
        assert_eq!((without_100, valued), (Some(3000), Some(3000)));
        let report = Spi::get_one::<String>("SELECT lead_scoring.report('v')").unwrap().unwrap();
        assert!(report.contains("test RMSE") && !report.contains("ROC curve"), "the report shows the regression's metrics");
        // A second version deploys only if its test RMSE is no worse than the live one's on the
        // same rows: penalised to almost a constant, it is worse.
        let deployed = Spi::get_one::<bool>(
            "SELECT deployed FROM lead_scoring.train('v', 'leads', 'deal_value', ARRAY['visits', 'source', 'opted_in'],
                                                      options => '{\"task\": \"regression\", \"alpha\": 1e6}')",
        )
        .unwrap();
        let reason = Spi::get_one::<String>(
            "SELECT training->'deploy_decision'->>'reason' FROM lead_scoring.models WHERE name = 'v' AND version = 2",
        )
        .unwrap();
        assert_eq!(deployed, Some(false), "{reason:?}");
        assert!(reason.as_deref().is_some_and(|r| r.contains("new test RMSE") && r.contains("> live")), "{reason:?}");
    }

    #[pg_test]
    fn gbm_regression_predicts_the_value_with_trees() {
        setup();
        Spi::run(
            "SELECT * FROM lead_scoring.train('trees', 'leads', 'deal_value', ARRAY['visits', 'source', 'opted_in'], 'gbm',
                                              options => '{\"task\": \"regression\"}')",
        )
        .unwrap();
        let (algorithm, skipped, r2) = Spi::get_three::<String, i64, f64>(
            "SELECT algorithm, (training->'regression'->>'skipped_labels')::int8, (metrics->'test'->>'r2')::float8
               FROM lead_scoring.models WHERE name = 'trees'",
        )
        .unwrap();
        assert_eq!(algorithm.as_deref(), Some("gbm"));
        assert_eq!(skipped, Some(30));
        assert!(r2.unwrap() > 0.9, "R² {r2:?}");
        // A value, not a probability, and TreeSHAP contributions that add up to it.
        let lead = "'{\"visits\": 9, \"source\": \"Reference\", \"opted_in\": true}'::jsonb";
        let (worth, total) = Spi::get_two::<f64, f64>(&format!(
            "SELECT lead_scoring.score('trees', {lead}),
                    (SELECT sum(contribution) FROM lead_scoring.explain('trees', {lead}))"
        ))
        .unwrap();
        let (worth, total) = (worth.unwrap(), total.unwrap());
        assert!((worth - 7600.0).abs() < 500.0, "{worth}");
        assert!((worth - total).abs() < 1e-6, "{worth} vs {total}");
        // It prices leads in expected_value() like the linear value model.
        let ev = Spi::get_one::<f64>(
            "SELECT max(abs(lead_scoring.expected_value('m', 'trees', l)
                            - lead_scoring.score('m', l) * greatest(lead_scoring.score('trees', l), 0)))
               FROM leads l WHERE id <= 50",
        )
        .unwrap();
        assert!(ev.unwrap().abs() < 1e-9, "{ev:?}");
    }

    #[pg_test]
    fn a_table_row_reaches_expected_value_as_its_columns_with_the_same_values() {
        setup();
        let plan = Spi::connect(|client| {
            let rows = client.select(
                "EXPLAIN (VERBOSE, COSTS OFF) SELECT lead_scoring.expected_value('m', 'v', l) FROM leads l",
                None,
                &[],
            )?;
            rows.map(|row| row.get::<String>(1).map(Option::unwrap_or_default)).collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
        .join("\n");
        assert!(plan.contains("lead_scoring.expected_value_fields('m'::text, 'v'::text, 'leads'::regtype, "), "{plan}");
        // The rewritten call (FROM leads l) and the whole-row call (a subquery the planner keeps),
        // bit for bit, on every lead, NULL and NaN deal values included.
        let disagreements = Spi::get_one::<i64>(
            "SELECT count(*) FROM (SELECT id, lead_scoring.expected_value('m', 'v', l) e FROM leads l) a
               FULL JOIN (SELECT id, lead_scoring.expected_value('m', 'v', l) e FROM (SELECT * FROM leads OFFSET 0) l) b USING (id)
              WHERE a.e::text IS DISTINCT FROM b.e::text",
        );
        assert_eq!(disagreements, Ok(Some(0)));
        // A lead the value model prices below 0 is worth 0 through the columns too.
        Spi::run("INSERT INTO leads (id, visits, source, opted_in, noise) VALUES (-1, -40, 'Google', false, 0.5)").unwrap();
        let negative = Spi::get_two::<f64, f64>(
            "SELECT lead_scoring.score('v', l), lead_scoring.expected_value('m', 'v', l) FROM leads l WHERE id = -1",
        );
        assert!(matches!(negative, Ok((Some(v), Some(0.0))) if v < 0.0), "{negative:?}");
        // A NULL model name gives NULL, as the strict expected_value() does; the model kinds are
        // checked as expected_value() checks them, named the same.
        assert_eq!(Spi::get_one::<f64>("SELECT lead_scoring.expected_value(NULL, 'v', l) FROM leads l LIMIT 1"), Ok(None));
        assert_eq!(Spi::get_one::<f64>("SELECT lead_scoring.expected_value('m', NULL, l) FROM leads l LIMIT 1"), Ok(None));
        assert!(error_of("SELECT lead_scoring.expected_value('v', 'v', l) FROM leads l")
            .contains("expected_value()'s model (the first argument) needs a classification model"));
        assert!(error_of("SELECT lead_scoring.expected_value('m', 'm', l) FROM leads l")
            .contains("expected_value()'s value_model \"m@1\" is a classification model"));
        // The columns are checked against the row type they claim.
        let wrong = error_of("SELECT lead_scoring.expected_value_fields('m', 'v', 'leads'::regtype, 1, 2)");
        assert!(wrong.contains("2 column values for a row type with 9 columns"), "{wrong}");
    }

    #[pg_test]
    fn expected_value_is_probability_times_predicted_value() {
        setup();
        let (gap, leads, capped): (Option<f64>, Option<i64>, Option<i64>) = Spi::get_three(
            "SELECT max(abs(lead_scoring.expected_value('m', 'v', l)
                            - lead_scoring.score('m', l) * greatest(lead_scoring.score('v', l), 0))),
                    count(*),
                    count(*) FILTER (WHERE lead_scoring.score('v', l) < 0)
               FROM leads l",
        )
        .unwrap();
        assert!(gap.unwrap() <= 1e-12, "{gap:?}");
        assert_eq!(leads, Some(3000));
        assert_eq!(capped, Some(0), "the planted values are all positive");
        // The jsonb form, and a negative predicted value counted as 0.
        let (json_gap, negative): (Option<f64>, Option<f64>) = Spi::get_two(
            "SELECT abs(lead_scoring.expected_value('m', 'v', j) - lead_scoring.score('m', j) * lead_scoring.score('v', j)),
                    lead_scoring.expected_value('m', 'v', '{\"visits\": -40, \"source\": \"Google\", \"opted_in\": false, \"noise\": 0.5, \"email\": null, \"created_at\": null}'::jsonb)
               FROM (SELECT '{\"visits\": 5, \"source\": \"Reference\", \"opted_in\": true, \"noise\": 0.5, \"email\": null, \"created_at\": null}'::jsonb AS j) s",
        )
        .unwrap();
        assert!(json_gap.unwrap() <= 1e-12, "{json_gap:?}");
        assert_eq!(negative, Some(0.0));
        // strict, as score(): a NULL lead gives NULL.
        assert_eq!(Spi::get_one::<f64>("SELECT lead_scoring.expected_value('m', 'v', NULL::leads)").unwrap(), None);
        let tier = Spi::get_one::<String>(
            "SELECT lead_scoring.expected_value_tier('m', 'v', '{\"visits\": 9, \"source\": \"Reference\", \"opted_in\": true, \"noise\": 0.5, \"email\": null, \"created_at\": null}'::jsonb,
                                                     '{\"Gold\": 3000, \"Silver\": 500, \"Bronze\": 0}')",
        )
        .unwrap();
        assert_eq!(tier.as_deref(), Some("Gold"));
    }

    #[pg_test]
    fn optimal_threshold_prices_each_validation_lead_by_the_value_model() {
        setup();
        let chosen = "FROM lead_scoring.optimal_threshold('m', 'expected_value', cost_per_lead => 1500, value_model => 'v')";
        let (threshold, share): (Option<f64>, Option<f64>) =
            Spi::get_two(&format!("SELECT threshold, share_pursued {chosen}")).unwrap();
        let (expected, realized): (Option<f64>, Option<f64>) =
            Spi::get_two(&format!("SELECT expected_profit_per_1000, realized_profit_per_1000 {chosen}")).unwrap();
        assert_eq!(threshold, None, "no single probability threshold");
        // The same numbers computed in SQL over the validation leads.
        let (want_share, want_expected, want_realized): (Option<f64>, Option<f64>, Option<f64>) = Spi::get_three(
            "SELECT avg((ev > 1500)::int)::float8,
                    1000 * sum(CASE WHEN ev > 1500 THEN ev - 1500 ELSE 0 END) / count(*),
                    1000 * sum(CASE WHEN ev > 1500 THEN (CASE WHEN converted THEN value ELSE 0 END) - 1500 ELSE 0 END) / count(*)
               FROM (SELECT converted, lead_scoring.expected_value('m', 'v', l) AS ev, greatest(lead_scoring.score('v', l), 0) AS value
                       FROM leads l WHERE lead_scoring.split_of('m', l.id::text) = 'validation') s",
        )
        .unwrap();
        assert!(share.unwrap() > 0.0 && share.unwrap() < 1.0, "{share:?}");
        assert!((share.unwrap() - want_share.unwrap()).abs() < 1e-12, "{share:?} vs {want_share:?}");
        assert!((expected.unwrap() - want_expected.unwrap()).abs() < 1e-6, "{expected:?} vs {want_expected:?}");
        assert!((realized.unwrap() - want_realized.unwrap()).abs() < 1e-6, "{realized:?} vs {want_realized:?}");
    }

    #[pg_test]
    fn value_tiers_from_quantiles_and_amounts() {
        setup();
        // Default value tiers: Gold for the top 10% of validation predictions, Silver the next 30%.
        let (gold, silver, all): (Option<i64>, Option<i64>, Option<i64>) = Spi::get_three(
            "SELECT count(*) FILTER (WHERE t = 'Gold'), count(*) FILTER (WHERE t = 'Silver'), count(*)
               FROM (SELECT lead_scoring.tier('v', l) AS t FROM leads l) s",
        )
        .unwrap();
        let share = |k: Option<i64>| k.unwrap() as f64 / all.unwrap() as f64;
        assert!((0.04..0.2).contains(&share(gold)), "Gold {gold:?} of {all:?}");
        assert!((0.2..0.45).contains(&share(silver)), "Silver {silver:?} of {all:?}");
        // Amounts through set_tiers: bounds above 1 are fine for a regression model...
        Spi::run("SELECT lead_scoring.set_tiers('v', '{\"Gold\": 6000, \"Silver\": 3000, \"Bronze\": 0}')").unwrap();
        let tier = Spi::get_one::<String>(
            "SELECT lead_scoring.tier('v', '{\"visits\": 9, \"source\": \"Reference\", \"opted_in\": true}'::jsonb)",
        )
        .unwrap();
        assert_eq!(tier.as_deref(), Some("Gold"));
        // ...and an error for a classification model, whose tiers are probabilities.
        let err = error_of("SELECT lead_scoring.set_tiers('m', '{\"Gold\": 6000, \"Bronze\": 0}')");
        assert!(err.contains("between 0 and 1"), "{err}");
        // Quantiles as an option.
        Spi::run(
            "SELECT * FROM lead_scoring.train('q', 'leads', 'deal_value', ARRAY['visits', 'source'],
                                             options => '{\"task\": \"regression\", \"value_tiers\": {\"top\": 0.5, \"rest\": 0}}')",
        )
        .unwrap();
        let top = Spi::get_one::<f64>(
            "SELECT avg((lead_scoring.tier('q', l) = 'top')::int)::float8 FROM leads l WHERE deal_value IS NOT NULL",
        )
        .unwrap()
        .unwrap();
        assert!((0.35..0.65).contains(&top), "{top}");
    }

    #[pg_test]
    fn what_regression_and_expected_value_refuse() {
        setup();
        let train = |label: &str, algorithm: &str, options: &str| {
            error_of(&format!(
                "SELECT * FROM lead_scoring.train('x', 'leads', '{label}', ARRAY['visits'], '{algorithm}', '{options}')"
            ))
        };
        let regression = r#"{"task": "regression"}"#;
        let cases = [
            (train("source", "logistic", regression), "22023: label column \"source\" has type text; options.task 'regression' needs a numeric label"),
            (train("converted", "logistic", regression), "22023: label column \"converted\" has type boolean"),
            (
                train("deal_value", "logistic", r#"{"task": "regression", "positive_label": "1"}"#),
                "22023: option \"positive_label\" does not apply to options.task 'regression'",
            ),
            (
                train("deal_value", "logistic", r#"{"task": "regression", "outcomes": {"converted": [1], "not_converted": [0]}}"#),
                "22023: option \"outcomes\" does not apply",
            ),
            (error_of("SELECT lead_scoring.expected_value('v', 'm', l) FROM leads l LIMIT 1"), "0A000: expected_value()'s model (the first argument) needs a classification model; \"v@1\" is a regression model"),
            (error_of("SELECT lead_scoring.expected_value('m', 'm', l) FROM leads l LIMIT 1"), "42809: expected_value()'s value_model \"m@1\" is a classification model"),
            (error_of("SELECT lead_scoring.expected_value('nope', 'v', l) FROM leads l LIMIT 1"), "model \"nope\""),
            (error_of("SELECT lead_scoring.expected_value('m', 'nope', l) FROM leads l LIMIT 1"), "model \"nope\""),
            (error_of("SELECT lead_scoring.score_100('v', l) FROM leads l LIMIT 1"), "0A000: score_100() needs a classification model"),
            (error_of("SELECT * FROM lead_scoring.optimal_threshold('v', 'f1')"), "0A000: optimal_threshold() needs a classification model"),
            (error_of("SELECT * FROM lead_scoring.evaluate('v', 'leads')"), "0A000: evaluating on labelled rows"),
            (error_of("SELECT * FROM lead_scoring.monitor('v', 'leads')"), "0A000: monitor() needs a classification model"),
            (error_of("SELECT lead_scoring.model_sql('v')"), "0A000: model_sql supports logistic models only"),
            (
                error_of("SELECT * FROM lead_scoring.optimal_threshold('m', 'expected_value', cost_per_lead => 1, value_model => 'm')"),
                "42809: optimal_threshold()'s value_model \"m@1\" is a classification model",
            ),
            (
                error_of("SELECT * FROM lead_scoring.optimal_threshold('m', 'f1', value_model => 'v')"),
                "22023: value_model prices leads for method \"expected_value\" only",
            ),
            (
                error_of("SELECT * FROM lead_scoring.optimal_threshold('m', 'expected_value', 5000, 1, value_model => 'v')"),
                "22023: give deal_value or value_model, not both",
            ),
        ];
        for (got, want) in cases {
            assert!(got.starts_with(want) || (want.starts_with("model") && got.contains(want)), "got {got:?}, want {want:?}");
        }
    }
}
