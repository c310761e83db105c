//! Per-backend cache of deserialized models, so scoring a million rows deserializes a model
//! once. Entries are dropped when the catalog's generation moves (catalog/invalidation.rs): any
//! session that deploys, retrains or changes a model sends a relcache invalidation for
//! `lead_scoring.models`, which every backend processes at its next transaction start (and this
//! one at once).

use rustc_hash::FxHashMap;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::catalog::invalidation::generation;
use crate::catalog::models::{load_model_row, parse_model_spec, ModelRow};
use crate::core::evaluation::Tiers;
use crate::core::models::decode_model_as;
use crate::core::models::LeadModel;
use crate::errors::raise_core;
use crate::executor::rows_binding::{BoundModel, RowBindings};

/// A model ready to score: the artifact decoded, tiers parsed, row layouts resolved lazily.
pub struct LoadedModel {
    pub row: ModelRow,
    pub model: LeadModel,
    pub tiers: Tiers,
    /// Resolved attribute numbers per row type seen (usually one).
    pub bindings: RowBindings,
    /// Reused buffer for the transformed inputs.
    pub scratch: RefCell<Vec<f64>>,
    /// The fast scoring path of a logistic model; None for trees.
    pub plan: Option<crate::core::serving::ScoringPlan>,
}

thread_local! {
    static MODELS: RefCell<FxHashMap<String, Rc<LoadedModel>>> = RefCell::new(FxHashMap::default());
    /// The catalog generation the cached models were loaded at.
    static LOADED_AT: Cell<u64> = const { Cell::new(0) };
}

/// Returns the cached model for `spec` ('name' or 'name@3'), loading it on first use.
pub fn get(spec: &str) -> Rc<LoadedModel> {
    let now = generation();
    if LOADED_AT.get() != now {
        MODELS.with(|c| c.borrow_mut().clear());
        LOADED_AT.set(now);
    }
    if let Some(m) = MODELS.with(|c| c.borrow().get(spec).cloned()) {
        return m;
    }
    let row = load_model_row(&parse_model_spec(spec));
    // Bound to the row's name and version: an artifact copied from another row is refused.
    let model = decode_model_as(&row.artifact, &row.name, row.version)
        .unwrap_or_else(|e| raise_core(e.context(format!("model \"{}@{}\"", row.name, row.version))));
    let tiers = Tiers::from_json(&row.tiers)
        .unwrap_or_else(|e| raise_core(e.context(format!("model \"{}@{}\" has invalid tiers", row.name, row.version))));
    let loaded = Rc::new(LoadedModel {
        row,
        plan: crate::core::serving::ScoringPlan::new(&model),
        model,
        tiers,
        bindings: RowBindings::default(),
        scratch: RefCell::new(Vec::new()),
    });
    MODELS.with(|c| c.borrow_mut().insert(spec.to_string(), loaded.clone()));
    loaded
}

impl BoundModel for LoadedModel {
    fn lead_model(&self) -> &LeadModel {
        &self.model
    }

    fn name_and_version(&self) -> (&str, i32) {
        (&self.row.name, self.row.version)
    }

    fn row_bindings(&self) -> &RowBindings {
        &self.bindings
    }
}
