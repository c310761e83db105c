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
use crate::core::data::RawValue;
use crate::core::evaluation::Tiers;
use crate::core::models::decode_model_as;
use crate::core::models::LeadModel;
use crate::errors::{raise_core, raise_with_hint};
use crate::executor::rows_binding::{BoundModel, RowBindings};
use pgrx::PgSqlErrorCode;

/// A model ready to score: the artifact decoded, tiers parsed, row layouts resolved lazily.
pub struct LoadedModel {
    pub row: ModelRow,
    pub model: LeadModel,
    pub tiers: Tiers,
    /// With `options.segment_tiers`: the tiers of each segment model (indexed like
    /// `model.segments.models`); None where a segment uses `tiers`.
    pub segment_tiers: Vec<Option<Tiers>>,
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
    let tiers = Tiers::from_json_scaled(&row.tiers, model.tier_scale())
        .unwrap_or_else(|e| raise_core(e.context(format!("model \"{}@{}\" has invalid tiers", row.name, row.version))));
    let segment_tiers = load_segment_tiers(&row, &model);
    let loaded = Rc::new(LoadedModel {
        segment_tiers,
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

/// The stored tiers of each segment model, when the version chose them per segment.
fn load_segment_tiers(row: &ModelRow, model: &LeadModel) -> Vec<Option<Tiers>> {
    let Some(segments) = &model.segments else { return Vec::new() };
    let stored = crate::catalog::segments::segment_tiers(row);
    if stored.is_empty() {
        return Vec::new();
    }
    segments
        .models
        .iter()
        .map(|(value, _)| {
            stored.iter().find(|(s, _)| s == value).map(|(s, json)| {
                Tiers::from_json_scaled(json, model.tier_scale()).unwrap_or_else(|e| {
                    raise_core(e.context(format!("model \"{}@{}\" has invalid tiers for segment \"{s}\"", row.name, row.version)))
                })
            })
        })
        .collect()
}

impl LoadedModel {
    /// Raises feature_not_supported when this is a regression model (`options.task =
    /// 'regression'`) and `what` (a function) needs a probability of conversion.
    pub fn require_classification(&self, what: &str) {
        if self.model.is_regression() {
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "{what} needs a classification model; \"{}@{}\" is a regression model (options.task 'regression') that predicts a value, not a probability",
                    self.row.name, self.row.version
                ),
                "a regression model's test RMSE, MAE and R² are in its metrics (lead_scoring.model_card(), lead_scoring.report())",
            );
        }
    }

    /// Raises wrong_object_type unless this is a regression model; `role` names the argument.
    pub fn require_regression(&self, role: &str) {
        if !self.model.is_regression() {
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                format!(
                    "{role} \"{}@{}\" is a classification model; it must be a regression model (options.task 'regression')",
                    self.row.name, self.row.version
                ),
                "train the value model with lead_scoring.train(..., options => '{\"task\": \"regression\"}')",
            );
        }
    }

    /// The tiers a lead is tiered by: its segment model's own (`options.segment_tiers`), else
    /// the version's. `value(i)` reads the lead's raw value of feature `i` (only the segment
    /// column is read, and only for a version with segment tiers).
    pub fn tiers_for<'a>(&self, value: impl Fn(usize) -> RawValue<'a>) -> &Tiers {
        self.tiers_at(self.segment_tiers_of(value))
    }

    /// Which segment's tiers a lead is tiered by (see [`Self::tiers_for`]); None: the version's.
    pub fn segment_tiers_of<'a>(&self, value: impl Fn(usize) -> RawValue<'a>) -> Option<usize> {
        if self.segment_tiers.is_empty() {
            return None;
        }
        let segments = self.model.segments.as_ref()?;
        self.model.segment_of(&value(segments.feature)).filter(|&i| matches!(self.segment_tiers.get(i), Some(Some(_))))
    }

    /// The tiers [`Self::segment_tiers_of`] chose.
    pub fn tiers_at(&self, segment: Option<usize>) -> &Tiers {
        match segment.and_then(|i| self.segment_tiers.get(i)) {
            Some(Some(tiers)) => tiers,
            _ => &self.tiers,
        }
    }
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
