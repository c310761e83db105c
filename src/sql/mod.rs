//! The thin pgrx layer: reads rows through SPI, calls the core, writes the catalog, and turns
//! every failure into a clear Postgres ERROR.

pub mod audit;
pub mod cache;
pub mod catalog;
pub mod compare;
pub mod curves;
pub mod demo;
pub mod errors;
pub mod evaluate;
pub mod explain;
pub mod features;
pub mod metric_aggregates;
pub mod registry;
pub mod rows;
pub mod rows_binding;
pub mod score;
pub mod source;
pub mod thresholds;
pub mod train;
