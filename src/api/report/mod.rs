//! `report()`: the HTML model report.

pub mod report;
