//! SQL behaviour tested through real SQL against a real server (`cargo pgrx test`).

mod audit;
mod demo;
mod errors;
mod evaluation;
mod features;
mod fixtures;
mod gbm_explain;
mod governance;
mod limits;
mod metric_aggregates;
mod preprocessing;
mod real_data;
mod segments;
mod thresholds;
mod workflow;
mod train_score;
mod report;
mod schedule;
mod monitoring;
mod perf;
mod score_rewrite;
mod score_trend;
mod tuple_append;
mod tuple_deform;
