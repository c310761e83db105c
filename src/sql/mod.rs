//! The thin pgrx layer: reads rows through SPI, calls the core, writes the catalog, and turns
//! every failure into a clear Postgres ERROR.

pub mod audit;
pub mod attach;
pub mod attach_events;
pub mod cache;
pub mod catalog;
pub mod compare;
pub mod curves;
pub mod demo;
pub mod errors;
pub mod evaluate;
pub mod explain;
pub mod features;
pub mod feedback;
pub mod governance;
pub mod metric_aggregates;
pub mod model_card;
pub mod registry;
pub mod rows;
pub mod rows_binding;
pub mod score;
pub mod scored_view;
pub mod source;
pub mod thresholds;
pub mod train;
pub mod report;
pub mod schedule;
pub mod drift;
pub mod monitoring;
pub mod backtest;
pub mod trend;
pub mod aggregate_engine;
pub mod model_sql;
pub mod numeric_bytes;
pub mod row_stream;
