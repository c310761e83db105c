//! SQL behaviour tested through real SQL against a real server (`cargo pgrx test`).

mod errors;
mod fixtures;
mod real_data;
mod train_score;
