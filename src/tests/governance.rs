//! Registry governance: rollback, retire, the auto-deploy policy of retraining, the model card,
//! and what an unprivileged role may do.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    fn train(options: &str) -> (i32, bool) {
        let (v, d) = Spi::get_two::<i32, bool>(&format!(
            "SELECT version, deployed FROM lead_scoring.train('m', 'leads', 'converted', options => '{options}')"
        ))
        .unwrap();
        (v.unwrap(), d.unwrap())
    }

    fn live() -> i32 {
        Spi::get_one::<i32>("SELECT version FROM lead_scoring.models WHERE name = 'm' AND deployed").unwrap().unwrap()
    }

    #[pg_test]
    fn rollback_returns_to_the_previous_deployment_and_logs_it() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        train(r#"{"exclude": ["id"], "alpha": 50, "deploy": "never"}"#);
        train(r#"{"exclude": ["id"], "alpha": 5, "deploy": "never"}"#);
        Spi::run("SELECT lead_scoring.deploy('m', 2, 'try 2')").unwrap();
        Spi::run("SELECT lead_scoring.deploy('m', 3, 'try 3')").unwrap();
        let r = Spi::get_one::<pgrx::JsonB>("SELECT lead_scoring.rollback('m', '3 mis-scores partners')").unwrap().unwrap().0;
        assert_eq!(r["deployed_version"], 2);
        assert_eq!(r["previous_version"], 3);
        assert_eq!(live(), 2);
        // A second rollback walks further back instead of undoing the first.
        Spi::run("SELECT lead_scoring.rollback('m', 'back to the original')").unwrap();
        assert_eq!(live(), 1);
        let (reason, actor) = Spi::get_two::<String, String>(
            "SELECT reason, actor::text FROM lead_scoring.model_events WHERE event = 'rolled_back' ORDER BY id LIMIT 1",
        )
        .unwrap();
        assert_eq!(reason.as_deref(), Some("3 mis-scores partners"));
        assert_eq!(actor, Spi::get_one::<String>("SELECT current_user::text").unwrap());
    }

    #[pg_test(error = "model \"m\" has no earlier deployed version to roll back to")]
    fn rollback_without_history() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.rollback('m', 'why not')").unwrap();
    }

    /// Version 1 redeployed by hand, then rolled back from: a second rollback must not return to it.
    #[pg_test(error = "model \"m\" has no earlier deployed version to roll back to")]
    fn a_second_rollback_never_returns_to_the_version_rolled_back_from() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        train(r#"{"exclude": ["id"], "alpha": 50, "deploy": "always"}"#);
        Spi::run("SELECT lead_scoring.deploy('m', 1, 'back to 1 by hand')").unwrap();
        Spi::run("SELECT lead_scoring.rollback('m', '1 was better after all')").unwrap();
        assert_eq!(live(), 2);
        Spi::run("SELECT lead_scoring.rollback('m', 'again')").unwrap();
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn rollback_unknown_model() {
        Spi::run("SELECT lead_scoring.rollback('nope')").unwrap();
    }

    #[pg_test]
    fn retire_blocks_scoring_by_version_and_deploying() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        train(r#"{"exclude": ["id"], "alpha": 50, "deploy": "never"}"#);
        Spi::run("SELECT lead_scoring.retire('m', 2, 'superseded')").unwrap();
        let retired =
            Spi::get_one::<bool>("SELECT retired_at IS NOT NULL FROM lead_scoring.models WHERE name = 'm' AND version = 2")
                .unwrap();
        assert_eq!(retired, Some(true));
        let event = Spi::get_one::<String>("SELECT reason FROM lead_scoring.model_events WHERE event = 'retired'").unwrap();
        assert_eq!(event.as_deref(), Some("superseded"));
    }

    #[pg_test(error = "version 2 of model \"m\" is retired")]
    fn a_retired_version_cannot_be_scored() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        train(r#"{"exclude": ["id"], "alpha": 50, "deploy": "never"}"#);
        Spi::run("SELECT lead_scoring.retire('m', 2, 'superseded')").unwrap();
        Spi::run("SELECT lead_scoring.score('m@2', l) FROM leads l").unwrap();
    }

    #[pg_test(error = "version 2 of model \"m\" is retired")]
    fn a_retired_version_cannot_be_deployed() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        train(r#"{"exclude": ["id"], "alpha": 50, "deploy": "never"}"#);
        Spi::run("SELECT lead_scoring.retire('m', 2, 'superseded')").unwrap();
        Spi::run("SELECT lead_scoring.deploy('m', 2)").unwrap();
    }

    #[pg_test(error = "version 1 of model \"m\" is deployed and cannot be retired")]
    fn the_deployed_version_cannot_be_retired() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.retire('m', 1, 'oops')").unwrap();
    }

    #[pg_test]
    fn if_better_compares_on_the_same_test_rows_and_logs_the_numbers() {
        make_leads("leads", 2000);
        train_default("m", "leads");
        // The same data and options give the same test AUC: at least as good, so it deploys.
        let (v2, deployed) = train(r#"{"exclude": ["id"]}"#);
        assert_eq!((v2, deployed), (2, true));
        // Pooling every text level into (other) loses the source signal: worse than the live
        // model on the same test rows.
        let (v3, deployed) = train(r#"{"exclude": ["id"], "min_level_count": 100000}"#);
        assert_eq!((v3, deployed), (3, false));
        let (detail, reason) = Spi::get_two::<pgrx::JsonB, String>(
            "SELECT detail, reason FROM lead_scoring.model_events WHERE event = 'deploy_decision' AND version = 3",
        )
        .unwrap();
        let detail = detail.unwrap().0;
        assert_eq!(detail["policy"], "if_better");
        assert_eq!(detail["live_version"], 2);
        assert!(detail["live_test_roc_auc_on_same_rows"].as_f64().unwrap() > detail["new_test_roc_auc"].as_f64().unwrap());
        assert!(reason.unwrap().contains("< live"));
        assert_eq!(live(), 2);
        // Without a column the live model needs, the live model cannot be compared: not deployed.
        assert_eq!(train(r#"{"exclude": ["id", "visits"]}"#), (4, false));
        let reason = Spi::get_one::<String>(
            "SELECT reason FROM lead_scoring.model_events WHERE event = 'deploy_decision' AND version = 4",
        )
        .unwrap();
        assert_eq!(reason.as_deref(), Some("the live version could not be evaluated on the new test rows: its feature \"visits\" is not among the new version's columns"));
        // "always" deploys even the worse model; "never" leaves the live one.
        assert_eq!(train(r#"{"exclude": ["id", "visits"], "deploy": "always"}"#), (5, true));
        assert_eq!(train(r#"{"exclude": ["id"], "deploy": "never"}"#), (6, false));
        assert_eq!(live(), 5);
    }

    #[pg_test(error = "option \"deploy\" must be \"always\", \"if_better\", \"never\" or \"approval\", got \"sometimes\"")]
    fn unknown_deploy_policy() {
        make_leads("leads", 200);
        train(r#"{"deploy": "sometimes"}"#);
    }

    #[pg_test]
    fn model_card_has_every_section_and_the_history() {
        make_leads("leads", 1000);
        Spi::run("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"split\": {\"method\": \"time\", \"column\": \"created_at\"}}')").unwrap();
        let card = Spi::get_one::<String>("SELECT lead_scoring.model_card('m')").unwrap().unwrap();
        assert!(card.starts_with("# Model card: m (version 1, deployed)"), "{card}");
        for section in [
            "## Intended use",
            "## Training data",
            "## Features",
            "## Algorithm and hyperparameters",
            "## Metrics",
            "## Threshold and tiers",
            "## Known limitations",
            "## Change history",
        ] {
            assert!(card.contains(section), "missing {section} in {card}");
        }
        assert!(card.contains("| visits | numeric |"), "{card}");
        assert!(card.contains("data window (split column in the source now): 2025-01-01"), "{card}");
        assert!(card.contains("| deployed | 1 |"), "{card}");
        assert!(card.contains("first version of this model"), "{card}");
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn model_card_of_an_unknown_model() {
        Spi::run("SELECT lead_scoring.model_card('nope')").unwrap();
    }

    fn as_rep(sql: &str) {
        Spi::run("CREATE ROLE ls_rep NOLOGIN").unwrap();
        Spi::run("GRANT SELECT ON leads TO ls_rep").unwrap();
        Spi::run("SET LOCAL ROLE ls_rep").unwrap();
        Spi::run(sql).unwrap();
    }

    #[pg_test]
    fn an_unprivileged_role_can_score_and_read_the_overview() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        as_rep("SELECT 1");
        assert_eq!(Spi::get_one::<i64>("SELECT count(lead_scoring.score('m', l)) FROM leads l").unwrap(), Some(1000));
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.model_overview").unwrap(), Some(1));
        assert!(Spi::get_one::<String>("SELECT lead_scoring.model_card('m')").unwrap().is_some());
    }

    #[pg_test(error = "only the role that trained model \"m\" first, its members and superusers may change it")]
    fn an_unprivileged_role_cannot_train() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        as_rep("SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')");
    }

    #[pg_test(error = "only the role that trained model \"m\" first, its members and superusers may change it")]
    fn an_unprivileged_role_cannot_deploy() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        train(r#"{"exclude": ["id"], "deploy": "never"}"#);
        as_rep("SELECT lead_scoring.deploy('m', 2, 'sneaky')");
    }

    #[pg_test]
    fn flagged_labels_are_used_by_retraining_latest_flag_wins() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        let id = Spi::get_one::<i64>("SELECT lead_scoring.flag('m', '1', true, 'signed last week')").unwrap().unwrap();
        assert!(id > 0);
        Spi::run("SELECT lead_scoring.flag('m', '1', false, 'no, that was another account')").unwrap();
        Spi::run("SELECT lead_scoring.flag('m', i::text, true) FROM generate_series(2, 100) i").unwrap();
        let positives = |version: i32| {
            Spi::get_one::<i64>(&format!(
                "SELECT sum((p.value->>'positives')::bigint)::bigint FROM lead_scoring.models, jsonb_each(training->'parts') p
                  WHERE name = 'm' AND version = {version}"
            ))
            .unwrap()
            .unwrap()
        };
        let (v, _) = train(r#"{"exclude": ["id"], "use_feedback": true, "key": "id", "deploy": "never"}"#);
        let expected = Spi::get_one::<i64>(
            "SELECT count(*) FILTER (WHERE CASE WHEN id = 1 THEN false WHEN id <= 100 THEN true ELSE converted END) FROM leads",
        )
        .unwrap()
        .unwrap();
        assert_eq!(positives(v), expected);
        assert_ne!(positives(1), expected, "the flags changed some labels");
        let source =
            Spi::get_one::<String>(&format!("SELECT source FROM lead_scoring.models WHERE name = 'm' AND version = {v}"))
                .unwrap();
        assert_eq!(source.as_deref(), Some("leads (with rep feedback)"));
    }

    #[pg_test(error = "options.use_feedback needs options.key, the source's lead key column")]
    fn use_feedback_needs_a_key() {
        make_leads("leads", 200);
        train(r#"{"use_feedback": true}"#);
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn flag_for_an_unknown_model() {
        Spi::run("SELECT lead_scoring.flag('nope', '1', true)").unwrap();
    }

    #[pg_test(error = "correct_label must not be NULL")]
    fn flag_without_a_label() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.flag('m', '1', NULL)").unwrap();
    }

    #[pg_test]
    fn an_unprivileged_role_can_flag() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        as_rep("SELECT lead_scoring.flag('m', '7', true, 'rep says so')");
        assert_eq!(
            Spi::get_one::<String>("SELECT flagged_by::text FROM lead_scoring.lead_feedback").unwrap().as_deref(),
            Some("ls_rep")
        );
    }
}
