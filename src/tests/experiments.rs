//! Prospective experiments: an ERROR for every bad start, stop and report; assignment by key
//! (deterministic, kept on re-insert, stopped at the planned sample size, blind); the owner-only
//! assignments; the report's counts equal plain SQL.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{error_of, make_leads, train_default};

    /// Model `m` trained on `leads` (1,000 rows), and an empty `inbox` with leads' columns and
    /// primary key `id`, where new leads arrive.
    fn setup() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("CREATE TABLE inbox (LIKE leads); ALTER TABLE inbox ADD PRIMARY KEY (id);").unwrap();
    }

    fn one<T: IntoDatum + FromDatum>(sql: &str) -> T {
        Spi::get_one::<T>(sql).unwrap().unwrap()
    }

    #[pg_test]
    fn every_bad_call_is_an_error_with_its_sqlstate() {
        setup();
        Spi::run("CREATE TABLE keyless (LIKE leads)").unwrap();
        Spi::run("SELECT lead_scoring.start_experiment('taken', 'm', 'inbox')").unwrap();
        Spi::run("SELECT lead_scoring.start_experiment('stopped', 'm', 'inbox')").unwrap();
        Spi::run("SELECT lead_scoring.stop_experiment('stopped')").unwrap();
        let cases = [
            ("SELECT lead_scoring.start_experiment('e', 'no_such_model', 'inbox')", "42704", "no_such_model"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', ARRAY['model', ''])", "22023", "the control arm is empty"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', ARRAY[NULL, 'random'])", "22023", "the treatment arm is empty"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', ARRAY['model'])", "22023", "two routings"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', ARRAY['model', 'email'])", "22023", "(it is a text column)"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', ARRAY['model', 'model:nope'])", "42704", "nope"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', fraction => 0)", "22023", "strictly between 0 and 1"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', fraction => 1)", "22023", "strictly between 0 and 1"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', fraction => 'NaN')", "22023", "strictly between 0 and 1"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', fraction => 1.5)", "22023", "strictly between 0 and 1"),
            ("SELECT lead_scoring.start_experiment('taken', 'm', 'inbox')", "42710", "experiment \"taken\" already exists"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'keyless')", "22023", "no one-column primary key"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'keyless', options => '{\"key\": \"nope\"}')", "42703", "\"nope\""),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', options => '{\"blind\": true, \"arm_column\": \"arm\"}')", "22023", "blind"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', options => '{\"sample_size\": 0}')", "22023", "sample_size"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', options => '{\"capacity\": 1.5}')", "22023", "capacity"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', options => '{\"colour\": 1}')", "22023", "unknown experiment option \"colour\""),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', options => '{\"outcome\": \"email\"}')", "42804", "not boolean"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'inbox', options => '{\"value_column\": \"nope\"}')", "42703", "\"nope\""),
            ("SELECT lead_scoring.start_experiment('', 'm', 'inbox')", "22023", "1 to 39 bytes"),
            ("SELECT lead_scoring.start_experiment('e', 'm', 'leads_view')", "42P01", "leads_view"),
            ("SELECT lead_scoring.stop_experiment('stopped')", "55000", "already stopped"),
            ("SELECT lead_scoring.stop_experiment('never_started')", "42704", "\"never_started\" does not exist"),
            ("SELECT * FROM lead_scoring.experiment_report('never_started')", "42704", "\"never_started\" does not exist"),
            ("SELECT * FROM lead_scoring.experiment_report(NULL)", "22004", "name"),
        ];
        for (sql, state, part) in cases {
            let got = error_of(sql);
            assert!(got.starts_with(state) && got.contains(part), "{sql}: {got}");
        }
        // Nothing of the failed starts stays behind: two experiments, two triggers... one
        // trigger, as 'stopped' dropped its own.
        assert_eq!(one::<i64>("SELECT count(*) FROM lead_scoring.experiments"), 2);
        assert_eq!(one::<i64>("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'inbox'::regclass AND NOT tgisinternal"), 1);
    }

    #[pg_test]
    fn leads_get_an_arm_by_key_until_the_sample_size() {
        setup();
        Spi::run(
            "SELECT lead_scoring.start_experiment('ab', 'm', 'inbox', ARRAY['model', 'random'], 0.3,
                     '{\"sample_size\": 300, \"blind\": true, \"score_column\": \"priority\"}')",
        )
        .unwrap();
        Spi::run("INSERT INTO inbox SELECT * FROM leads WHERE id <= 500 ORDER BY id").unwrap();
        // The first 300 leads have an arm, the rest none; the experiment is complete.
        assert_eq!(one::<i64>("SELECT count(*) FROM lead_scoring.experiment_assignments WHERE experiment = 'ab'"), 300);
        assert_eq!(one::<i64>("SELECT max(lead_key::int) FROM lead_scoring.experiment_assignments WHERE experiment = 'ab'"), 300);
        assert_eq!(one::<String>("SELECT status FROM lead_scoring.experiments WHERE name = 'ab'"), "complete");
        assert_eq!(one::<i64>("SELECT count(priority) FROM inbox"), 300);
        // Blind: the row has the routed score but no arm column.
        assert_eq!(one::<i64>("SELECT count(*) FROM pg_attribute WHERE attrelid = 'inbox'::regclass AND attname = 'arm'"), 0);
        // The arm is the hash draw against the fraction; treatment is routed by the model,
        // control by a random number.
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM lead_scoring.experiment_assignments a JOIN inbox i ON i.id::text = a.lead_key
                  WHERE a.arm <> CASE WHEN lead_scoring.experiment_draw('ab', a.lead_key, 0) < 0.3 THEN 'treatment' ELSE 'control' END
                     OR i.priority IS DISTINCT FROM a.routed_score
                     OR (a.arm = 'treatment' AND abs(a.routed_score - lead_scoring.score('m', i)) > 1e-12)
                     OR (a.arm = 'control' AND a.routed_score <> lead_scoring.experiment_draw('ab', a.lead_key, 1))"
            ),
            0
        );
        let treated = one::<i64>("SELECT count(*) FROM lead_scoring.experiment_assignments WHERE arm = 'treatment'");
        assert!((60..=120).contains(&treated), "about 30% of 300: {treated}");
        // A second experiment of another name on other leads, not blind: the arm is written.
        Spi::run(
            "SELECT lead_scoring.start_experiment('again', 'm', 'inbox', ARRAY['model', 'noise'], 0.5, '{\"arm_column\": \"arm\"}')",
        )
        .unwrap();
        Spi::run("INSERT INTO inbox SELECT *, NULL, NULL FROM leads WHERE id > 500 AND id <= 700").unwrap();
        let arms = || {
            one::<String>("SELECT string_agg(arm || routed_score, ',' ORDER BY lead_key) FROM lead_scoring.experiment_assignments WHERE experiment = 'again'")
        };
        let before = arms();
        assert_eq!(one::<i64>("SELECT count(*) FROM inbox WHERE id > 500 AND arm IS NULL"), 0);
        // Re-inserting the same leads keeps their arms and scores.
        Spi::run(
            "DELETE FROM inbox WHERE id > 500; INSERT INTO inbox SELECT *, NULL, NULL FROM leads WHERE id > 500 AND id <= 700",
        )
        .unwrap();
        assert_eq!(arms(), before);
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM inbox i JOIN lead_scoring.experiment_assignments a ON a.experiment = 'again' AND a.lead_key = i.id::text
                  WHERE i.arm = a.arm"
            ),
            200
        );
        // Stopped: no trigger, new leads get no arm.
        Spi::run("SELECT lead_scoring.stop_experiment('again')").unwrap();
        Spi::run("INSERT INTO inbox SELECT *, NULL, NULL FROM leads WHERE id > 700 AND id <= 710").unwrap();
        assert_eq!(one::<i64>("SELECT count(*) FROM lead_scoring.experiment_assignments WHERE experiment = 'again'"), 200);
    }

    #[pg_test]
    fn report_counts_equal_plain_sql_and_only_the_owner_reads_the_arms() {
        setup();
        Spi::run(
            "SELECT lead_scoring.start_experiment('cap', 'm', 'inbox', ARRAY['model', 'random'], 0.5, '{\"capacity\": 0.25}')",
        )
        .unwrap();
        Spi::run("INSERT INTO inbox SELECT * FROM leads").unwrap();
        // Worked: the top quarter of each arm by routed score (ties in the draw's order).
        let expected = one::<String>(
            "WITH ranked AS (
               SELECT a.arm, i.converted, count(*) OVER (PARTITION BY a.arm) AS n,
                      row_number() OVER (PARTITION BY a.arm ORDER BY a.routed_score DESC, lead_scoring.experiment_draw('cap', a.lead_key, 2)) AS r
                 FROM lead_scoring.experiment_assignments a JOIN inbox i ON i.id::text = a.lead_key WHERE a.experiment = 'cap')
             SELECT string_agg(format('%s %s %s %s', arm, n, ceil(n * 0.25), conversions), ',' ORDER BY arm DESC)
               FROM (SELECT arm, max(n) AS n, count(*) FILTER (WHERE converted AND r <= ceil(n * 0.25)) AS conversions
                       FROM ranked GROUP BY arm) s",
        );
        let got = one::<String>(
            "SELECT string_agg(format('%s %s %s %s', arm, leads, worked, conversions), ',' ORDER BY arm DESC)
               FROM lead_scoring.experiment_report('cap')",
        );
        assert_eq!(got, expected);
        let (p, verdict) = Spi::get_two::<f64, String>(
            "SELECT p_value, verdict FROM lead_scoring.experiment_report('cap') WHERE arm = 'treatment'",
        )
        .unwrap();
        assert!(p.unwrap() < 0.05, "{verdict:?}");
        assert!(verdict.unwrap().contains("converts better, significant at the 5% level"));
        // A rep inserts leads (the trigger writes the catalog for them) but sees no arm and
        // cannot read the report or stop the experiment.
        Spi::run(
            "CREATE ROLE experiment_rep; GRANT INSERT, SELECT ON inbox TO experiment_rep; GRANT SELECT ON leads TO experiment_rep;
             SET ROLE experiment_rep;
             INSERT INTO inbox SELECT id + 10000, email, visits, source, opted_in, noise, created_at, converted FROM leads WHERE id <= 10;",
        )
        .unwrap();
        assert_eq!(one::<i64>("SELECT count(*) FROM lead_scoring.experiment_assignments"), 0);
        assert!(error_of("SELECT * FROM lead_scoring.experiment_report('cap')").starts_with("42501"));
        assert!(error_of("SELECT lead_scoring.stop_experiment('cap')").starts_with("42501"));
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(one::<i64>("SELECT count(*) FROM lead_scoring.experiment_assignments WHERE lead_key::int > 10000"), 10);
    }
}
