//! Preprocessing fitted on the training part only and stored inside the model, so scoring runs
//! exactly the same transform as training (no training/serving skew):
//! - numbers: optionally log-scaled (`options.log`), placeholder/NULL to the training median,
//!   plus a 0/1 "missing" indicator when the training part had missing values, then standard
//!   scaling; or cut into quantile bins seen one-hot (`options.bins`);
//! - text and booleans: one-hot over the levels seen at least `min_level_count` times in
//!   training; rarer levels and levels never seen in training share one "(other)" column;
//!   NULL and placeholder values ('' and 'Select' by default) are the level "(missing)";
//! - dates: days before the model's as-of time (imputed and scaled like a number) and the day
//!   of week one-hot;
//! - interaction terms (`options.interactions`): products of two columns' inputs.
//!
//! Files: `options` (what shapes the fit), `transform` (one column's fitted transform),
//! `interactions`, `fit` (fitting on the training part), `statistics` (the same fit from
//! statistics of the training part), `preprocessor` (applying it to rows).

mod fit;
mod interactions;
mod level_index;
mod options;
mod preprocessor;
mod statistics;
mod transform;

pub use fit::{fit_preprocessor, fit_preprocessor_checked, fit_preprocessor_reporting, CappedLevels};
pub use interactions::Interaction;
pub use level_index::LevelIndex;
pub use options::{parse_preprocess_option, PreprocessOptions, PREPROCESS_KEYS};
pub(crate) use preprocessor::format_number;
pub use preprocessor::{signed_log1p, Preprocessor};
pub use statistics::{preprocessor_from_statistics, ColumnStatistics, NumericMoments};
pub use transform::{FeatureTransform, Scaling, MISSING_LEVEL};

#[cfg(test)]
mod tests;
