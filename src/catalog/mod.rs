//! Catalog tables (`models`, `model_events`, `experiments`, `experiment_assignments`) and the
//! `model_overview` and `decisions` views; the DDL lives in
//! sql/catalog.sql and runs before every generated function.

pgrx::extension_sql_file!("../../sql/catalog.sql", name = "catalog", bootstrap);

pub mod distribution;
pub mod events;
pub mod experiments;
pub mod feedback;
pub mod governance;
pub mod invalidation;
pub mod models;
pub mod monitoring;
pub mod segments;
pub mod split_keys;
