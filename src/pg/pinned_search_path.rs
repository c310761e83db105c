//! Running the extension's own catalog queries with `search_path = pg_catalog, pg_temp`.
//!
//! The catalog queries name their tables with the schema, but their operators and functions
//! (`name = $1`, `->`, `now()`) are looked up on the caller's search_path. PostgreSQL searches
//! pg_catalog first only when the path does not list it: a session with
//! `search_path = other, pg_catalog` would run an `=` of schema `other` on every model lookup.
//! Pinning the path the way a function's `SET search_path` clause does (a new GUC nest level,
//! popped when the work is done) makes every name in those queries mean pg_catalog's.

use std::ffi::c_int;

use pgrx::pg_sys;

/// While alive, `search_path` is `pg_catalog, pg_temp`; dropping it (at the end of the scope,
/// or while an ERROR unwinds through the scope) gives the caller's path back.
pub struct PinnedSearchPath {
    nest_level: c_int,
}

impl PinnedSearchPath {
    pub fn pin() -> PinnedSearchPath {
        // SAFETY: called from the backend's main thread inside a transaction (every SQL entry
        // point is). set_config_option with GUC_ACTION_SAVE records the old value at the new
        // nest level; elevel ERROR makes a rejected value an ERROR, not a silent no-op.
        unsafe {
            let nest_level = pg_sys::NewGUCNestLevel();
            pg_sys::set_config_option(
                c"search_path".as_ptr(),
                c"pg_catalog, pg_temp".as_ptr(),
                pg_sys::GucContext::PGC_USERSET,
                pg_sys::GucSource::PGC_S_SESSION,
                pg_sys::GucAction::GUC_ACTION_SAVE,
                true,
                pgrx::PgLogLevel::ERROR as c_int,
                false,
            );
            PinnedSearchPath { nest_level }
        }
    }
}

impl Drop for PinnedSearchPath {
    fn drop(&mut self) {
        // SAFETY: guards drop in reverse order of pinning and no subtransaction is opened and
        // left open inside one, so this level is the innermost one open (also while an ERROR
        // unwinds: the (sub)transaction abort that pops levels comes after). Popping it
        // restores the saved value; it raises nothing.
        unsafe { pg_sys::AtEOXact_GUC(true, self.nest_level) };
    }
}
