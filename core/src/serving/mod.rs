//! Scoring a trained model fast: the per-row scoring plan of a logistic model and the plain SQL
//! expression a model can be turned into.
//!
//! Imports: `data`, `models`.

pub mod model_sql;
pub mod scoring_plan;
