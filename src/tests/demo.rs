//! The demo CRM: deterministic for a seed, replaced on re-run, a 5-10% base rate, and a model
//! trained on its feature view recovers the planted signals.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    const FINGERPRINT: &str = "SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) || md5((SELECT string_agg(e::text, ',' ORDER BY event_id) FROM lead_scoring_demo.lead_events e))
                                 FROM lead_scoring_demo.leads l";

    #[pg_test]
    fn demo_is_deterministic_and_replaced() {
        let summary = Spi::get_one::<pgrx::JsonB>("SELECT lead_scoring.generate_demo(2000, 7)").unwrap().unwrap().0;
        assert_eq!(summary["leads"], 2000);
        assert_eq!(summary["companies"], 400);
        let first = Spi::get_one::<String>(FINGERPRINT).unwrap();
        Spi::run("SELECT lead_scoring.generate_demo(2000, 8)").unwrap();
        let other_seed = Spi::get_one::<String>(FINGERPRINT).unwrap();
        Spi::run("SELECT lead_scoring.generate_demo(2000, 7)").unwrap();
        assert_eq!(first, Spi::get_one::<String>(FINGERPRINT).unwrap());
        assert_ne!(first, other_seed);
        // No event after the end of the 18 months, and the view has one row per lead.
        let (late, rows) = Spi::get_two::<i64, i64>(
            "SELECT (SELECT count(*) FROM lead_scoring_demo.lead_events WHERE occurred_at > '2026-07-01 00:00+00'),
                    (SELECT count(*) FROM lead_scoring_demo.lead_features)",
        )
        .unwrap();
        assert_eq!((late, rows), (Some(0), Some(2000)));
    }

    #[pg_test]
    fn demo_is_the_same_in_every_time_zone() {
        // Days are added as 24 hours: with `interval 'N days'` a zone with daylight saving moved
        // every timestamp past a clock change by an hour, and the features with it.
        let features = "SELECT md5(string_agg(f::text, ',' ORDER BY lead_id)) FROM lead_scoring_demo.lead_features f";
        let fingerprint = |zone: &str| {
            Spi::run(&format!("SET TimeZone = '{zone}'")).unwrap();
            Spi::run("SELECT lead_scoring.generate_demo(2000, 7)").unwrap();
            Spi::run("SET TimeZone = 'UTC'").unwrap();
            (Spi::get_one::<String>(FINGERPRINT).unwrap(), Spi::get_one::<String>(features).unwrap())
        };
        let utc = fingerprint("UTC");
        for zone in ["America/New_York", "Europe/Berlin", "Australia/Sydney"] {
            assert_eq!(fingerprint(zone), utc, "generate_demo under TimeZone {zone}");
        }
    }

    #[pg_test]
    fn model_on_the_feature_view_recovers_the_planted_signals() {
        let summary = Spi::get_one::<pgrx::JsonB>("SELECT lead_scoring.generate_demo(20000, 42)").unwrap().unwrap().0;
        let rate = summary["conversion_rate"].as_f64().unwrap();
        assert!((0.05..=0.10).contains(&rate), "base rate {rate}");
        // The drift: demo requests convert less after the product change of 2026-04-01.
        let (before, after) = Spi::get_two::<f64, f64>(
            "SELECT avg(converted::int) FILTER (WHERE created_at < '2026-04-01' AND demo_requests > 0.5)::float8,
                    avg(converted::int) FILTER (WHERE created_at >= '2026-04-01' AND demo_requests > 0.5)::float8
               FROM lead_scoring_demo.lead_features",
        )
        .unwrap();
        assert!(before.unwrap() > after.unwrap() + 0.05, "before {before:?} after {after:?}");
        let metrics = Spi::get_one::<pgrx::JsonB>(
            "SELECT metrics FROM lead_scoring.train('demo', 'lead_scoring_demo.lead_features', 'converted',
                                                    options => '{\"exclude\": [\"lead_id\"]}')",
        )
        .unwrap();
        let artifact =
            Spi::get_one::<Vec<u8>>("SELECT artifact FROM lead_scoring.models WHERE name = 'demo' AND version = 1").unwrap();
        let auc = metrics.unwrap().0["test"]["roc_auc"].as_f64().unwrap();
        assert!(auc >= 0.80, "test ROC AUC {auc}");
        pgrx::warning!("demo test ROC AUC {auc:.4}; coefficients follow");
        let model = crate::core::models::decode_model(&artifact.unwrap()).unwrap();
        let mut coefficients = model.coefficients();
        coefficients.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        let top: Vec<&str> = coefficients.iter().take(2).map(|(n, _)| n.as_str()).collect();
        pgrx::warning!("coefficients: {coefficients:?}");
        assert!(top.contains(&"demo_requests") && top.contains(&"pricing_visits"), "strongest inputs: {coefficients:?}");
        assert!(coefficients.iter().all(|(_, c)| c.is_finite()));
    }

    #[pg_test(error = "n_leads must be between 100 and 10000000, got 5")]
    fn demo_needs_enough_leads() {
        Spi::run("SELECT lead_scoring.generate_demo(5)").unwrap();
    }
}
