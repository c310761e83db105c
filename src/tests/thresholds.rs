//! optimal_threshold, set_tiers and score_100 through SQL.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    fn setup() {
        make_leads("leads", 3000);
        train_default("m", "leads");
    }

    #[pg_test]
    fn f1_threshold_is_the_stored_threshold() {
        setup();
        let (t, stored): (Option<f64>, Option<f64>) = Spi::get_two(
            "SELECT o.threshold, m.threshold FROM lead_scoring.optimal_threshold('m', 'f1') o, lead_scoring.models m WHERE m.name = 'm'",
        )
        .unwrap();
        assert_eq!(t, stored);
    }

    #[pg_test]
    fn expected_value_threshold_and_profit() {
        setup();
        let (t, profit): (Option<f64>, Option<f64>) = Spi::get_two(
            "SELECT threshold, expected_profit_per_1000 FROM lead_scoring.optimal_threshold('m', 'expected_value', 5000, 1000)",
        )
        .unwrap();
        assert!((t.unwrap() - 0.2).abs() < 1e-12);
        assert!(profit.unwrap() > 0.0);
        // A cheaper lead is worth pursuing at a lower probability, and more leads are pursued.
        let (t2, share2, share): (Option<f64>, Option<f64>, Option<f64>) = Spi::get_three(
            "SELECT a.threshold, a.share_pursued, b.share_pursued
               FROM lead_scoring.optimal_threshold('m', 'expected_value', 5000, 100) a,
                    lead_scoring.optimal_threshold('m', 'expected_value', 5000, 1000) b",
        )
        .unwrap();
        assert!(t2.unwrap() < 0.2 && share2.unwrap() > share.unwrap());
    }

    #[pg_test]
    fn precision_target() {
        setup();
        let p = Spi::get_one::<f64>(
            "SELECT precision FROM lead_scoring.optimal_threshold('m', 'precision', precision_at_least => 0.6)",
        )
        .unwrap();
        assert!(p.unwrap() >= 0.6);
    }

    #[pg_test(error = "deal_value must be a positive number, got -5")]
    fn negative_deal_value() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.optimal_threshold('m', 'expected_value', -5, 1)").unwrap();
    }

    #[pg_test(error = "precision target must be between 0 and 1 (exclusive), got 1.5")]
    fn precision_target_outside_0_1() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.optimal_threshold('m', 'precision', precision_at_least => 1.5)").unwrap();
    }

    #[pg_test(error = "unknown threshold method \"youden\"; use f1, expected_value or precision")]
    fn unknown_method() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.optimal_threshold('m', 'youden')").unwrap();
    }

    #[pg_test(error = "method \"expected_value\" needs deal_value and cost_per_lead")]
    fn expected_value_needs_economics() {
        setup();
        Spi::run("SELECT * FROM lead_scoring.optimal_threshold('m', 'expected_value')").unwrap();
    }

    #[pg_test]
    fn set_tiers_changes_tiers_everywhere_and_logs() {
        setup();
        let before = Spi::get_one::<String>("SELECT lead_scoring.tier('m', l) FROM leads l WHERE id = 1").unwrap().unwrap();
        assert!(["hot", "warm", "cold"].contains(&before.as_str()));
        Spi::run(
            "SELECT lead_scoring.set_tiers('m', '{\"A\": 0.6, \"B\": 0.3, \"C\": 0.1, \"D\": 0}', 'grades for the new routing')",
        )
        .unwrap();
        let mismatches = Spi::get_one::<i64>(
            "SELECT count(*) FROM leads l WHERE lead_scoring.tier('m', l) <> CASE
                WHEN lead_scoring.score('m', l) >= 0.6 THEN 'A' WHEN lead_scoring.score('m', l) >= 0.3 THEN 'B'
                WHEN lead_scoring.score('m', l) >= 0.1 THEN 'C' ELSE 'D' END",
        )
        .unwrap();
        assert_eq!(mismatches, Some(0));
        let reason =
            Spi::get_one::<String>("SELECT reason FROM lead_scoring.model_events WHERE event = 'tiers_changed'").unwrap();
        assert_eq!(reason.as_deref(), Some("grades for the new routing"));
    }

    #[pg_test(error = "tiers: tier \"hot\" needs a min_score between 0 and 1, got 2")]
    fn set_tiers_rejects_bad_bounds() {
        setup();
        Spi::run("SELECT lead_scoring.set_tiers('m', '{\"hot\": 2}')").unwrap();
    }

    #[pg_test]
    fn score_100_is_the_rounded_percentage() {
        setup();
        let bad = Spi::get_one::<i64>(
            "SELECT count(*) FROM leads l
              WHERE lead_scoring.score_100('m', l) <> round(100 * lead_scoring.score('m', l))
                 OR lead_scoring.score_100('m', to_jsonb(l)) <> lead_scoring.score_100('m', l)
                 OR lead_scoring.score_100('m', l) NOT BETWEEN 0 AND 100",
        )
        .unwrap();
        assert_eq!(bad, Some(0));
    }
}
