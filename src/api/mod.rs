//! The SQL entry points, grouped by the pipeline stage README describes. Each is thin: it checks
//! its arguments, calls the core, reads or writes through `catalog`, and returns.
//!
//! Imports: everything below it (`executor`, `catalog`, `pg`, `errors`, `settings`, the core).

// pgrx reads a set-returning function's column names from its signature (`name!`), so those
// signatures are spelled out rather than aliased.
#![allow(clippy::type_complexity)]

pub mod data;
pub mod evaluation;
pub mod experiments;
pub mod explain;
pub mod governance;
pub mod monitoring;
pub mod report;
pub mod serving;
pub mod training;
