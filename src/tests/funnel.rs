//! funnel(): each group's counts and rates equal plain SQL over the same rows, feedback from
//! flag() gives the acceptance rate, and every bad argument is an ERROR with its SQLSTATE.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::error_of;

    /// 600 leads over two quarters of 2025 in three tiers; every third an MQL, every second
    /// MQL an SQL, converted leads among the SQLs with a deal value and a conversion date.
    fn make_crm() {
        Spi::run(
            "CREATE TABLE crm AS
             SELECT i AS lead_id, (ARRAY['hot', 'warm', 'cold'])[1 + i % 3] AS tier,
                    timestamptz '2025-01-01' + (i * 4) * interval '1 hour' AS created_at,
                    CASE WHEN i % 3 <> 2 THEN timestamptz '2025-01-02' + (i * 4) * interval '1 hour' END AS mql_at,
                    (i % 3 <> 2 AND i % 2 = 0) AS is_sql,
                    (i % 3 <> 2 AND i % 2 = 0 AND i % 5 < 2) AS converted,
                    CASE WHEN i % 3 <> 2 AND i % 2 = 0 AND i % 5 < 2 THEN timestamptz '2025-01-01' + (i * 4) * interval '1 hour' + (20 + i % 40) * interval '1 day' END AS converted_at,
                    CASE WHEN i % 3 <> 2 AND i % 2 = 0 AND i % 5 < 2 THEN 1000 + i END::numeric AS deal_value
               FROM generate_series(1, 600) i",
        )
        .unwrap();
    }

    const OPTIONS: &str = r#"'{"mql_column": "mql_at", "sql_column": "is_sql", "converted_at_column": "converted_at", "value_column": "deal_value"}'"#;

    #[pg_test]
    fn funnel_numbers_equal_plain_sql() {
        make_crm();
        let got = Spi::get_one::<String>(&format!(
            "SELECT string_agg(format('%s %s %s %s %s %s %s %s %s %s', period, tier, leads, mqls, sqls, conversions,
                                      round(conversion_rate::numeric, 6), round(mql_to_sql_rate::numeric, 6),
                                      round(median_days_to_conversion::numeric, 6), round(cost_per_qualified_lead::numeric, 6)), ';')
               FROM lead_scoring.funnel('crm', 'tier', 'quarter', 30, {OPTIONS})"
        ))
        .unwrap()
        .unwrap();
        let expected = Spi::get_one::<String>(
            "SELECT string_agg(format('%s %s %s %s %s %s %s %s %s %s', q, tier, n, m, s, c, round(c::numeric / n, 6),
                                      round(ms::numeric / nullif(m, 0), 6), round(med::numeric, 6), round(30.0 * n / nullif(m, 0), 6)), ';' ORDER BY q, tier)
               FROM (SELECT date_trunc('quarter', created_at)::date AS q, tier, count(*) AS n, count(mql_at) AS m,
                            count(*) FILTER (WHERE is_sql) AS s, count(*) FILTER (WHERE converted) AS c,
                            count(*) FILTER (WHERE mql_at IS NOT NULL AND is_sql) AS ms,
                            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM converted_at - created_at) / 86400)
                              FILTER (WHERE converted) AS med
                       FROM crm GROUP BY 1, 2) g",
        )
        .unwrap()
        .unwrap();
        assert_eq!(got, expected);
        assert_eq!(got.matches(';').count(), 5, "two quarters x three tiers: {got}");
        // Deal velocity: won value / mean days to conversion, per group.
        let (velocity, plain) = Spi::get_two::<f64, f64>(&format!(
            "SELECT (SELECT deal_velocity FROM lead_scoring.funnel('crm', NULL, 'all', NULL, {OPTIONS})),
                    (SELECT sum(deal_value)::float8 / avg(extract(epoch FROM converted_at - created_at) / 86400)::float8 FROM crm WHERE converted)"
        ))
        .unwrap();
        assert!((velocity.unwrap() - plain.unwrap()).abs() < 1e-6 * plain.unwrap(), "{velocity:?} {plain:?}");
        // Sales acceptance: the latest flag per lead; accepted = flagged as a good lead.
        Spi::run("SELECT lead_scoring.train('fm', 'crm', 'converted', ARRAY['tier'])").unwrap();
        Spi::run("SELECT lead_scoring.flag('fm', lead_id::text, lead_id % 4 = 0) FROM crm WHERE lead_id <= 40").unwrap();
        Spi::run("SELECT lead_scoring.flag('fm', '4', false)").unwrap();
        let acceptance = Spi::get_one::<f64>(
            "SELECT sales_acceptance_rate FROM lead_scoring.funnel('crm', NULL, 'all', NULL, '{\"feedback_model\": \"fm\", \"key\": \"lead_id\"}')",
        )
        .unwrap()
        .unwrap();
        assert_eq!(acceptance, 9.0 / 40.0);
    }

    #[pg_test]
    fn every_bad_argument_is_an_error_with_its_sqlstate() {
        make_crm();
        let cases = [
            ("SELECT * FROM lead_scoring.funnel('no_such_table')", "42P01"),
            ("SELECT * FROM lead_scoring.funnel('crm', period => 'fortnight')", "22023"),
            ("SELECT * FROM lead_scoring.funnel('crm', cost_per_lead => 'NaN')", "22023"),
            ("SELECT * FROM lead_scoring.funnel('crm', cost_per_lead => -1)", "22023"),
            ("SELECT * FROM lead_scoring.funnel('crm', 'no_such_column')", "42703"),
            ("SELECT * FROM lead_scoring.funnel('crm', options => '{\"colour\": 1}')", "22023"),
            ("SELECT * FROM lead_scoring.funnel('crm', options => '{\"outcome\": \"tier\"}')", "42804"),
            ("SELECT * FROM lead_scoring.funnel('crm', options => '{\"mql_column\": \"tier\"}')", "42804"),
            ("SELECT * FROM lead_scoring.funnel('crm', options => '{\"value_column\": \"tier\"}')", "42804"),
            ("SELECT * FROM lead_scoring.funnel('crm', options => '{\"created_column\": \"lead_id\"}')", "42804"),
            ("SELECT * FROM lead_scoring.funnel('crm', options => '{\"feedback_model\": \"fm\"}')", "22023"),
            ("SELECT * FROM lead_scoring.funnel('crm', options => '[]')", "22023"),
            ("SELECT * FROM lead_scoring.funnel(NULL)", "22004"),
        ];
        for (sql, state) in cases {
            let got = error_of(sql);
            assert!(got.starts_with(state), "{sql}: {got}");
        }
    }
}
