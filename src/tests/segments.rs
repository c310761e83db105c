//! options.segment_by through SQL: one model per segment under one name, the global model as
//! the fallback, explanations from the model that scored the lead.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;

    /// Visits raise conversion for Webinar leads and lower it for Outbound leads; Partner leads are few.
    fn make_segmented_leads() {
        Spi::run(
            "SELECT setseed(0.3);
             CREATE TABLE seg_leads AS
             SELECT *, random() < 1 / (1 + exp(-(CASE WHEN source = 'Outbound' THEN 2.0 - 0.6 * visits ELSE -4.0 + 0.6 * visits END))) AS converted
               FROM (SELECT i AS id, floor(random() * 10)::int AS visits,
                            CASE WHEN i % 400 = 1 THEN 'Partner' WHEN i % 2 = 0 THEN 'Webinar' ELSE 'Outbound' END AS source
                       FROM generate_series(1, 6000) i) s",
        )
        .unwrap();
    }

    fn train(name: &str, options: &str) -> f64 {
        Spi::get_one::<f64>(&format!(
            "SELECT (metrics->'test'->>'roc_auc')::float8 FROM lead_scoring.train('{name}', 'seg_leads', 'converted',
                    ARRAY['visits', 'source'], options => '{options}')"
        ))
        .unwrap()
        .unwrap()
    }

    #[pg_test]
    fn segments_score_with_their_own_model_and_fall_back_to_global() {
        make_segmented_leads();
        let global = train("global", "{}");
        let segmented = train("seg", r#"{"segment_by": "source"}"#);
        assert!(segmented > global + 0.05, "segmented {segmented} vs global {global}");
        let report =
            Spi::get_one::<JsonB>("SELECT training->'segments' FROM lead_scoring.models WHERE name = 'seg'").unwrap().unwrap().0;
        assert_eq!(report["column"], "source");
        let models: Vec<(String, String)> = report["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["segment"].as_str().unwrap().to_string(), e["model"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(
            models,
            vec![
                ("Outbound".into(), "segment".into()),
                ("Partner".into(), "global".into()),
                ("Webinar".into(), "segment".into())
            ]
        );
        // Many visits: a hot Webinar lead, a cold Outbound lead; an unseen source gets the global model's score.
        let (webinar, outbound): (Option<f64>, Option<f64>) = Spi::get_two(
            "SELECT lead_scoring.score('seg', '{\"visits\": 9, \"source\": \"Webinar\"}'::jsonb),
                    lead_scoring.score('seg', '{\"visits\": 9, \"source\": \"Outbound\"}'::jsonb)",
        )
        .unwrap();
        assert!(webinar.unwrap() > 0.5 && outbound.unwrap() < 0.1, "{webinar:?} {outbound:?}");
        let card = Spi::get_one::<String>("SELECT lead_scoring.model_card('seg')").unwrap().unwrap();
        assert!(card.contains("Segments") && card.contains("Webinar"), "{card}");
        // Explanations come from the model that scored each lead, so they still add up.
        let gap = Spi::get_one::<f64>(
            "SELECT max(abs((SELECT sum(contribution) FROM lead_scoring.explain('seg', s)) - ln(p / (1 - p))))
               FROM (SELECT s, lead_scoring.score('seg', s) AS p FROM seg_leads s WHERE id <= 100) t",
        )
        .unwrap()
        .unwrap();
        assert!(gap < 1e-6, "additivity gap {gap}");
    }

    #[pg_test(error = "option \"segment_by\" names \"region\", which is not one of the model's features")]
    fn segment_column_that_is_not_a_feature() {
        make_segmented_leads();
        train("seg", r#"{"segment_by": "region"}"#);
    }
}
