//! Test data built in SQL: leads with a planted signal, so tests can check that a model learns it.

use pgrx::prelude::*;

/// Creates `public.leads` with `n` rows: converted (about 25% of leads) depends on visits (strong), source
/// 'Reference' (strong) and opted_in (weak); `noise` carries no signal. Deterministic.
pub fn make_leads(table: &str, n: i32) {
    Spi::run(&format!(
        "SELECT setseed(0.42);
         CREATE TABLE {table} AS
         SELECT id, email, visits, source, opted_in, noise, created_at,
                random() < 1 / (1 + exp(-(-4.0 + 0.45 * coalesce(visits, 3)
                                          + CASE source WHEN 'Reference' THEN 1.8 ELSE 0 END
                                          + CASE WHEN opted_in THEN 0.3 ELSE 0 END))) AS converted
           FROM (SELECT i AS id,
                        'lead' || i || '@example.com' AS email,
                        CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 10)::int END AS visits,
                        (ARRAY['Google', 'Reference', 'Olark Chat', 'Select'])[1 + floor(random() * 4)::int] AS source,
                        random() < 0.5 AS opted_in,
                        random() AS noise,
                        timestamptz '2025-01-01' + i * interval '1 hour' AS created_at
                   FROM generate_series(1, {n}) AS i) AS s"
    ))
    .expect("create test leads");
}

/// Trains the standard test model `m` on `leads` and returns its version.
pub fn train_default(model: &str, table: &str) -> i32 {
    Spi::get_one::<i32>(&format!(
        "SELECT version FROM lead_scoring.train('{model}', '{table}', 'converted',
                options => '{{\"exclude\": [\"id\"]}}')"
    ))
    .expect("train")
    .expect("a version")
}

/// `leads` with a fixed split column (so the training part is known to plain SQL), model
/// `m` trained on it, and `new_leads`: 500 leads without a label, visits shifted up, a
/// fifth of them from a source never seen in training.
pub fn trained_with_new_leads() {
    make_leads("leads", 2000);
    Spi::run(
        "ALTER TABLE leads ADD part text;
         UPDATE leads SET part = CASE WHEN id % 10 < 7 THEN 'train' WHEN id % 10 < 9 THEN 'validation' ELSE 'test' END;
         CREATE TABLE new_leads AS
         SELECT id, CASE WHEN id % 7 = 0 THEN NULL ELSE visits + 3 END AS visits,
                CASE WHEN id % 5 = 0 THEN 'Webinar' ELSE source END AS source, opted_in, noise
           FROM leads WHERE id <= 500;",
    )
    .unwrap();
    Spi::run(
        "SELECT * FROM lead_scoring.train('m', 'leads', 'converted', ARRAY['visits', 'source', 'opted_in', 'noise'],
                options => '{\"split\": {\"method\": \"column\", \"column\": \"part\"}}')",
    )
    .unwrap();
}

/// The ERROR a statement raises, as "SQLSTATE: message" ("no error" when it succeeds): run in
/// a PL/pgSQL block, so a test checks many errors in one transaction.
pub fn error_of(statement: &str) -> String {
    // Defined once per session: a role the test switched to could not replace the superuser's.
    let defined = Spi::get_one::<bool>("SELECT to_regprocedure('pg_temp.error_of(text)') IS NOT NULL").unwrap();
    if defined == Some(true) {
        return Spi::get_one_with_args::<String>("SELECT pg_temp.error_of($1)", &[statement.into()]).unwrap().unwrap();
    }
    Spi::run(
        "CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $f$
         DECLARE state text; msg text;
         BEGIN
           EXECUTE statement;
           RETURN 'no error';
         EXCEPTION WHEN OTHERS THEN
           GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
           RETURN state || ': ' || msg;
         END $f$",
    )
    .expect("define pg_temp.error_of");
    Spi::get_one_with_args::<String>("SELECT pg_temp.error_of($1)", &[statement.into()]).unwrap().unwrap()
}
