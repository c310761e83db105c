//! The score history the rescoring trigger keeps and `score_trend()` over it, for rows rescored
//! on write and rows rescored when their events arrive.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::JsonB;

    use crate::tests::fixtures::trained_with_new_leads as setup;

    /// The score trend: with a `lead_score_history` column the trigger keeps the previous
    /// scores (newest first, at most five) and score_trend() compares with the last one.
    #[pg_test]
    fn rescoring_keeps_a_score_history_and_a_trend() {
        setup();
        Spi::run(
            "CREATE TABLE crm AS SELECT id, visits, source, opted_in, noise FROM leads WHERE id <= 2;
             ALTER TABLE crm ADD PRIMARY KEY (id);
             SELECT lead_scoring.attach('crm', 'm', alerts => false);
             ALTER TABLE crm ADD lead_score_history float8[];
             UPDATE crm SET visits = 5;
             UPDATE crm SET visits = 0;
             UPDATE crm SET visits = 9 WHERE id = 1;",
        )
        .unwrap();
        let row = |sql: &str| Spi::get_one::<JsonB>(&format!("SELECT to_jsonb(x) FROM ({sql}) x")).unwrap().unwrap().0;
        let q = "SELECT lead_score, lead_score_history AS h, lead_scoring.score_trend(lead_score, lead_score_history) AS trend FROM crm WHERE id = 1";
        let r = row(q);
        assert_eq!(r["trend"], "improving", "{r}");
        assert_eq!(r["h"].as_array().unwrap().len(), 2, "the scores at visits 0 and 5 (the first score had none before it): {r}");
        assert_eq!(row("SELECT lead_scoring.score_trend(lead_score, lead_score_history) AS t, lead_score_history AS h FROM crm WHERE id = 2")["h"].as_array().unwrap().len(), 1);
        // An update that changes no feature keeps score and history.
        Spi::run("UPDATE crm SET id = id WHERE id = 1").unwrap();
        assert_eq!(row(q)["h"], r["h"]);
        Spi::run("UPDATE crm SET visits = 0 WHERE id = 1").unwrap();
        let r2 = row(q);
        assert_eq!(r2["trend"], "declining");
        assert_eq!(r2["h"][0], r["lead_score"], "the previous score comes first");
        for v in [1, 2, 3, 4, 5, 6] {
            Spi::run(&format!("UPDATE crm SET visits = {v} WHERE id = 1")).unwrap();
        }
        assert_eq!(row(q)["h"].as_array().unwrap().len(), 5);
        assert_eq!(row("SELECT lead_scoring.score_trend(0.5, NULL) AS t")["t"], "new");
        assert_eq!(row("SELECT lead_scoring.score_trend(0.5, ARRAY[0.49]) AS t")["t"], "steady");
        assert_eq!(row("SELECT lead_scoring.score_trend(NULL, ARRAY[0.49]) AS t")["t"], serde_json::Value::Null);
    }

    /// The score history through attach_events(): events arriving in another table rescore the
    /// lead from the feature view, and each changed score pushes the previous one onto
    /// `lead_score_history`; score_trend() then reads improving, then declining.
    #[pg_test]
    fn events_rescoring_keeps_a_score_history_and_a_trend() {
        setup();
        Spi::run(
            "CREATE TABLE crm (id int PRIMARY KEY, source text, opted_in boolean, noise float8, lead_score_history float8[]);
             INSERT INTO crm SELECT id, source, opted_in, noise FROM leads WHERE id <= 3;
             CREATE TABLE crm_events (id int, kind text);
             -- A visit raises the score; an unsubscribe takes back three visits.
             CREATE VIEW crm_features AS
             SELECT c.id, c.source, c.opted_in, c.noise,
                    greatest((SELECT count(*) FILTER (WHERE e.kind = 'visit') - 3 * count(*) FILTER (WHERE e.kind = 'unsubscribe')
                                FROM crm_events e WHERE e.id = c.id), 0)::int AS visits
               FROM crm c;
             SELECT lead_scoring.attach_events('crm_events', 'crm', 'id', 'm', 'crm_features', alerts => false);
             SELECT lead_scoring.rescore('crm', 'm');",
        )
        .unwrap();
        let lead = |id: i32| {
            Spi::get_one::<JsonB>(&format!(
                "SELECT to_jsonb(x) FROM (SELECT lead_score AS score, lead_score_history AS h,
                        lead_scoring.score_trend(lead_score, lead_score_history) AS trend,
                        (SELECT lead_scoring.score('m', f) FROM crm_features f WHERE f.id = c.id) AS from_view
                   FROM crm c WHERE id = {id}) x"
            ))
            .unwrap()
            .unwrap()
            .0
        };
        let first = lead(1);
        assert_eq!(first["trend"], "new", "the first score has nothing before it: {first}");
        assert_eq!(first["h"], serde_json::Value::Null);

        // Six visits in one statement: one rescore, one history entry.
        Spi::run("INSERT INTO crm_events SELECT 1, 'visit' FROM generate_series(1, 6)").unwrap();
        let up = lead(1);
        assert_eq!(up["score"], up["from_view"], "rescored from the view: {up}");
        assert!(up["score"].as_f64() > first["score"].as_f64(), "{first} -> {up}");
        assert_eq!(up["h"], serde_json::json!([first["score"]]));
        assert_eq!(up["trend"], "improving");
        assert_eq!(lead(2)["h"], serde_json::Value::Null, "leads without events keep their score and no history");

        Spi::run("INSERT INTO crm_events VALUES (1, 'unsubscribe')").unwrap();
        let down = lead(1);
        assert!(down["score"].as_f64() < up["score"].as_f64(), "{up} -> {down}");
        assert_eq!(down["h"], serde_json::json!([up["score"], first["score"]]), "the previous score comes first");
        assert_eq!(down["trend"], "declining");

        // An event that changes no feature keeps score and history.
        Spi::run("INSERT INTO crm_events VALUES (1, 'email_open')").unwrap();
        let same = lead(1);
        assert_eq!((&same["score"], &same["h"]), (&down["score"], &down["h"]));
        // The history keeps the last five scores.
        for _ in 0..6 {
            Spi::run("INSERT INTO crm_events VALUES (1, 'visit')").unwrap();
        }
        let long = lead(1);
        assert_eq!(long["h"].as_array().unwrap().len(), 5, "{long}");
        assert_eq!(long["trend"], "improving");
    }

    #[pg_test(error = "column \"lead_score_history\" of crm has type text, but lead_scoring writes double precision[] there")]
    fn score_history_column_must_be_float8_array() {
        setup();
        Spi::run(
            "CREATE TABLE crm AS SELECT id, visits, source, opted_in, noise FROM leads WHERE id <= 2;
             ALTER TABLE crm ADD PRIMARY KEY (id);
             SELECT lead_scoring.attach('crm', 'm', alerts => false);
             ALTER TABLE crm ADD lead_score_history text;
             UPDATE crm SET visits = 0;",
        )
        .unwrap();
    }
}
