//! split_of(): every lead of a trained demo model answers the part it was in, the same part
//! plain SQL computes from the split's rule; unseen leads answer NULL; and every error.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    const FEATURES: &str = "lead_scoring_demo.lead_features";

    fn demo() {
        Spi::run("SELECT lead_scoring.generate_demo(2000, 7)").unwrap();
    }

    fn train(model: &str, source: &str, options: &str) {
        Spi::run(&format!("SELECT * FROM lead_scoring.train('{model}', $q${source}$q$, 'converted', options => '{options}')"))
            .unwrap();
    }

    /// Leads of `expected` (lead_id, part) whose split_of() differs, and the leads compared.
    fn disagreements(model: &str, expected: &str) -> (i64, i64) {
        let (bad, all) = Spi::get_two::<i64, i64>(&format!(
            "SELECT count(*) FILTER (WHERE lead_scoring.split_of('{model}', e.lead_id) IS DISTINCT FROM e.part), count(*)
               FROM ({expected}) AS e(lead_id, part)"
        ))
        .unwrap();
        (bad.unwrap(), all.unwrap())
    }

    #[pg_test]
    fn column_split_answers_the_column_for_every_lead() {
        demo();
        let source = format!(
            "SELECT f.*, CASE lead_id % 10 WHEN 0 THEN 'test' WHEN 1 THEN 'validation' ELSE 'train' END AS part FROM {FEATURES} f"
        );
        train("by_column", &source, r#"{"key": "lead_id", "split": {"method": "column", "column": "part"}}"#);
        let expected = format!("SELECT lead_id, part FROM ({source}) s");
        assert_eq!(disagreements("by_column", &expected), (0, 2000));
        // The key's text form works too, and a lead the model never saw is NULL.
        let (text, unseen) = Spi::get_two::<String, String>(
            "SELECT lead_scoring.split_of('by_column', '10'), lead_scoring.split_of('by_column', 999999)",
        )
        .unwrap();
        assert_eq!((text.as_deref(), unseen), (Some("test"), None));
    }

    #[pg_test]
    fn time_split_answers_by_creation_order_and_records_the_cut_offs() {
        demo();
        train("by_time", FEATURES, r#"{"key": "lead_id", "split": {"method": "time", "column": "created_at"}}"#);
        // Oldest 80% train, next 10% validation, newest 10% (as ordered by created_at).
        let expected = format!(
            "SELECT lead_id, CASE WHEN n <= 1600 THEN 'train' WHEN n <= 1800 THEN 'validation' ELSE 'test' END
               FROM (SELECT lead_id, row_number() OVER (ORDER BY created_at) AS n FROM {FEATURES}) s"
        );
        assert_eq!(disagreements("by_time", &expected), (0, 2000));
        // Every lead lies within its part's recorded first and last creation time.
        let outside = Spi::get_one::<i64>(&format!(
            "SELECT count(*) FROM {FEATURES} f, lead_scoring.models m
              WHERE m.name = 'by_time'
                AND f.created_at NOT BETWEEN (m.split #>> ARRAY['time_ranges', lead_scoring.split_of('by_time', f.lead_id), 'from'])::timestamptz
                                         AND (m.split #>> ARRAY['time_ranges', lead_scoring.split_of('by_time', f.lead_id), 'to'])::timestamptz"
        ))
        .unwrap();
        assert_eq!(outside, Some(0));
    }

    #[pg_test]
    fn group_split_keeps_each_company_in_one_part_with_the_recorded_sizes() {
        demo();
        let source = format!("SELECT f.*, l.company_id FROM {FEATURES} f JOIN lead_scoring_demo.leads l USING (lead_id)");
        train("by_company", &source, r#"{"key": "lead_id", "split": {"method": "group", "column": "company_id"}}"#);
        let split_companies = Spi::get_one::<i64>(&format!(
            "SELECT count(*) FROM (SELECT company_id FROM ({source}) s
                                   GROUP BY company_id HAVING count(DISTINCT lead_scoring.split_of('by_company', lead_id)) > 1) c"
        ))
        .unwrap();
        assert_eq!(split_companies, Some(0));
        // Rows and positives per part agree with the training record, for all 2000 leads.
        let differing = Spi::get_one::<i64>(&format!(
            "SELECT count(*) FROM lead_scoring.models m,
                    (SELECT lead_scoring.split_of('by_company', lead_id) AS part, count(*) AS n, count(*) FILTER (WHERE converted) AS pos
                       FROM ({source}) s GROUP BY 1) p
              WHERE m.name = 'by_company'
                AND (p.part IS NULL OR (m.training #>> ARRAY['parts', p.part, 'rows'])::bigint <> p.n
                     OR (m.training #>> ARRAY['parts', p.part, 'positives'])::bigint <> p.pos)"
        ))
        .unwrap();
        assert_eq!(differing, Some(0));
    }

    #[pg_test]
    fn primary_key_is_the_default_key_and_versions_answer_their_own_split() {
        crate::tests::fixtures::make_leads("keyed_leads", 1000);
        Spi::run("ALTER TABLE keyed_leads ADD PRIMARY KEY (id)").unwrap();
        train("keyed", "keyed_leads", r#"{"exclude": ["id", "email", "created_at"]}"#);
        train("keyed", "keyed_leads", r#"{"exclude": ["id", "email", "created_at"], "seed": 9}"#);
        let (v1, v2, in_train) = Spi::get_three::<i64, i64, i64>(
            "SELECT count(*) FILTER (WHERE lead_scoring.split_of('keyed', id, 1) IS NOT NULL),
                    count(*) FILTER (WHERE lead_scoring.split_of('keyed@2', id) IS DISTINCT FROM lead_scoring.split_of('keyed', id, 1)),
                    count(*) FILTER (WHERE lead_scoring.split_of('keyed', id) = 'train')
               FROM keyed_leads",
        )
        .unwrap();
        assert_eq!(v1, Some(1000));
        assert!(v2.unwrap() > 100, "another seed, another split: {v2:?}");
        let recorded = Spi::get_one::<i64>(
            "SELECT (training #>> '{parts,train,rows}')::bigint FROM lead_scoring.models WHERE name = 'keyed' AND deployed",
        )
        .unwrap();
        assert_eq!(in_train, recorded);
        let column = Spi::get_one::<String>(
            "SELECT split #>> '{lead_keys,column}' FROM lead_scoring.models WHERE name = 'keyed' AND version = 1",
        )
        .unwrap();
        assert_eq!(column.as_deref(), Some("id"));
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn unknown_model_is_an_error() {
        Spi::run("SELECT lead_scoring.split_of('nope', 1)").unwrap();
    }

    #[pg_test(error = "model \"keyed\" has no version 7")]
    fn missing_version_is_an_error() {
        crate::tests::fixtures::make_leads("keyed_leads", 300);
        train("keyed", "keyed_leads", r#"{"key": "id", "exclude": ["email", "created_at"]}"#);
        Spi::run("SELECT lead_scoring.split_of('keyed', 1, 7)").unwrap();
    }

    #[pg_test(error = "model \"keyed@1\" names version 1 but version => 2 was given; give one of them")]
    fn two_different_versions_are_an_error() {
        crate::tests::fixtures::make_leads("keyed_leads", 300);
        train("keyed", "keyed_leads", r#"{"key": "id", "exclude": ["email", "created_at"]}"#);
        Spi::run("SELECT lead_scoring.split_of('keyed@1', 1, 2)").unwrap();
    }

    #[pg_test(error = "key has type timestamp with time zone, but the lead key \"id\" of model \"keyed@1\" is integer")]
    fn key_of_another_type_is_an_error() {
        crate::tests::fixtures::make_leads("keyed_leads", 300);
        train("keyed", "keyed_leads", r#"{"key": "id", "exclude": ["email", "created_at"]}"#);
        Spi::run("SELECT lead_scoring.split_of('keyed', now())").unwrap();
    }

    #[pg_test(error = "version 1 of model \"keyless\" recorded no lead keys, so which part a lead was in is not known")]
    fn version_without_lead_keys_is_an_error() {
        crate::tests::fixtures::make_leads("keyless_leads", 300);
        train("keyless", "keyless_leads", r#"{"exclude": ["id", "email", "created_at"]}"#);
        Spi::run("SELECT lead_scoring.split_of('keyless', 1)").unwrap();
    }

    #[pg_test]
    fn null_key_is_null() {
        crate::tests::fixtures::make_leads("keyed_leads", 300);
        train("keyed", "keyed_leads", r#"{"key": "id", "exclude": ["email", "created_at"]}"#);
        assert_eq!(Spi::get_one::<String>("SELECT lead_scoring.split_of('keyed', NULL::int)").unwrap(), None);
        assert_eq!(Spi::get_one::<String>("SELECT lead_scoring.split_of('keyed', NULL::text)").unwrap(), None);
    }

    #[pg_test(error = "model \"keyed@1\": the stored lead keys of this version are unreadable (no LSK1 header)")]
    fn damaged_lead_keys_are_an_error() {
        crate::tests::fixtures::make_leads("keyed_leads", 300);
        train("keyed", "keyed_leads", r#"{"key": "id", "exclude": ["email", "created_at"]}"#);
        Spi::run("UPDATE lead_scoring.models SET split_keys = '\\x00'::bytea WHERE name = 'keyed'").unwrap();
        Spi::run("SELECT lead_scoring.split_of('keyed', 1)").unwrap();
    }
}
