//! The row trigger `lead_scoring.score_lead_row()` that `attach()` and `attach_events()`
//! install. It reads the NEW tuple with the model's per-row-type binding (no name lookups, no
//! SPI per row), skips the work on an UPDATE that changed no feature column, keeps the score
//! history column, and sends a hot-lead alert (`pg_notify`) when a lead's tier rises into the
//! model's top tier. Its trigger arguments are, in order: model name, score column, tier
//! column, key column ('' for none), feature view oid ('' for none: the row itself holds the
//! features), and 'alerts' or 'no_alerts'.

use std::ffi::CStr;
use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde_json::json;

use crate::core::data::RawValue;
use crate::errors::{invalid, raise_with_hint};
use crate::executor::attachment::{history_column, table_display, ALERT_CHANNEL};
use crate::executor::cache::{self, LoadedModel};
use crate::executor::rows_binding::{binding_for, RowBinding};
use crate::executor::scoring::{probability, probability_of};
use crate::pg::call_state::call_state;
use crate::pg::tuple_append::{with_columns, ColumnValue};

crate::pg::v1_function_info!(pg_finfo_lead_scoring_score_lead_row);

/// The row trigger installed by `attach()`; see the module documentation for its arguments.
/// A C function rather than a `#[pg_trigger]`, to keep its state in `fn_extra`.
///
/// # Safety
/// Called by Postgres' function manager.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_score_lead_row(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    let context = (*fcinfo).context;
    if context.is_null() || (*context).type_ != pg_sys::NodeTag::T_TriggerData {
        invalid("lead_scoring.score_lead_row() can only be called as a trigger; create it with lead_scoring.attach()");
    }
    pg_sys::Datum::from(fire((*fcinfo).flinfo, &*(context as *const pg_sys::TriggerData)))
}

pgrx::extension_sql!(
    r#"
CREATE FUNCTION score_lead_row() RETURNS trigger
  AS 'MODULE_PATHNAME', 'lead_scoring_score_lead_row' LANGUAGE C;
COMMENT ON FUNCTION score_lead_row() IS
  'The rescoring trigger that lead_scoring.attach() installs: fills the score and tier columns of each inserted or updated row.';
"#,
    name = "score_lead_row"
);

/// What the trigger keeps between the rows of a statement, in `fn_extra` (call_state.rs): its
/// arguments parsed, the model, the row type's binding and the output columns' attribute
/// numbers. Valid while the model cache's generation is unchanged: a deploy, a retrain and any
/// relcache invalidation (an ALTER TABLE that renames or drops a column included) drop the
/// cache and so every site.
struct TriggerSite {
    tgoid: pg_sys::Oid,
    generation: u64,
    model: Rc<LoadedModel>,
    /// How the row's features are read; None when a feature view computes them (attach_events):
    /// the row itself is not scored, and need not have the feature columns.
    binding: Option<Rc<RowBinding>>,
    score_att: i32,
    tier_att: i32,
    /// The `<score column>_history` float8[] column, if the table has one.
    history_att: Option<i32>,
    alerts: bool,
    /// NEW's raw values when they are needed as a list, reused for every row; emptied before
    /// the row goes away.
    new_raw: Vec<RawValue<'static>>,
}

impl TriggerSite {
    /// Parses the trigger's arguments and looks up the model and the columns.
    ///
    /// # Safety
    /// `td` must be the firing trigger's data.
    unsafe fn new(td: &pg_sys::TriggerData) -> TriggerSite {
        let trigger = &*td.tg_trigger;
        if trigger.tgnargs != 6 {
            invalid("lead_scoring.score_lead_row() takes 6 trigger arguments; create it with lead_scoring.attach()");
        }
        let arg = |i: usize| CStr::from_ptr(*trigger.tgargs.add(i));
        let rel = td.tg_relation;
        let tupdesc = (*rel).rd_att;
        let generation = crate::catalog::invalidation::generation();
        let model_spec = arg(0).to_str().unwrap_or_else(|_| invalid("trigger argument is not valid UTF-8"));
        let model = cache::get(model_spec);
        let history = std::ffi::CString::new(history_column(&arg(1).to_string_lossy())).expect("no NUL in a column name");
        if arg(4).to_bytes().is_empty() {
            refuse_generated_features(tupdesc, &model, rel);
        }
        TriggerSite {
            tgoid: trigger.tgoid,
            generation,
            binding: arg(4).to_bytes().is_empty().then(|| binding_for(&*model, (*(*rel).rd_rel).reltype, -1)),
            model,
            score_att: attribute(tupdesc, arg(1), pg_sys::FLOAT8OID, rel),
            tier_att: attribute(tupdesc, arg(2), pg_sys::TEXTOID, rel),
            history_att: (pg_sys::SPI_fnumber(tupdesc, history.as_ptr()) > 0)
                .then(|| attribute(tupdesc, &history, pg_sys::FLOAT8ARRAYOID, rel)),
            alerts: arg(5).to_bytes() == b"alerts",
            new_raw: Vec::new(),
        }
    }

