//! Scoring a trained model fast: the per-row scoring plans of logistic and boosted-trees models and the plain SQL
//! expression a model can be turned into.
//!
//! Imports: `data`, `models`.

mod model_sql;
mod scoring_plan;
mod tree_plan;

pub use model_sql::{float, input_sql, model_sql, numeric_value, quote_literal};
pub use scoring_plan::{LogisticPlan, ScoringPlan};
pub use tree_plan::TreePlan;
