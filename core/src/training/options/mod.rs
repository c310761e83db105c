//! The `options` jsonb of `train()`, parsed strictly: an unknown key or a value of the wrong
//! type is an error that names the key, never silently ignored.
//!
//! Files: `choices` (class weights, algorithm, calibration, search space, engine, task),
//! `train_options` (the options with defaults and bounds), `parse` (the jsonb parser), `task`
//! (classification or regression, and what a regression accepts).

mod choices;
mod parse;
mod task;
mod train_options;

pub use choices::{Algorithm, AlphaSpace, CalibrationChoice, ClassWeight, Engine, SearchSpec, Task, AUTO_AGGREGATE_ROWS};
pub use parse::parse_train_options;
pub use task::{default_value_tiers, regression_algorithm};
pub use train_options::{TrainOptions, KNOWN_OPTIONS};

#[cfg(test)]
mod tests;
