//! SQL behaviour tested through real SQL against a real server (`cargo pgrx test`).

// Rows read back from SQL are compared as the tuples they are.
#![allow(clippy::type_complexity)]

mod approvals;
mod audit;
mod datum;
mod demo;
mod errors;
mod evaluation;
mod experiments;
mod features;
mod fixtures;
mod funnel;
mod gbm_explain;
mod governance;
mod limits;
mod metric_aggregates;
mod outcomes;
mod monitoring;
mod perf;
mod preprocessing;
mod real_data;
mod report;
mod reproducibility;
mod row_shapes;
mod row_shapes_sql;
mod sampled_training;
mod schedule;
mod scale_out;
mod security;
mod score_rewrite;
mod score_trend;
mod segments;
mod thresholds;
mod train_score;
mod tuple_append;
mod tuple_deform;
mod value_scoring;
mod workflow;
