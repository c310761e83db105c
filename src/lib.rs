//! lead_scoring: predictive lead scoring inside PostgreSQL.
//!
//! `core` is the plain-Rust ML and statistics core (the `lead_scoring_core` crate in `core/`, no
//! pgrx dependency); `sql` is the thin pgrx
//! layer that exposes it as SQL functions over the catalog tables in sql/catalog.sql.

use pgrx::prelude::*;

/// The core lives in its own crate (`core/`); `crate::core` names it here.
pub use lead_scoring_core as core;
mod sql;

::pgrx::pg_module_magic!(name, version);

/// Runs when the library is loaded into a backend.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    sql::settings::register();
    sql::cache::register_invalidation_callback();
}

#[cfg(any(test, feature = "pg_test"))]
mod tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    /// pg_cron for the scheduling tests (src/tests/schedule.rs); pgrx's test database is
    /// `pgrx_tests`.
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["shared_preload_libraries = 'pg_cron'", "cron.database_name = 'pgrx_tests'"]
    }
}
