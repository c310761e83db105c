//! The feature building blocks through SQL: aggregates equal their plain-SQL formulas, a forced
//! parallel plan gives the serial answer, scalars behave as documented, and bad arguments are
//! clear errors.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// Events of 50 leads over 120 days before and 10 days after 2026-06-01, some without a time.
    fn make_events(leads: i64, per_lead: i64) {
        Spi::run(&format!(
            "CREATE TABLE events AS
             SELECT l AS lead_id,
                    CASE WHEN (l * 31 + e) % 37 = 0 THEN NULL
                         ELSE timestamptz '2026-06-01' - make_interval(secs => ((l * 7919 + e * 104729) % 11232000) - 864000) END AS ts,
                    ((l + e) % 9)::float8 AS amount
               FROM generate_series(1::bigint, {leads}) l, generate_series(1::bigint, {per_lead}) e;
             ANALYZE events"
        ))
        .unwrap();
    }

    const FEATURES: &str = "SELECT lead_id,
            lead_scoring.decayed_count(ts, '2026-06-01', '14 days') AS dc,
            lead_scoring.decayed_sum(amount, ts, '2026-06-01', '1 mon') AS ds,
            lead_scoring.engagement_velocity(ts, '2026-06-01', '30 days') AS v
       FROM events GROUP BY lead_id";

    const FORMULAS: &str = "SELECT lead_id,
            coalesce(sum(power(0.5, extract(epoch FROM timestamptz '2026-06-01' - ts) / extract(epoch FROM interval '14 days')))
                     FILTER (WHERE ts <= '2026-06-01'), 0) AS dc,
            coalesce(sum(amount * power(0.5, extract(epoch FROM timestamptz '2026-06-01' - ts) / extract(epoch FROM interval '1 mon')))
                     FILTER (WHERE ts <= '2026-06-01'), 0) AS ds,
            count(*) FILTER (WHERE ts > timestamptz '2026-06-01' - interval '30 days' AND ts <= '2026-06-01')::float8
              / greatest(count(*) FILTER (WHERE ts > timestamptz '2026-06-01' - interval '60 days'
                                           AND ts <= timestamptz '2026-06-01' - interval '30 days'), 1) AS v
       FROM events GROUP BY lead_id";

    #[pg_test]
    fn aggregates_equal_their_sql_formulas() {
        make_events(50, 40);
        let worst = Spi::get_one::<f64>(&format!(
            "SELECT max(greatest(abs(a.dc - b.dc), abs(a.ds - b.ds), abs(a.v - b.v)))
               FROM ({FEATURES}) a JOIN ({FORMULAS}) b USING (lead_id)"
        ))
        .unwrap()
        .unwrap();
        assert!(worst < 1e-9, "largest difference {worst}");
        // The comparison is not vacuous: future events exist and velocities differ.
        let (future, distinct_v) = Spi::get_two::<i64, i64>(&format!(
            "SELECT (SELECT count(*) FROM events WHERE ts > '2026-06-01'), count(DISTINCT v) FROM ({FEATURES}) f"
        ))
        .unwrap();
        assert!(future.unwrap() > 0 && distinct_v.unwrap() > 3);
        // No events (or only NULL times) give 0, not NULL; velocity without a prior window is the recent count.
        let (dc, v) = Spi::get_two::<f64, f64>(
            "SELECT lead_scoring.decayed_count(ts, now(), '1 day'), lead_scoring.engagement_velocity(ts, '2026-06-01', '7 days')
               FROM (VALUES (NULL::timestamptz), (timestamptz '2026-05-31'), (timestamptz '2026-05-30')) e(ts)",
        )
        .unwrap();
        assert!(dc.unwrap() > 0.0 && dc.unwrap() < 0.01);
        assert_eq!(v, Some(2.0));
    }

    #[pg_test]
    fn feature_aggregates_parallel_plan_equals_serial() {
        make_events(2000, 100);
        let q = "SELECT lead_scoring.decayed_count(ts, '2026-06-01', '14 days'), lead_scoring.decayed_sum(amount, ts, '2026-06-01', '7 days'),
                        lead_scoring.engagement_velocity(ts, '2026-06-01', '30 days') FROM events";
        let run = || {
            Spi::connect(|c| {
                let r = c.select(q, None, &[]).unwrap().first();
                (r.get::<f64>(1).unwrap().unwrap(), r.get::<f64>(2).unwrap().unwrap(), r.get::<f64>(3).unwrap().unwrap())
            })
        };
        Spi::run("SET max_parallel_workers_per_gather = 0").unwrap();
        let serial = run();
        Spi::run(
            "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
             SET min_parallel_table_scan_size = 0",
        )
        .unwrap();
        let plan = Spi::get_one::<pgrx::Json>(&format!("EXPLAIN (ANALYZE, FORMAT JSON) {q}")).unwrap().unwrap().0.to_string();
        assert!(plan.contains(r#""Partial Mode":"Partial""#), "expected a partial aggregate: {plan}");
        assert!(!plan.contains(r#""Workers Launched":0"#) && plan.contains(r#""Workers Launched""#), "workers must run: {plan}");
        let parallel = run();
        // Counts are exact; weighted sums agree up to floating-point addition order.
        assert_eq!(serial.2, parallel.2);
        assert!((serial.0 - parallel.0).abs() < 1e-9 * serial.0.max(1.0), "{serial:?} vs {parallel:?}");
        assert!((serial.1 - parallel.1).abs() < 1e-9 * serial.1.max(1.0), "{serial:?} vs {parallel:?}");
        assert!(serial.0 > 1.0);
    }

    #[pg_test]
    fn scalars() {
        let flags = Spi::get_one::<Vec<String>>(
            "SELECT lead_scoring.intent_flags('Need PRICING and a demo asap', ARRAY['demo', 'pricing', 'api'])",
        )
        .unwrap()
        .unwrap();
        assert_eq!(flags, vec!["demo".to_string(), "pricing".to_string()]);
        let (personal, company) = Spi::get_two::<bool, bool>(
            "SELECT lead_scoring.is_personal_email('Jane.Doe@GMAIL.com'), lead_scoring.is_personal_email('jane@acme.io')",
        )
        .unwrap();
        assert_eq!((personal, company), (Some(true), Some(false)));
        assert_eq!(Spi::get_one::<bool>("SELECT lead_scoring.is_personal_email('nobody')").unwrap(), None);
        let decayed = Spi::get_one::<f64>("SELECT lead_scoring.score_decay(50, '2026-01-01', '2026-03-02', 10)").unwrap();
        assert_eq!(decayed, Some(30.0));
        let floor = Spi::get_one::<f64>("SELECT lead_scoring.score_decay(50, '2025-01-01', '2026-03-02', 10)").unwrap();
        assert_eq!(floor, Some(0.0));
        let (l, same) =
            Spi::get_two::<f64, bool>("SELECT lead_scoring.log_scale(-99), lead_scoring.log_scale(99) = ln(100)").unwrap();
        assert!((l.unwrap() + 100f64.ln()).abs() < 1e-12 && same == Some(true));
        let volatility = Spi::get_one::<String>(
            "SELECT string_agg(DISTINCT provolatile::text || proparallel::text || proisstrict::text, ',') FROM pg_proc
              WHERE pronamespace = 'lead_scoring'::regnamespace
                AND proname IN ('intent_flags', 'is_personal_email', 'score_decay', 'log_scale')",
        )
        .unwrap();
        assert_eq!(volatility.as_deref(), Some("istrue"));
    }

    #[pg_test(error = "half_life must be a positive interval, got -86400 seconds")]
    fn negative_half_life() {
        Spi::run("SELECT lead_scoring.decayed_count(now(), now(), '-1 day')").unwrap();
    }

    #[pg_test(error = "window must be a positive interval, got 0 seconds")]
    fn zero_window() {
        Spi::run("SELECT lead_scoring.engagement_velocity(now(), now(), '0 days')").unwrap();
    }

    #[pg_test(error = "as_of must not be NULL")]
    fn null_as_of() {
        Spi::run("SELECT lead_scoring.decayed_sum(1.0, now(), NULL, '7 days')").unwrap();
    }

    #[pg_test(error = "keywords must not be empty")]
    fn empty_keywords() {
        Spi::run("SELECT lead_scoring.intent_flags('pricing page', ARRAY[]::text[])").unwrap();
    }

    #[pg_test(error = "points_per_month must be a finite number >= 0, got -1")]
    fn negative_decay_rate() {
        Spi::run("SELECT lead_scoring.score_decay(10, now(), now(), -1)").unwrap();
    }
}
