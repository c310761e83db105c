//! Rules about versions without a database: the auto-deploy policy (with its margin and
//! significance test), the version a rollback returns to, and the pg_cron jobs of scheduled
//! monitoring and retraining.
//!
//! Imports: `data`, `evaluation`, `models`.

mod deploy_policy;
mod schedule;
mod value_deploy;

pub use deploy_policy::{
    decide, rollback_target, score_test_rows, DeployDecision, DeployPolicy, DeployRule, HistoryEvent, SameRows, DEPLOY_TEST_ALPHA,
};
pub use schedule::{cron_problem, job_name, monitoring_command, retraining_command, CronFacts, JobKind};
pub use value_deploy::decide_regression;
