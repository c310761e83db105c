//! Telling every backend that the models changed. A deploy, a retrain, new tiers or a rollback
//! sends a relcache invalidation for `lead_scoring.models`; each backend processes it at its
//! next transaction start (this one at once) and moves its generation, which the model cache
//! and the per-call-site states of the fast scoring paths compare against before reusing
//! what they hold. Any relcache invalidation moves it: a table's row layout may have changed,
//! and a stale attribute number would read the wrong column.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use pgrx::prelude::*;

use crate::pg::catalog_settings::CatalogSettings;

thread_local! {
    static MODELS_RELID: Cell<pg_sys::Oid> = const { Cell::new(pg_sys::InvalidOid) };
}

/// Counts the invalidations this backend has seen. A plain static, not a thread-local: reading
/// it costs nothing per row, and a backend runs one thread of Postgres code.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current generation: whatever was loaded from the catalog or bound to a row type at an
/// older one must be loaded again.
#[inline]
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

fn advance() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

fn models_relid() -> pg_sys::Oid {
    if MODELS_RELID.get() == pg_sys::InvalidOid {
        let _settings = CatalogSettings::pin();
        let oid = Spi::get_one::<pg_sys::Oid>("SELECT 'lead_scoring.models'::regclass::oid").ok().flatten();
        MODELS_RELID.set(oid.unwrap_or(pg_sys::InvalidOid));
    }
    MODELS_RELID.get()
}

/// Tells every backend (this one included) that models changed.
pub fn models_changed() {
    let relid = models_relid();
    if relid != pg_sys::InvalidOid {
        // SAFETY: a plain call into the server with a valid relation oid, from the backend's
        // main thread inside a transaction (every caller is an SQL function).
        unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relid) };
    }
    advance();
}

/// # Safety
/// Postgres calls it with any relation id while processing invalidations; it only moves an
/// atomic counter.
#[pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, _relid: pg_sys::Oid) {
    // A full reset (InvalidOid), the models table, or any table whose row layout a binding may
    // have cached: starting over is cheap next to a wrong attribute number.
    advance();
}

/// Registers the invalidation callback; called once from `_PG_init`.
pub fn register_invalidation_callback() {
    // SAFETY: called once per backend from _PG_init, with a function that lives as long as the
    // library and touches nothing but an atomic counter.
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache_invalidation), pg_sys::Datum::from(0usize));
    }
}

/// Statement trigger on `lead_scoring.models`: a hand-made INSERT, UPDATE, DELETE or TRUNCATE
/// (a superuser editing an artifact, tiers or the deployed flag, or deleting a version) tells
/// every session at once, like the extension's own functions do. Without it other sessions
/// would keep scoring with the model they cached before the edit.
#[pg_trigger]
fn models_changed_trigger<'a>(
    _trigger: &'a pgrx::PgTrigger<'a>,
) -> Result<Option<pgrx::heap_tuple::PgHeapTuple<'a, pgrx::AllocatedByRust>>, pgrx::heap_tuple::PgHeapTupleError> {
    models_changed();
    Ok(None)
}

pgrx::extension_sql!(
    r#"
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON models
  FOR EACH STATEMENT EXECUTE FUNCTION models_changed_trigger();
"#,
    name = "models_changed_trigger",
    requires = [models_changed_trigger]
);
