//! Per-backend cache of deserialized models, so scoring a million rows deserializes a model
//! once. Entries are dropped when any session deploys, retrains or changes a model: those
//! send a relcache invalidation for `lead_scoring.models`, which every backend processes at
//! its next transaction start (and this one at its next command).

use std::cell::{Cell, RefCell};
use rustc_hash::FxHashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use pgrx::prelude::*;

use super::errors::{bad_data, invalid};
use super::registry::{load_model_row, parse_model_spec, ModelRow};
use super::rows_binding::RowBinding;
use crate::core::models::artifact::decode_model;
use crate::core::models::model::LeadModel;
use crate::core::evaluation::tiers::Tiers;

/// A model ready to score: the artifact decoded, tiers parsed, row layouts resolved lazily.
pub struct LoadedModel {
    pub row: ModelRow,
    pub model: LeadModel,
    pub tiers: Tiers,
    /// Resolved attribute numbers per row type seen (usually one).
    pub bindings: RefCell<Vec<Rc<RowBinding>>>,
    /// Reused buffer for the transformed inputs.
    pub scratch: RefCell<Vec<f64>>,
    /// The fast scoring path of a logistic model (issue 8); None for trees.
    pub plan: Option<crate::core::serving::scoring_plan::ScoringPlan>,
}

thread_local! {
    static MODELS: RefCell<FxHashMap<String, Rc<LoadedModel>>> = RefCell::new(FxHashMap::default());
    static MODELS_RELID: Cell<pg_sys::Oid> = const { Cell::new(pg_sys::InvalidOid) };
}

/// Returns the cached model for `spec` ('name' or 'name@3'), loading it on first use.
pub fn get(spec: &str) -> Rc<LoadedModel> {
    if let Some(m) = MODELS.with(|c| c.borrow().get(spec).cloned()) {
        return m;
    }
    let row = load_model_row(&parse_model_spec(spec));
    let model = decode_model(&row.artifact)
        .unwrap_or_else(|e| bad_data(format!("model \"{}@{}\": {e}", row.name, row.version)));
    let tiers = Tiers::from_json(&row.tiers)
        .unwrap_or_else(|e| invalid(format!("model \"{}@{}\" has invalid tiers: {e}", row.name, row.version)));
    remember_models_relid();
    let loaded = Rc::new(LoadedModel {
        row,
        plan: crate::core::serving::scoring_plan::ScoringPlan::new(&model),
        model,
        tiers,
        bindings: RefCell::new(Vec::new()),
        scratch: RefCell::new(Vec::new()),
    });
    MODELS.with(|c| c.borrow_mut().insert(spec.to_string(), loaded.clone()));
    loaded
}

fn remember_models_relid() {
    if MODELS_RELID.get() == pg_sys::InvalidOid {
        let oid = Spi::get_one::<pg_sys::Oid>("SELECT 'lead_scoring.models'::regclass::oid").ok().flatten();
        MODELS_RELID.set(oid.unwrap_or(pg_sys::InvalidOid));
    }
}

/// Counts the times this backend's cache was dropped: a caller that keeps a model between rows
/// (score_fields.rs) checks it instead of looking the model up by name for every row. A plain
/// static, not a thread-local: reading it costs nothing, and a backend runs one thread of
/// Postgres code.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The cache's current generation (see [`GENERATION`]).
#[inline]
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// Drops every cached model and row binding in this backend.
pub fn clear() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
    MODELS.with(|c| c.borrow_mut().clear());
}

/// Tells every backend (this one included) to drop its cached models.
pub fn invalidate_all_sessions() {
    remember_models_relid();
    let relid = MODELS_RELID.get();
    if relid != pg_sys::InvalidOid {
        unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relid) };
    }
    clear();
}

#[pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    // A full reset (InvalidOid), our catalog table, or any table whose row layout a binding
    // may have cached: dropping everything is cheap next to a wrong attribute number.
    let _ = relid;
    clear();
}

/// Registers the invalidation callback; called once from `_PG_init`.
pub fn register_invalidation_callback() {
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache_invalidation), pg_sys::Datum::from(0usize));
    }
}
