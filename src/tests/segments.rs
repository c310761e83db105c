//! options.segment_by through SQL: one model per segment under one name, the global model as
//! the fallback, explanations from the model that scored the lead.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;

    use crate::tests::fixtures::error_of;

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

    /// Leads whose tier by `tier_sql` (a SQL expression over the row `l` of `from`) differs from
    /// the tier their segment's stored tiers (else the version's) give their score.
    fn tiers_not_by_segment(from: &str, tier_sql: &str) -> (i64, i64) {
        let (bad, all) = Spi::get_two::<i64, i64>(&format!(
            "WITH m AS (SELECT tiers, training #> '{{segments,segments}}' AS segs FROM lead_scoring.models WHERE name = 'seg_tiers'),
                  s AS (SELECT l.*, {tier_sql} AS tier, lead_scoring.score('seg_tiers', jsonb_build_object('visits', l.visits, 'source', l.source)) AS p,
                               coalesce((SELECT e -> 'tiers' FROM m, jsonb_array_elements(m.segs) e WHERE e ->> 'segment' = l.source AND e ? 'tiers'),
                                        (SELECT tiers FROM m)) AS t
                          FROM {from} l)
             SELECT count(*) FILTER (WHERE tier IS DISTINCT FROM (SELECT x ->> 'name' FROM jsonb_array_elements(t) x
                                                                   WHERE p >= (x ->> 'min_score')::float8
                                                                   ORDER BY (x ->> 'min_score')::float8 DESC LIMIT 1)),
                    count(*)
               FROM s"
        ))
        .unwrap();
        (bad.unwrap(), all.unwrap())
    }

    #[pg_test]
    fn segment_tiers_tier_each_lead_by_its_segment_in_every_scoring_path() {
        make_segmented_leads();
        train("seg_tiers", r#"{"segment_by": "source", "segment_tiers": true}"#);
        let (segments_with_tiers, distinct_hot_bounds) = Spi::get_two::<i64, i64>(
            "SELECT count(*), count(DISTINCT e -> 'tiers' -> 0 ->> 'min_score')
               FROM lead_scoring.models, jsonb_array_elements(training #> '{segments,segments}') e
              WHERE name = 'seg_tiers' AND e ? 'tiers'",
        )
        .unwrap();
        assert_eq!((segments_with_tiers, distinct_hot_bounds), (Some(2), Some(2)), "Webinar and Outbound, each its own bound");
        // The version's own tiers would tier some leads differently: the test can fail.
        let by_version = Spi::get_one::<i64>(
            "SELECT count(*) FROM seg_leads l, lead_scoring.models m
              WHERE m.name = 'seg_tiers' AND lead_scoring.tier('seg_tiers', l) IS DISTINCT FROM
                    (SELECT x ->> 'name' FROM jsonb_array_elements(m.tiers) x
                      WHERE lead_scoring.score('seg_tiers', l) >= (x ->> 'min_score')::float8
                      ORDER BY (x ->> 'min_score')::float8 DESC LIMIT 1)",
        )
        .unwrap();
        assert!(by_version.unwrap() > 100, "{by_version:?}");
        // A table row (the planner's fast path), a jsonb lead and a subquery row.
        assert_eq!(tiers_not_by_segment("seg_leads", "lead_scoring.tier('seg_tiers', l)"), (0, 6000));
        assert_eq!(
            tiers_not_by_segment(
                "seg_leads",
                "lead_scoring.tier('seg_tiers', jsonb_build_object('visits', l.visits, 'source', l.source))"
            ),
            (0, 6000)
        );
        assert_eq!(
            tiers_not_by_segment("(SELECT id, visits, source FROM seg_leads OFFSET 0)", "lead_scoring.tier('seg_tiers', l)"),
            (0, 6000)
        );
        // The attach() trigger writes the same tiers on INSERT and on UPDATE.
        Spi::run("CREATE TABLE seg_scored (id int, visits int, source text, converted boolean)").unwrap();
        Spi::run("SELECT lead_scoring.attach('seg_scored', 'seg_tiers')").unwrap();
        Spi::run("INSERT INTO seg_scored SELECT id, visits, source, converted FROM seg_leads").unwrap();
        assert_eq!(tiers_not_by_segment("seg_scored", "l.lead_tier"), (0, 6000));
        Spi::run("UPDATE seg_scored SET visits = 9 - visits").unwrap();
        assert_eq!(tiers_not_by_segment("seg_scored", "l.lead_tier"), (0, 6000));
    }

    #[pg_test]
    fn monitor_counts_conversion_per_tier_by_each_leads_segment_tiers() {
        make_segmented_leads();
        train("seg_tiers", r#"{"segment_by": "source", "segment_tiers": true}"#);
        let shown = Spi::get_one::<JsonB>(
            "SELECT jsonb_agg(jsonb_build_array(t ->> 'tier', (t ->> 'leads')::int, (t ->> 'conversions')::int) ORDER BY n)
               FROM lead_scoring.monitor('seg_tiers', 'seg_leads') m, jsonb_array_elements(m.metrics -> 'tiers') WITH ORDINALITY AS x(t, n)",
        )
        .unwrap()
        .unwrap()
        .0;
        // tier() in SQL, the version's tier order.
        let expected = Spi::get_one::<JsonB>(
            "SELECT jsonb_agg(jsonb_build_array(x ->> 'name', coalesce(c.leads, 0), coalesce(c.conversions, 0)) ORDER BY n)
               FROM lead_scoring.models m, jsonb_array_elements(m.tiers) WITH ORDINALITY AS v(x, n)
               LEFT JOIN (SELECT lead_scoring.tier('seg_tiers', l) AS tier, count(*)::int AS leads,
                                 count(*) FILTER (WHERE converted)::int AS conversions
                            FROM seg_leads l GROUP BY 1) c ON c.tier = x ->> 'name'
              WHERE m.name = 'seg_tiers'",
        )
        .unwrap()
        .unwrap()
        .0;
        assert_eq!(shown, expected);
    }

    #[pg_test]
    fn thresholds_and_tiers_of_one_segment() {
        make_segmented_leads();
        train("seg_tiers", r#"{"segment_by": "source", "segment_tiers": true, "key": "id"}"#);
        // F1 on the segment's validation leads: the threshold training chose for that segment.
        for segment in ["Webinar", "Outbound"] {
            let (chosen, stored) = Spi::get_two::<f64, f64>(&format!(
                "SELECT (SELECT threshold FROM lead_scoring.optimal_threshold('seg_tiers', 'f1', segment => '{segment}')),
                        (SELECT (e ->> 'threshold')::float8 FROM lead_scoring.models m,
                                jsonb_array_elements(m.training #> '{{segments,segments}}') e
                          WHERE m.name = 'seg_tiers' AND e ->> 'segment' = '{segment}')"
            ))
            .unwrap();
            let (chosen, stored) = (chosen.unwrap(), stored.unwrap());
            assert!((chosen - stored).abs() < 1e-12, "{segment}: {chosen} vs {stored}");
        }
        let whole = Spi::get_one::<f64>("SELECT threshold FROM lead_scoring.optimal_threshold('seg_tiers', 'f1')").unwrap();
        let webinar =
            Spi::get_one::<f64>("SELECT threshold FROM lead_scoring.optimal_threshold('seg_tiers', 'f1', segment => 'Webinar')")
                .unwrap();
        assert_ne!(whole, webinar, "the segment's own leads give another threshold");
        // New tiers for Webinar only: its leads follow them, Outbound's keep theirs.
        let outbound_before = Spi::get_one::<String>(
            "SELECT string_agg(lead_scoring.tier('seg_tiers', l), ',' ORDER BY id) FROM seg_leads l WHERE source = 'Outbound'",
        )
        .unwrap();
        let stored = Spi::get_one::<JsonB>(
            r#"SELECT lead_scoring.set_tiers('seg_tiers', '{"hot": 0.9, "warm": 0.5, "cold": 0}', 'SDR capacity', segment => 'Webinar')"#,
        )
        .unwrap()
        .unwrap()
        .0;
        assert_eq!(stored[0]["min_score"], 0.9);
        let wrong = Spi::get_one::<i64>(
            "SELECT count(*) FROM seg_leads l WHERE source = 'Webinar' AND lead_scoring.tier('seg_tiers', l) <>
                    CASE WHEN lead_scoring.score('seg_tiers', l) >= 0.9 THEN 'hot' WHEN lead_scoring.score('seg_tiers', l) >= 0.5 THEN 'warm' ELSE 'cold' END",
        )
        .unwrap();
        assert_eq!(wrong, Some(0));
        let outbound_after = Spi::get_one::<String>(
            "SELECT string_agg(lead_scoring.tier('seg_tiers', l), ',' ORDER BY id) FROM seg_leads l WHERE source = 'Outbound'",
        )
        .unwrap();
        assert_eq!(outbound_before, outbound_after);
        // report() shows each segment's own tiers, Webinar's as just set.
        let html = Spi::get_one::<String>("SELECT lead_scoring.report('seg_tiers')").unwrap().unwrap();
        let table = &html[html.find("<h3>Tiers per segment</h3>").expect("the segment tiers table")..];
        assert!(
            table.contains("<td><strong>Webinar</strong></td>") && table.contains("<td>hot 0.9, warm 0.5, cold 0</td>"),
            "{table}"
        );
        assert!(table.contains("<td><strong>Outbound</strong></td>"), "{table}");
        let logged = Spi::get_one::<String>(
            "SELECT detail ->> 'segment' FROM lead_scoring.model_events WHERE model_name = 'seg_tiers' AND event = 'tiers_changed'",
        )
        .unwrap();
        assert_eq!(logged.as_deref(), Some("Webinar"));
        // Mistakes.
        let cases = [
            ("SELECT * FROM lead_scoring.optimal_threshold('seg_tiers', 'f1', segment => 'Nowhere')", "22000: model \"seg_tiers@1\" has no validation leads with source = 'Nowhere'"),
            (r#"SELECT lead_scoring.set_tiers('seg_tiers', '{"hot": 0.9, "cold": 0}', segment => 'Partner')"#, "22023: model \"seg_tiers@1\" has no tiers of its own for segment \"Partner\""),
            ("SELECT * FROM lead_scoring.optimal_threshold('seg_tiers', 'expected_value', cost_per_lead => 1, value_model => 'v', segment => 'Webinar')", "22023: give value_model or segment, not both"),
        ];
        for (sql, expected) in cases {
            let got = error_of(sql);
            assert!(got.starts_with(expected), "{sql}: {got}");
        }
        train("plain", r#"{"key": "id"}"#);
        assert!(error_of("SELECT * FROM lead_scoring.optimal_threshold('plain', 'f1', segment => 'Webinar')")
            .starts_with("22023: model \"plain@1\" has no segments"));
    }

    #[pg_test(error = "option \"segment_tiers\" needs option \"segment_by\", the column whose segments get their own tiers")]
    fn segment_tiers_without_segments_is_an_error() {
        make_segmented_leads();
        train("seg_tiers", r#"{"segment_tiers": true}"#);
    }
}