    /// The probability of the row `new` (NEW) and which segment's tiers tier it
    /// (`LoadedModel::segment_tiers_of`), or `None` for an UPDATE whose old row had a score and
    /// whose feature values did not change.
    ///
    /// # Safety
    /// `new` and `old` must be the firing trigger's rows.
    unsafe fn rescore(
        &mut self,
        binding: &RowBinding,
        new: pg_sys::HeapTuple,
        old: Option<pg_sys::HeapTuple>,
        tupdesc: pg_sys::TupleDesc,
    ) -> Option<(f64, Option<usize>)> {
        match old {
            Some(old) if get_attr(new, self.score_att, tupdesc).is_some() => {
                let mut old_raw: Vec<RawValue<'_>> = Vec::with_capacity(self.model.model.preprocessor.features.len());
                binding.read_tuple(old, &mut old_raw);
                binding.read_tuple(new, &mut self.new_raw);
                let p = (old_raw != self.new_raw).then(|| probability(&self.model, &self.new_raw));
                let segment = self.model.segment_tiers_of(|i| self.new_raw[i]);
                self.new_raw.clear();
                p.map(|p| (p, segment))
            }
            // An INSERT, or an UPDATE of a row not scored yet: the values are read as the model needs them.
            _ => {
                let row = binding.deform(new);
                let p = probability_of(&self.model, |i| row.value(i), &mut self.new_raw);
                Some((p, self.model.segment_tiers_of(|i| row.value(i))))
            }
        }
    }
}

/// `attach()` refuses a feature that is a stored generated column; this catches one made so
/// later (dropped and added again as generated): PostgreSQL computes such a column after BEFORE
/// ROW triggers, so the trigger would score with NULL (or the old value) there.
///
/// # Safety
/// `tupdesc` must be the descriptor of `rel`, the firing trigger's relation.
unsafe fn refuse_generated_features(tupdesc: pg_sys::TupleDesc, model: &LoadedModel, rel: pg_sys::Relation) {
    let attrs = (*tupdesc).attrs.as_slice((*tupdesc).natts as usize);
    for feature in model.model.feature_names() {
        if attrs.iter().any(|a| !a.attisdropped && a.attgenerated != 0 && a.name() == feature) {
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "column \"{feature}\" of {} is a generated column, which a BEFORE trigger sees before it is computed",
                    table_display((*rel).rd_id)
                ),
                "detach the model, and score the table with lead_scoring.score() in a view or store the value in an ordinary column",
            );
        }
    }
}

/// The trigger's work, on raw pointers: returns the tuple to store.
///
/// # Safety
/// `flinfo` and `td` must be the firing trigger's (a BEFORE ROW trigger, checked by the caller).
unsafe fn fire(flinfo: *mut pg_sys::FmgrInfo, td: &pg_sys::TriggerData) -> pg_sys::HeapTuple {
    let event = td.tg_event;
    let row_level = event & pg_sys::TRIGGER_EVENT_ROW != 0;
    let before = event & pg_sys::TRIGGER_EVENT_TIMINGMASK == pg_sys::TRIGGER_EVENT_BEFORE;
    let op = event & pg_sys::TRIGGER_EVENT_OPMASK;
    let is_update = op == pg_sys::TRIGGER_EVENT_UPDATE;
    if !row_level || !before || !(is_update || op == pg_sys::TRIGGER_EVENT_INSERT) {
        invalid("lead_scoring.score_lead_row() must run as a BEFORE INSERT OR UPDATE ... FOR EACH ROW trigger");
    }
    let tgoid = (*td.tg_trigger).tgoid;
    let site: &mut TriggerSite = call_state(
        flinfo,
        |site: &TriggerSite| site.tgoid == tgoid && site.generation == crate::catalog::invalidation::generation(),
        || TriggerSite::new(td),
    );
    let tupdesc = (*td.tg_relation).rd_att;
    let new_tuple = if is_update { td.tg_newtuple } else { td.tg_trigtuple };
    let old_tuple = if is_update { Some(td.tg_trigtuple) } else { None };

    let mut result = new_tuple;
    // The tier this call stored, if it scored the row.
    let mut stored_tier = None;
    if let Some(binding) = site.binding.clone() {
        if let Some((p, segment)) = site.rescore(&binding, new_tuple, old_tuple, tupdesc) {
            let tier = site.model.tiers_at(segment).assign(p);
            result = with_columns(
                new_tuple,
                tupdesc,
                &[(site.score_att, ColumnValue::Float8(p)), (site.tier_att, ColumnValue::Text(tier))],
            );
            stored_tier = Some(tier);
        }
    }
    if let (Some(old), Some(history_att)) = (old_tuple, site.history_att) {
        result = keep_score_history(tupdesc, result, old, site.score_att, history_att);
    }
    if site.alerts {
        alert_if_hot(site, td, result, old_tuple, stored_tier);
    }
    result
}

