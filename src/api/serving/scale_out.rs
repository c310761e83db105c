//! `distribute_catalog()`: readying a Citus cluster for scoring on its workers (README "Scale
//! out with Citus").

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::catalog::distribution::make_reference_tables;

/// On a Citus coordinator: makes the catalog tables (models, model_events, lead_feedback,
/// monitoring) reference tables, so `score()`, `tier()`, `explain()` and `top_reasons()` in a
/// query over a distributed table run on the workers and find the model there, and a deploy or
/// rollback reaches every node in one commit. Idempotent; an ERROR without Citus.
#[pg_extern(volatile, parallel_unsafe)]
fn distribute_catalog() -> JsonB {
    let (changed, workers) = make_reference_tables();
    JsonB(json!({"reference_tables": changed, "workers": workers}))
}
