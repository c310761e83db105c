//! The ML and statistics core: plain Rust, no pgrx types. Matrices and rows in, models and
//! numbers out. Everything here is unit-tested with `cargo test` and usable without a server.

pub mod aggregate_fit;
pub mod artifact;
pub mod audit;
pub mod binning;
pub mod calibration;
pub mod compare;
pub mod content_order;
pub mod curves;
pub mod features;
pub mod float_sort;
pub mod cv;
pub mod design_matrix;
pub mod dates;
pub mod explain;
pub mod gbm;
pub mod governance;
pub mod interactions;
pub mod level_table;
pub mod logistic;
pub mod logistic_accumulate;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod model_sql;
pub mod model_card;
pub mod model_checks;
pub mod options;
pub mod phase_times;
pub mod pipeline;
pub mod preprocess;
pub mod preprocess_options;
pub mod resample;
pub mod segments;
pub mod scoring_plan;
pub mod selection;
pub mod split;
pub mod thresholds;
pub mod tiers;
pub mod treeshap;
pub mod treeshap_leaf_tables;
pub mod values;
pub mod svg_chart;
pub mod markdown;
pub mod report;
pub mod report_drift;
pub mod schedule;
pub mod drift;
pub mod monitoring;
pub mod trend;

/// An error the core reports to its caller; the SQL layer turns it into a Postgres ERROR.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreError(pub String);

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CoreError {}

/// Shorthand for building a [`CoreError`] with `format!` syntax.
#[macro_export]
macro_rules! core_err {
    ($($arg:tt)*) => { $crate::CoreError(format!($($arg)*)) };
}

pub type CoreResult<T> = Result<T, CoreError>;
pub mod threads;
