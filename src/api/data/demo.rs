//! `generate_demo(n_leads, seed)`: a realistic demo CRM in schema `lead_scoring_demo`
//! (companies, leads, lead_events and the feature view `lead_features`), built set-based by the
//! SQL in sql/demo_generator.sql. The ground truth and the drift are documented there and in
//! README ("Demo CRM").

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::errors::{invalid, required};

const GENERATOR: &str = include_str!("../../../sql/demo_generator.sql");
pub const MIN_LEADS: i32 = 100;
pub const MAX_LEADS: i32 = 10_000_000;

/// Creates (or replaces) schema `lead_scoring_demo` with `n_leads` leads, their companies and
/// 18 months of events, deterministic for a seed, and returns counts and the conversion rate.
#[pg_extern(volatile, parallel_unsafe)]
fn generate_demo(n_leads: default!(Option<i32>, "10000"), seed: default!(Option<i32>, "42")) -> JsonB {
    let n = required(n_leads, "n_leads");
    let seed = required(seed, "seed");
    if !(MIN_LEADS..=MAX_LEADS).contains(&n) {
        invalid(format!("n_leads must be between {MIN_LEADS} and {MAX_LEADS}, got {n}"));
    }
    let sql = GENERATOR.replace("{n}", &n.to_string()).replace("{seed}", &seed.to_string());
    Spi::run(&sql).unwrap_or_else(|e| invalid(format!("cannot generate the demo CRM: {e}")));
    let counts = Spi::get_one::<JsonB>(
        "SELECT pg_catalog.jsonb_build_object(
                  'companies', (SELECT count(*) FROM lead_scoring_demo.companies),
                  'leads', count(*),
                  'lead_events', (SELECT count(*) FROM lead_scoring_demo.lead_events),
                  'conversion_rate', round(avg(converted::int), 4))
           FROM lead_scoring_demo.leads",
    )
    .unwrap_or_else(|e| invalid(format!("cannot count the demo CRM: {e}")))
    .expect("a jsonb object");
    let mut summary = json!({"schema": "lead_scoring_demo", "seed": seed, "feature_view": "lead_scoring_demo.lead_features"});
    summary.as_object_mut().unwrap().extend(counts.0.as_object().cloned().unwrap_or_default());
    JsonB(summary)
}
