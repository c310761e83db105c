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
