//! Running models inside queries: what a `source` names and reading it into the core's columns,
//! the per-backend model cache, a model's columns bound to a row type, the fast scoring paths
//! the planner and the rescoring trigger call (C functions keeping state between rows), and
//! train()'s aggregate passes and its aggregates over all rows as SQL.
//!
//! Imports: `pg`, `catalog`, `errors`, `settings`, the core. Never an entry point (`api`).

pub mod aggregate_engine;
pub mod attachment;
pub mod cache;
pub mod full_data;
pub mod outcome_filter;
pub mod rows;
pub mod rows_binding;
pub mod score_fields;
pub mod score_support;
pub mod score_trigger;
pub mod scoring;
pub mod source;