/// When the table has a float8[] column `<score column>_history` (attribute
/// `history_att`), a changed score pushes the previous one onto it (newest first, at most
/// SCORE_HISTORY), for score_trend().
///
/// # Safety
/// `new` and `old` must be the firing trigger's rows of the relation `tupdesc` describes, and
/// `score_att`, `history_att` attributes of it (float8 and float8[], checked by `attribute`).
unsafe fn keep_score_history(
    tupdesc: pg_sys::TupleDesc,
    new: pg_sys::HeapTuple,
    old: pg_sys::HeapTuple,
    score_att: i32,
    history_att: i32,
) -> pg_sys::HeapTuple {
    use crate::core::monitoring::{push_history, SCORE_HISTORY};
    let score_of = |t: pg_sys::HeapTuple| get_attr(t, score_att, tupdesc).and_then(|d| f64::from_datum(d, false));
    let (Some(previous), current) = (score_of(old), score_of(new)) else { return new };
    if current == Some(previous) {
        return new;
    }
    let history: Vec<f64> = get_attr(new, history_att, tupdesc)
        .and_then(|d| Vec::<Option<f64>>::from_datum(d, false))
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let mut cols = [history_att];
    let mut values = [push_history(previous, &history, SCORE_HISTORY).into_datum().expect("float8[] datum")];
    let mut nulls = [false];
    pg_sys::heap_modify_tuple_by_cols(new, tupdesc, 1, cols.as_mut_ptr(), values.as_mut_ptr(), nulls.as_mut_ptr())
}

/// The attribute number of a trigger-argument column, checked to have the type the trigger writes.
///
/// # Safety
/// `tupdesc` must describe the open relation `rel`.
unsafe fn attribute(tupdesc: pg_sys::TupleDesc, name: &CStr, wanted: pg_sys::Oid, rel: pg_sys::Relation) -> i32 {
    let attno = pg_sys::SPI_fnumber(tupdesc, name.as_ptr());
    let name = name.to_string_lossy();
    if attno <= 0 {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
            format!(
                "column \"{name}\" of {} does not exist, but its lead_scoring trigger writes it",
                table_display((*rel).rd_id)
            ),
            "detach and attach the model again, which creates the column",
        );
    }
    let attr = (*tupdesc).attrs.as_slice((*tupdesc).natts as usize)[attno as usize - 1];
    if attr.atttypid != wanted {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!(
                "column \"{name}\" of {} has type {}, but lead_scoring writes {} there",
                table_display((*rel).rd_id),
                crate::executor::source::type_name(attr.atttypid),
                crate::executor::source::type_name(wanted)
            ),
            "detach the model, fix the column, and attach it again",
        );
    }
    attno
}

/// One attribute of a row, or None when NULL.
///
/// # Safety
/// `tuple` must be a valid heap tuple described by `tupdesc`, and `attno` one of its attributes.
unsafe fn get_attr(tuple: pg_sys::HeapTuple, attno: i32, tupdesc: pg_sys::TupleDesc) -> Option<pg_sys::Datum> {
    pgrx::heap_getattr_raw(tuple, std::num::NonZeroUsize::new(attno as usize).expect("attno > 0"), tupdesc)
}

/// Sends `pg_notify('lead_scoring_alerts', ...)` when the stored tier is the model's top tier and
/// the old one (NULL for a new lead) was not. `stored_tier` is the tier this call stored, if it
/// scored the row; else the row's own is read.
///
/// # Safety
/// `td` must be the firing trigger's data and the tuples its rows.
unsafe fn alert_if_hot(
    site: &TriggerSite,
    td: &pg_sys::TriggerData,
    new_tuple: pg_sys::HeapTuple,
    old_tuple: Option<pg_sys::HeapTuple>,
    stored_tier: Option<&str>,
) {
    let tupdesc = (*td.tg_relation).rd_att;
    let text_at = |t: pg_sys::HeapTuple| get_attr(t, site.tier_att, tupdesc).and_then(|d| String::from_datum(d, false));
    let top = site.model.tiers.top();
    let new_tier = match stored_tier {
        Some(tier) if tier == top => tier.to_string(),
        Some(_) => return,
        None => match text_at(new_tuple) {
            Some(tier) if tier == top => tier,
            _ => return,
        },
    };
    let old_tier = old_tuple.and_then(text_at);
    if old_tier.as_deref() == Some(top) {
        return;
    }
    let score = get_attr(new_tuple, site.score_att, tupdesc).and_then(|d| f64::from_datum(d, false));
    let trigger = &*td.tg_trigger;
    let key_name = CStr::from_ptr(*trigger.tgargs.add(3));
    let key = if key_name.to_bytes().is_empty() {
        None
    } else {
        let attno = pg_sys::SPI_fnumber(tupdesc, key_name.as_ptr());
        let v = if attno > 0 { pg_sys::SPI_getvalue(new_tuple, tupdesc, attno) } else { std::ptr::null_mut() };
        (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
    };
    let model = &site.model;
    let payload = json!({
        "table": table_display((*td.tg_relation).rd_id),
        "key": key,
        "model": model.row.name,
        "version": model.row.version,
        "old_tier": old_tier,
        "new_tier": new_tier,
        "score": score,
    })
    .to_string();
    pgrx::direct_function_call::<()>(pg_sys::pg_notify, &[ALERT_CHANNEL.into_datum(), payload.into_datum()]);
}
