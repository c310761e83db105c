//! The settings the extension's own catalog queries run under, whatever the caller's session
//! has set: `search_path = pg_catalog, pg_temp`, and on Citus
//! `citus.allow_nested_distributed_execution = on`.
//!
//! search_path: the catalog queries name their tables with the schema, but their operators and
//! functions (`name = $1`, `->`, `now()`) are looked up on the caller's path. PostgreSQL
//! searches pg_catalog first only when the path does not list it: a session with
//! `search_path = other, pg_catalog` would run an `=` of schema `other` on every model lookup.
//!
//! Citus: with the catalog tables made reference tables (`distribute_catalog()`), `score()` in
//! a query over a distributed table runs on the workers, inside the query on a shard, and looks
//! its model up in the worker's copy of `lead_scoring.models`. Citus refuses any query on a
//! distributed or reference table from inside a shard's query unless this setting is on; the
//! lookup reads the worker's own committed replica of a reference table, which the setting's
//! warning (a nested query seeing other shards mid-transaction) does not concern.
//!
//! Both are set the way a function's `SET` clause does: a new GUC nest level, popped when the
//! work is done.

use std::ffi::{c_int, CStr};

use pgrx::pg_sys;

const NESTED_DISTRIBUTED: &CStr = c"citus.allow_nested_distributed_execution";

/// While alive, the catalog's settings hold; dropping it (at the end of the scope, or while an
/// ERROR unwinds through the scope) gives the caller's settings back.
pub struct CatalogSettings {
    nest_level: c_int,
}

impl CatalogSettings {
    pub fn pin() -> CatalogSettings {
        Self::pin_with(&[])
    }

    /// [`pin`](Self::pin), and `extra` settings (name, value) at the same nest level, restored
    /// with the others (for example Citus' `citus.enable_unsafe_triggers` while a trigger is
    /// created on a distributed table).
    pub fn pin_with(extra: &[(&CStr, &CStr)]) -> CatalogSettings {
        // SAFETY: called from the backend's main thread inside a transaction (every SQL entry
        // point is). set_config_option with GUC_ACTION_SAVE records the old value at the new
        // nest level; elevel ERROR makes a rejected value an ERROR, not a silent no-op. The
        // Citus setting is only set when Citus defined it (GetConfigOption with missing_ok
        // returns NULL otherwise), so no placeholder is created without Citus.
        unsafe {
            let nest_level = pg_sys::NewGUCNestLevel();
            set(c"search_path", c"pg_catalog, pg_temp");
            if !pg_sys::GetConfigOption(NESTED_DISTRIBUTED.as_ptr(), true, false).is_null() {
                set(NESTED_DISTRIBUTED, c"on");
            }
            for (name, value) in extra {
                set(name, value);
            }
            CatalogSettings { nest_level }
        }
    }
}

impl CatalogSettings {
    /// Only `settings` (name, value), at a new nest level restored on drop like the others: for
    /// the aggregate engine's queries over a source, which run with `jit = off` (one of them
    /// carries a model's whole SQL expression, which LLVM took minutes and gigabytes to compile
    /// once the row count put the plan's cost above `jit_above_cost`).
    pub fn pin_only(settings: &[(&CStr, &CStr)]) -> CatalogSettings {
        // SAFETY: as in `pin_with`: main thread, inside a transaction, a new nest level first.
        unsafe {
            let nest_level = pg_sys::NewGUCNestLevel();
            for (name, value) in settings {
                set(name, value);
            }
            CatalogSettings { nest_level }
        }
    }
}

/// # Safety
/// Main thread, inside a transaction, after `NewGUCNestLevel`.
unsafe fn set(name: &CStr, value: &CStr) {
    // SAFETY: as the caller guarantees; both strings are NUL-terminated constants.
    unsafe {
        pg_sys::set_config_option(
            name.as_ptr(),
            value.as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            pgrx::PgLogLevel::ERROR as c_int,
            false,
        );
    }
}

impl Drop for CatalogSettings {
    fn drop(&mut self) {
        // SAFETY: guards drop in reverse order of pinning and no subtransaction is opened and
        // left open inside one, so this level is the innermost one open (also while an ERROR
        // unwinds: the (sub)transaction abort that pops levels comes after). Popping it
        // restores the saved values; it raises nothing.
        unsafe { pg_sys::AtEOXact_GUC(true, self.nest_level) };
    }
}
