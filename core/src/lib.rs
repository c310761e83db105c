//! The ML and statistics core of lead_scoring: plain Rust, no PostgreSQL. Columns in, models and
//! numbers out; unit-tested with `cargo test -p lead_scoring_core` and usable without a server.
//!
//! Each stage's `mod.rs` is its public surface: its files are private modules, so other stages
//! and the extension import `lead_scoring_core::<stage>::Item`, never a file (the compiler
//! checks it). Modules follow the pipeline README describes, and depend only downwards in this order
//! (`tests/architecture.rs` fails on an import that goes up or closes a circle):
//!
//! | module | owns |
//! | --- | --- |
//! | `error` | the error type: a kind (which decides the SQLSTATE) and a message |
//! | `resources` | memory limits, worker threads, phase timings |
//! | `data` | values, dates, splits, resampling, the fitted preprocessor, the design matrix |
//! | `features` | the math of the feature building blocks (decay, velocity, intent) |
//! | `evaluation` | metrics, curves, folds, thresholds, tiers, score comparison |
//! | `audit` | the data-quality scorecard and the leakage guard |
//! | `models` | logistic regression, ridge regression, boosted trees, calibration, the model and its artifact |
//! | `serving` | the fast scoring plan and the model as a SQL expression |
//! | `explain` | contributions, top reasons, importance |
//! | `monitoring` | drift, performance on new labels, score trends |
//! | `governance` | deploy policy, rollback target, scheduled jobs |
//! | `report` | the model card and the HTML report |
//! | `training` | options, the training pipelines (classification, regression), segments, search, the aggregate engine |

pub mod error;
pub mod resources;
pub mod data;
pub mod features;
pub mod evaluation;
pub mod audit;
pub mod models;
pub mod serving;
pub mod explain;
pub mod monitoring;
pub mod governance;
pub mod report;
pub mod training;

pub use error::{CoreError, CoreResult, ErrorKind};
