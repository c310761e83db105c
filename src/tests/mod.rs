//! SQL behaviour tested through real SQL against a real server (`cargo pgrx test`).

mod errors;
mod evaluation;
mod fixtures;
mod governance;
mod metric_aggregates;
mod real_data;
mod thresholds;
mod workflow;
mod train_score;
