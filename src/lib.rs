//! lead_scoring: predictive lead scoring inside PostgreSQL.
//!
//! The ML and statistics core is its own crate (`core/`, `lead_scoring_core`, no pgrx), named
//! `crate::core` here. This crate is the PostgreSQL side, in layers that import only downwards
//! (`core/tests/architecture.rs` checks it):
//!
//! | layer | owns |
//! | --- | --- |
//! | `errors`, `settings` | ERRORs with their SQLSTATEs; the extension's GUCs |
//! | `pg` | PostgreSQL's internal formats (tuples, numerics, fn_extra, a DestReceiver) |
//! | `catalog` | every read and write of the `lead_scoring.*` tables |
//! | `executor` | sources, the model cache, row bindings, the fast scoring paths, aggregate passes |
//! | `api` | the SQL entry points, by pipeline stage |

use pgrx::prelude::*;

/// The core lives in its own crate (`core/`); `crate::core` names it here.
pub use lead_scoring_core as core;
mod errors;
mod settings;
mod pg;
mod catalog;
mod executor;
mod api;

::pgrx::pg_module_magic!(name, version);

/// Runs when the library is loaded into a backend.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
    catalog::invalidation::register_invalidation_callback();
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
