//! Prospective experiments (README "Prospective experiments"): `start_experiment()` assigns each
//! new lead of a table to a model-routed or a control arm by a trigger, `stop_experiment()` ends
//! the assignment, `experiment_report()` compares the arms' conversion, time to conversion and
//! deal value with a significance test (the statistics are the core's
//! `evaluation::compare_arms`).

pub mod options;
pub mod report;
pub mod start;
