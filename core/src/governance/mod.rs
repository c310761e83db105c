//! Rules about versions without a database: the auto-deploy policy, the version a rollback
//! returns to, and the pg_cron jobs of scheduled monitoring and retraining.
//!
//! Imports: `data`, `evaluation`, `models`.

pub mod deploy_policy;
pub mod schedule;
