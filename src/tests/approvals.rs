//! The approval workflow (`options.deploy = 'approval'`, `approve()`, `reject()`, the
//! `lead_scoring.approvers` setting), the card people write (`set_card()`), the decision log
//! (`log_decision()`), `if_better` with a margin or a significance test, and
//! `options.retrain_on_alert`: each function's behaviour and every error with its SQLSTATE.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    /// Model `m` (version 1 deployed), roles `ls_risk` (the approvers' group) with member
    /// `ls_alice` and an outsider `ls_bob`, both allowed to write the catalog, so that only the
    /// approvers rule tells them apart; and `outcome(sql)`: 'ok' or `SQLSTATE: message`.
    fn setup() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run(
            "CREATE FUNCTION outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
             BEGIN EXECUTE q; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
             CREATE ROLE ls_risk NOLOGIN;
             CREATE ROLE ls_alice NOLOGIN IN ROLE ls_risk;
             CREATE ROLE ls_bob NOLOGIN;
             GRANT INSERT, UPDATE ON lead_scoring.models TO ls_alice, ls_bob;
             GRANT INSERT ON lead_scoring.model_events TO ls_alice, ls_bob;
             GRANT USAGE ON SEQUENCE lead_scoring.models_id_seq, lead_scoring.model_events_id_seq TO ls_alice, ls_bob;",
        )
        .unwrap();
    }

    fn outcome(sql: &str) -> String {
        Spi::get_one_with_args::<String>("SELECT outcome($1)", &[sql.into()]).unwrap().unwrap()
    }

    /// `outcome(sql)` run as `role`.
    fn outcome_as(role: &str, sql: &str) -> String {
        Spi::run(&format!("SET LOCAL ROLE {role}")).unwrap();
        let got = outcome(sql);
        Spi::run("RESET ROLE").unwrap();
        got
    }

    fn assert_state(got: &str, state: &str, words: &str) {
        assert!(got.starts_with(&format!("{state}: ")) && got.contains(words), "expected {state} with '{words}', got {got}");
    }

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

    fn approval(version: i32) -> Option<String> {
        Spi::get_one::<String>(&format!(
            "SELECT approval FROM lead_scoring.model_overview WHERE name = 'm' AND version = {version}"
        ))
        .unwrap()
    }

    const PENDING: &str = r#"{"exclude": ["id"], "alpha": 5, "deploy": "approval"}"#;

    #[pg_test]
    fn a_pending_version_is_deployed_only_by_an_approver() {
        setup();
        assert_eq!(train(PENDING), (2, false));
        assert_eq!(approval(2).as_deref(), Some("pending"));
        assert_eq!(live(), 1, "the live version keeps scoring");
        let card = Spi::get_one::<String>("SELECT lead_scoring.model_card('m@2')").unwrap().unwrap();
        assert!(card.starts_with("# Model card: m (version 2, pending approval)"), "{card}");
        // Not around the workflow: the owner's deploy() refuses a pending version.
        assert_state(&outcome("SELECT lead_scoring.deploy('m', 2, 'skip the review')"), "55000", "pending approval");

        Spi::run("SET LOCAL lead_scoring.approvers = 'ls_risk, ls_nobody'").unwrap();
        let approve = "SELECT lead_scoring.approve('m', 2, 'lift on the Q3 test rows reviewed')";
        assert_state(&outcome_as("ls_bob", approve), "42501", "not a member of a role in lead_scoring.approvers");
        assert_eq!(approval(2).as_deref(), Some("pending"), "a refused approval changes nothing");
        assert_eq!(outcome_as("ls_alice", approve), "ok");
        assert_eq!(live(), 2);
        assert_eq!(approval(2).as_deref(), Some("approved"));
        let (approved_by, why) = Spi::get_two::<String, String>(
            "SELECT actor::text, reason FROM lead_scoring.model_events WHERE event = 'approved' AND version = 2",
        )
        .unwrap();
        assert_eq!((approved_by.as_deref(), why.as_deref()), (Some("ls_alice"), Some("lift on the Q3 test rows reviewed")));
        let deployed_by =
            Spi::get_one::<String>("SELECT actor::text FROM lead_scoring.model_events WHERE event = 'deployed' AND version = 2")
                .unwrap();
        assert_eq!(deployed_by.as_deref(), Some("ls_alice"), "the deployment history names the approver");
        // Approved once is not pending any more.
        assert_state(&outcome_as("ls_alice", approve), "55000", "is not pending approval (it was approved)");
    }

    #[pg_test]
    fn reject_keeps_the_live_version_and_blocks_deploying() {
        setup();
        train(PENDING);
        let r = Spi::get_one::<pgrx::JsonB>("SELECT lead_scoring.reject('m', 2, 'worse on partner leads')").unwrap().unwrap().0;
        assert_eq!(r["rejected_version"], 2);
        assert_eq!(approval(2).as_deref(), Some("rejected"));
        assert_eq!(live(), 1);
        assert_state(&outcome("SELECT lead_scoring.deploy('m', 2)"), "55000", "was rejected");
        assert_state(&outcome("SELECT lead_scoring.approve('m', 2, 'changed my mind')"), "55000", "(it was rejected)");
        let card = Spi::get_one::<String>("SELECT lead_scoring.model_card('m@2')").unwrap().unwrap();
        assert!(card.starts_with("# Model card: m (version 2, rejected)"), "{card}");
    }

    #[pg_test]
    fn approve_and_reject_errors() {
        setup();
        train(PENDING);
        for f in ["approve", "reject"] {
            let cases = [
                (format!("SELECT lead_scoring.{f}('nope', 1, 'r')"), "42704", "model \"nope\" does not exist"),
                (format!("SELECT lead_scoring.{f}('m', 9, 'r')"), "42704", "model \"m\" has no version 9"),
                (format!("SELECT lead_scoring.{f}('m', 2, NULL)"), "22004", "reason must not be NULL"),
                (format!("SELECT lead_scoring.{f}('m', 2, '  ')"), "22023", "reason must not be empty"),
                (format!("SELECT lead_scoring.{f}('m', NULL, 'r')"), "22004", "version must not be NULL"),
                (format!("SELECT lead_scoring.{f}(NULL, 2, 'r')"), "22004", "model_name must not be NULL"),
                (format!("SELECT lead_scoring.{f}('m@2', 2, 'r')"), "22023", "without a version"),
                (format!("SELECT lead_scoring.{f}('m', 1, 'r')"), "55000", "not trained with options.deploy = 'approval'"),
            ];
            for (sql, state, words) in cases {
                assert_state(&outcome(&sql), state, words);
            }
        }
        assert_eq!(approval(2).as_deref(), Some("pending"), "no failed call changed it");
    }

    /// With `lead_scoring.approvers` empty the model's owner (here the superuser that trained
    /// it) approves; another role may not approve, edit the card or log decisions.
    #[pg_test]
    fn without_approvers_only_the_owner_approves() {
        setup();
        train(PENDING);
        for sql in [
            "SELECT lead_scoring.approve('m', 2, 'mine')",
            "SELECT lead_scoring.reject('m', 2, 'mine')",
            "SELECT lead_scoring.set_card('m', owner => 'bob')",
            "SELECT lead_scoring.log_decision('m', 'bob decides')",
        ] {
            assert_state(&outcome_as("ls_bob", sql), "42501", "only the role that trained model \"m\" first");
        }
        assert_eq!(outcome("SELECT lead_scoring.approve('m', 2, 'owner approves')"), "ok");
        assert_eq!(live(), 2);
    }

    /// With approvers named, a model's owner outside them still writes its card and decision
    /// log, but approving is for the approvers.
    #[pg_test]
    fn with_approvers_the_owner_writes_the_card_but_does_not_approve() {
        setup();
        Spi::run("GRANT SELECT ON leads TO ls_bob").unwrap();
        let train_bobs = r#"SELECT * FROM lead_scoring.train('bobs', 'leads', 'converted', options => '{"exclude": ["id"], "deploy": "approval"}')"#;
        assert_eq!(outcome_as("ls_bob", train_bobs), "ok");
        Spi::run("SET LOCAL lead_scoring.approvers = 'ls_risk'").unwrap();
        assert_eq!(outcome_as("ls_bob", "SELECT lead_scoring.set_card('bobs', owner => 'Bob')"), "ok");
        assert_eq!(outcome_as("ls_bob", "SELECT lead_scoring.log_decision('bobs', 'wait for Q3 data')"), "ok");
        let own = outcome_as("ls_bob", "SELECT lead_scoring.approve('bobs', 1, 'my own model')");
        assert_state(&own, "42501", "may not approve model \"bobs\"");
        // ls_alice is an approver but not the owner: she approves, and may write the card too.
        assert_eq!(outcome_as("ls_alice", "SELECT lead_scoring.approve('bobs', 1, 'reviewed')"), "ok");
        assert_eq!(outcome_as("ls_alice", "SELECT lead_scoring.set_card('bobs', limitations => 'EMEA only')"), "ok");
    }

    /// Four eyes: with lead_scoring.approval_separation on, the role that trained a version
    /// cannot approve it, even as an approver; another approver can, and the trainer may reject.
    #[pg_test]
    fn with_separation_the_trainer_does_not_approve_its_own_version() {
        setup();
        Spi::run("GRANT SELECT ON leads TO ls_alice; CREATE ROLE ls_carol NOLOGIN IN ROLE ls_risk;").unwrap();
        Spi::run(
            "GRANT INSERT, UPDATE ON lead_scoring.models TO ls_carol; GRANT INSERT ON lead_scoring.model_events TO ls_carol; GRANT USAGE ON SEQUENCE lead_scoring.models_id_seq, lead_scoring.model_events_id_seq TO ls_carol;",
        )
        .unwrap();
        let train_alices = r#"SELECT * FROM lead_scoring.train('alices', 'leads', 'converted', options => '{"exclude": ["id"], "deploy": "approval"}')"#;
        assert_eq!(outcome_as("ls_alice", train_alices), "ok");
        Spi::run("SET LOCAL lead_scoring.approvers = 'ls_risk'").unwrap();
        // Off (the default): an approver approves what she trained.
        assert_eq!(outcome_as("ls_alice", "SELECT lead_scoring.approve('alices', 1, 'looks right')"), "ok");
        // On: refused to her, with nothing changed; a second approver approves.
        assert_eq!(outcome_as("ls_alice", train_alices), "ok");
        Spi::run("SET LOCAL lead_scoring.approval_separation = on").unwrap();
        let approve = "SELECT lead_scoring.approve('alices', 2, 'looks right')";
        assert_state(&outcome_as("ls_alice", approve), "42501", "trained version 2 of model \"alices\" and may not approve it");
        let state =
            Spi::get_one::<String>("SELECT approval FROM lead_scoring.model_overview WHERE name = 'alices' AND version = 2")
                .unwrap();
        assert_eq!(state.as_deref(), Some("pending"));
        assert_eq!(outcome_as("ls_carol", approve), "ok");
        let approver = Spi::get_one::<String>(
            "SELECT actor::text FROM lead_scoring.model_events WHERE model_name = 'alices' AND event = 'approved' AND version = 2",
        )
        .unwrap();
        assert_eq!(approver.as_deref(), Some("ls_carol"));
        // The trainer may still reject a version of hers.
        assert_eq!(outcome_as("ls_alice", train_alices), "ok");
        assert_eq!(outcome_as("ls_alice", "SELECT lead_scoring.reject('alices', 3, 'withdrawn')"), "ok");
        // Only superusers set it.
        assert_state(&outcome_as("ls_alice", "SET lead_scoring.approval_separation = off"), "42501", "approval_separation");
    }

    /// Only a superuser may set the approvers: a role that could would name itself.
    #[pg_test]
    fn only_superusers_set_the_approvers() {
        setup();
        assert_state(&outcome_as("ls_bob", "SET lead_scoring.approvers = 'ls_bob'"), "42501", "lead_scoring.approvers");
    }

    #[pg_test]
    fn set_card_fields_show_in_the_card_and_the_report() {
        setup();
        let r = Spi::get_one::<pgrx::JsonB>(
            "SELECT lead_scoring.set_card('m', owner => 'RevOps (Dana)', intended_use => 'Inbound demo requests, EMEA',
                                          limitations => 'Not for partner-sourced leads')",
        )
        .unwrap()
        .unwrap()
        .0;
        assert_eq!(r["owner"], "RevOps (Dana)");
        // NULL keeps a field, an empty text clears it.
        let r = Spi::get_one::<pgrx::JsonB>("SELECT lead_scoring.set_card('m', owner => 'Sales Ops', limitations => '')")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(r["owner"], "Sales Ops");
        assert_eq!(r["intended_use"], "Inbound demo requests, EMEA");
        assert!(r["limitations"].is_null(), "{r}");
        let card = Spi::get_one::<String>("SELECT lead_scoring.model_card('m')").unwrap().unwrap();
        assert!(card.contains("Owner: Sales Ops.\n"), "{card}");
        assert!(card.contains("## Intended use\n\nInbound demo requests, EMEA\n"), "{card}");
        assert!(!card.contains("partner-sourced"), "a cleared field is gone from the card: {card}");
        assert!(card.contains("| card_changed |  | "), "the edit is in the change history: {card}");
        let report = Spi::get_one::<String>("SELECT lead_scoring.report('m')").unwrap().unwrap();
        assert!(report.contains("Owner: Sales Ops.") && report.contains("Inbound demo requests, EMEA"));
        let edits =
            Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.model_events WHERE event = 'card_changed'").unwrap().unwrap();
        assert_eq!(edits, 2, "each edit is logged with its role and time");
    }

    #[pg_test]
    fn set_card_errors() {
        setup();
        let long = "x".repeat(10_001);
        let cases = [
            ("SELECT lead_scoring.set_card('nope', owner => 'a')".to_string(), "42704", "model \"nope\" does not exist"),
            ("SELECT lead_scoring.set_card('m')".to_string(), "22023", "give at least one of owner"),
            ("SELECT lead_scoring.set_card(NULL, owner => 'a')".to_string(), "22004", "model_name must not be NULL"),
            ("SELECT lead_scoring.set_card('m@1', owner => 'a')".to_string(), "22023", "without a version"),
            (format!("SELECT lead_scoring.set_card('m', limitations => '{long}')"), "22023", "longer than 10000"),
        ];
        for (sql, state, words) in cases {
            assert_state(&outcome(&sql), state, words);
        }
        Spi::run("SET LOCAL lead_scoring.approvers = 'ls_risk'").unwrap();
        assert_state(&outcome_as("ls_bob", "SELECT lead_scoring.set_card('m', owner => 'bob')"), "42501", "edit the card of");
        assert_eq!(outcome_as("ls_alice", "SELECT lead_scoring.set_card('m', owner => 'alice')"), "ok");
    }

    #[pg_test]
    fn decisions_are_logged_with_who_and_when_and_listed() {
        setup();
        let id = Spi::get_one::<i64>("SELECT lead_scoring.log_decision('m', 'keep the 0.4 threshold until the Q3 review')")
            .unwrap()
            .unwrap();
        Spi::run("SELECT lead_scoring.log_decision('m@1', 'v1 stays live for the partner campaign')").unwrap();
        let (first, by) = Spi::get_two_with_args::<String, String>(
            "SELECT decision, decided_by::text FROM lead_scoring.decisions WHERE id = $1",
            &[id.into()],
        )
        .unwrap();
        assert_eq!(first.as_deref(), Some("keep the 0.4 threshold until the Q3 review"));
        assert_eq!(by, Spi::get_one::<String>("SELECT current_user::text").unwrap());
        let versions = Spi::get_one::<String>(
            "SELECT string_agg(coalesce(version::text, '-'), ',' ORDER BY id) FROM lead_scoring.decisions WHERE model_name = 'm'",
        )
        .unwrap();
        assert_eq!(versions.as_deref(), Some("-,1"));
        let card = Spi::get_one::<String>("SELECT lead_scoring.model_card('m')").unwrap().unwrap();
        let decisions = card.split("## Decisions").nth(1).unwrap().split("## Change history").next().unwrap();
        assert!(decisions.contains("keep the 0.4 threshold") && decisions.contains("| 1 |"), "{card}");
    }

    #[pg_test]
    fn log_decision_errors() {
        setup();
        let cases = [
            ("SELECT lead_scoring.log_decision('nope', 'd')", "42704", "model \"nope\" does not exist"),
            ("SELECT lead_scoring.log_decision('m@9', 'd')", "42704", "model \"m\" has no version 9"),
            ("SELECT lead_scoring.log_decision('m', NULL)", "22004", "decision must not be NULL"),
            ("SELECT lead_scoring.log_decision('m', '')", "22023", "decision must not be empty"),
            ("SELECT lead_scoring.log_decision(NULL, 'd')", "22004", "model_name must not be NULL"),
            ("SELECT lead_scoring.log_decision('m@x', 'd')", "22023", "not a valid model name"),
        ];
        for (sql, state, words) in cases {
            assert_state(&outcome(sql), state, words);
        }
        Spi::run("SET LOCAL lead_scoring.approvers = 'ls_risk'").unwrap();
        assert_state(&outcome_as("ls_bob", "SELECT lead_scoring.log_decision('m', 'd')"), "42501", "log decisions about");
        let logged = Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.decisions").unwrap().unwrap();
        assert_eq!(logged, 0);
    }

    #[pg_test]
    fn if_better_with_a_margin_or_a_significance_test() {
        setup();
        // No model gains 0.5 of ROC AUC: kept, not deployed, and the summary says why.
        assert_eq!(train(r#"{"exclude": ["id"], "alpha": 5, "deploy_margin": 0.5}"#), (2, false));
        let record = Spi::get_one::<pgrx::JsonB>("SELECT training->'deploy_decision' FROM lead_scoring.models WHERE version = 2")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(record["margin"], 0.5);
        assert_eq!(record["deploy"], false);
        assert!(record["reason"].as_str().unwrap().contains("+ margin 0.5"), "{record}");
        // A negative margin tolerates a slightly worse, fresher model.
        assert_eq!(train(r#"{"exclude": ["id"], "alpha": 5, "deploy_margin": -0.5}"#), (3, true));
        // The same model again: equal AUC, so DeLong finds no difference (p = 1).
        assert_eq!(train(r#"{"exclude": ["id"], "alpha": 5, "deploy_test": "significant"}"#), (4, false));
        let (p, deploy) = Spi::get_two::<f64, bool>(
            "SELECT (training->'deploy_decision'->>'p_value')::float8, (detail->>'deploy')::boolean
               FROM lead_scoring.models JOIN lead_scoring.model_events e ON e.model_name = name AND e.version = models.version
              WHERE models.version = 4 AND e.event = 'deploy_decision'",
        )
        .unwrap();
        assert!(p.unwrap() > 0.05, "{p:?}");
        assert_eq!(deploy, Some(false));
        assert_eq!(live(), 3);
        let refused = outcome(
            r#"SELECT * FROM lead_scoring.train('m', 'leads', 'converted', options => '{"deploy": "always", "deploy_margin": 0.01}')"#,
        );
        assert_state(&refused, "22023", "\"deploy_margin\" applies only with");
    }

    #[pg_test]
    fn retrain_on_alert_trains_only_after_an_alert() {
        setup();
        let on_alert = r#"{"exclude": ["id"], "retrain_on_alert": true}"#;
        assert_eq!(train(on_alert), (1, true), "no alert: the latest version is returned, nothing trained");
        let versions = || Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.models").unwrap().unwrap();
        assert_eq!(versions(), 1);
        let check = |status: &str, minutes: i32| {
            Spi::run(&format!(
                "INSERT INTO lead_scoring.monitoring (model_name, version, source, checked_at, rows, positives, metrics, baseline,
                                                      drift, status, recommendation)
                 VALUES ('m', 1, 'leads', now() + interval '{minutes} minutes', 10, 2, '{{}}', '{{}}', '[]', '{status}', 'r')"
            ))
            .unwrap()
        };
        check("warn", 1);
        assert_eq!(train(on_alert).0, 1, "a warning is not an alert");
        check("alert", 2);
        assert_eq!(train(on_alert).0, 2, "an alert since version 1: retrained");
        // Version 2 is newer than the alert (in one transaction now() does not move: set by hand).
        Spi::run("UPDATE lead_scoring.models SET created_at = now() + interval '3 minutes' WHERE version = 2").unwrap();
        assert_eq!(train(on_alert).0, 2, "no alert since version 2");
        assert_eq!(versions(), 2);
        // A bad source is still an error, not a silent skip.
        let bad = outcome(
            r#"SELECT * FROM lead_scoring.train('m', 'no_such_table', 'converted', options => '{"retrain_on_alert": true}')"#,
        );
        assert_state(&bad, "42P01", "no_such_table");
    }
}
