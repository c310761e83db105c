//! Rules about versions without a database: the auto-deploy policy, the version a rollback
//! returns to, and the pg_cron jobs of scheduled monitoring and retraining.
//!
//! Imports: `data`, `evaluation`, `models`.

mod deploy_policy;
mod schedule;

pub use deploy_policy::{decide, live_auc_on_test_rows, rollback_target, DeployPolicy, HistoryEvent};
pub use schedule::{cron_problem, job_name, monitoring_command, retraining_command, CronFacts, JobKind};
