//! The planner passes a table row to score(), tier() and score_100() as its columns
//! (score_support.rs); the answers must be those of the whole-row call, bit for bit.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    fn plan(query: &str) -> String {
        Spi::connect(|client| {
            let rows = client.select(&format!("EXPLAIN (VERBOSE, COSTS OFF) {query}"), None, &[])?;
            let mut lines = Vec::new();
            for row in rows {
                lines.push(row.get::<String>(1)?.unwrap_or_default());
            }
            Ok::<_, pgrx::spi::Error>(lines.join("\n"))
        })
        .unwrap()
    }

    fn count(query: &str) -> i64 {
        Spi::get_one::<i64>(query).unwrap().unwrap()
    }

    /// Rows where the rewritten call (`FROM leads l`) and the whole-row call (a subquery the
    /// planner keeps, so `l` stays one composite value) disagree, for score, tier and score_100.
    fn disagreements(table: &str) -> i64 {
        count(&format!(
            "SELECT count(*) FROM (SELECT id, lead_scoring.score('m', l) s, lead_scoring.tier('m', l) t, lead_scoring.score_100('m', l) h FROM {table} l) a
               FULL JOIN (SELECT id, lead_scoring.score('m', l) s, lead_scoring.tier('m', l) t, lead_scoring.score_100('m', l) h
                            FROM (SELECT * FROM {table} OFFSET 0) l) b USING (id)
              WHERE a.s::text IS DISTINCT FROM b.s::text OR a.t IS DISTINCT FROM b.t OR a.h IS DISTINCT FROM b.h"
        ))
    }

    #[pg_test]
    fn a_table_row_is_passed_as_columns_with_the_same_scores() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        // A dropped column and columns of other types and order than at training time.
        Spi::run(
            "CREATE TABLE reshaped (gone int, id int, noise float4, opted_in boolean, source char(12), visits numeric,
                                    created_at timestamp, email varchar, converted boolean);
             ALTER TABLE reshaped DROP COLUMN gone;
             INSERT INTO reshaped SELECT id, noise, opted_in, source, visits, created_at, email, converted FROM leads;
             INSERT INTO reshaped (id) VALUES (-1)",
        )
        .unwrap();
        for table in ["leads", "reshaped"] {
            let p = plan(&format!("SELECT lead_scoring.score('m', l) FROM {table} l"));
            assert!(p.contains(&format!("lead_scoring.score_fields('m'::text, '{table}'::regtype, ")), "{p}");
            assert_eq!(disagreements(table), 0, "{table}");
        }
        for function in ["tier", "score_100"] {
            let p = plan(&format!("SELECT lead_scoring.{function}('m', l) FROM leads l"));
            assert!(p.contains(&format!("lead_scoring.{function}_fields(")), "{p}");
        }
        // A view over the table is folded into the query: its row is built from the columns.
        Spi::run("CREATE VIEW recent AS SELECT * FROM reshaped WHERE id > 500").unwrap();
        assert!(plan("SELECT lead_scoring.score('m', r) FROM recent r").contains("score_fields("));
        assert_eq!(disagreements("recent"), 0);
        assert_eq!(
            count("SELECT count(*) FROM recent r JOIN reshaped s USING (id) WHERE lead_scoring.score('m', r) <> lead_scoring.score('m', s)"),
            0
        );
    }

    #[pg_test]
    fn a_row_an_outer_join_can_make_null_keeps_the_whole_row_call() {
        make_leads("leads", 300);
        train_default("m", "leads");
        let query = "SELECT g, lead_scoring.score('m', l) FROM generate_series(0, 2) g LEFT JOIN leads l ON l.id = g";
        assert!(!plan(query).contains("score_fields"), "{}", plan(query));
        // No lead 0: the row is NULL, and so is its score (score() is strict).
        assert_eq!(count(&format!("SELECT count(*) FROM ({query}) q WHERE score IS NULL")), 1);
        assert_eq!(count(&format!("SELECT count(*) FROM ({query}) q WHERE score IS NOT NULL")), 2);
        // The preserved side of the join is rewritten.
        assert!(plan("SELECT lead_scoring.score('m', l) FROM leads l LEFT JOIN pg_class c ON false").contains("score_fields"));
    }

    #[pg_test]
    fn the_model_is_found_when_the_query_runs_not_when_it_is_planned() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT version FROM lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\", \"noise\"], \"alpha\": 300, \"deploy\": \"never\"}')")
            .unwrap();
        // Planned once, run before and after a deploy: each run scores with the live version.
        Spi::connect_mut(|client| {
            let prepared = client.prepare("SELECT sum(lead_scoring.score('m', l)) FROM leads l", &[])?.keep();
            let before = client.select(&prepared, None, &[])?.first().get_one::<f64>()?;
            client.update("SELECT lead_scoring.deploy('m', 2, 'test')", None, &[])?;
            let after = client.select(&prepared, None, &[])?.first().get_one::<f64>()?;
            let v1 =
                client.select("SELECT sum(lead_scoring.score('m@1', l)) FROM leads l", None, &[])?.first().get_one::<f64>()?;
            let v2 =
                client.select("SELECT sum(lead_scoring.score('m@2', l)) FROM leads l", None, &[])?.first().get_one::<f64>()?;
            assert_eq!((before, after), (v1, v2));
            assert_ne!(v1, v2);
            Ok::<_, pgrx::spi::Error>(())
        })
        .unwrap();
    }

    #[pg_test(error = "the columns given do not match row type leads: column \"visits\" is integer, not text")]
    fn the_fields_functions_check_the_columns_they_are_given() {
        make_leads("leads", 300);
        train_default("m", "leads");
        Spi::run(
            "SELECT lead_scoring.score_fields('m', 'leads', id, email, source, source, opted_in, noise, created_at, converted)
               FROM leads",
        )
        .unwrap();
    }

    #[pg_test(error = "the columns given do not match row type leads: 3 column values for a row type with 8 columns")]
    fn the_fields_functions_check_the_column_count() {
        make_leads("leads", 300);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.score_fields('m', 'leads', 1, 'x', 3)").unwrap();
    }

    #[pg_test]
    fn a_null_model_name_gives_null_as_score_does() {
        make_leads("leads", 300);
        train_default("m", "leads");
        assert_eq!(count("SELECT count(*) FROM leads l WHERE lead_scoring.score(NULL::text, l) IS NULL"), 300);
        assert_eq!(count("SELECT count(*) FROM leads l WHERE lead_scoring.tier(NULL::text, l) IS NULL"), 300);
    }

    #[pg_test]
    fn a_row_too_wide_for_one_call_keeps_the_whole_row_call() {
        make_leads("leads", 300);
        train_default("m", "leads");
        let padding: Vec<String> = (0..100).map(|i| format!("0 AS pad{i}")).collect();
        Spi::run(&format!("CREATE TABLE wide AS SELECT *, {} FROM leads", padding.join(", "))).unwrap();
        assert!(!plan("SELECT lead_scoring.score('m', w) FROM wide w").contains("score_fields"));
        assert_eq!(
            count("SELECT count(*) FROM wide w JOIN leads l USING (id) WHERE lead_scoring.score('m', w) = lead_scoring.score('m', l)"),
            300
        );
    }
}
