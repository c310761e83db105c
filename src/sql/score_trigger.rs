//! The row trigger `lead_scoring.score_lead_row()` that `attach()` and `attach_events()`
//! install. It reads the NEW tuple with the model's per-row-type binding (no name lookups, no
//! SPI per row), skips the work on an UPDATE that changed no feature column, keeps the score
//! history column, and sends a hot-lead alert (`pg_notify`) when a lead's tier rises into the
//! model's top tier. Its trigger arguments are, in order: model name, score column, tier
//! column, key column ('' for none), feature view oid ('' for none: the row itself holds the
//! features), and 'alerts' or 'no_alerts'.

use std::cell::RefCell;
use std::ffi::CStr;
use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, PgTupleDesc};
use serde_json::json;

use super::attach::{table_display, ALERT_CHANNEL};
use super::cache::{self, LoadedModel};
use super::errors::{invalid, raise_with_hint};
use super::rows_binding::{binding_for, RowBinding};
use super::score::probability;
use crate::core::values::RawValue;

/// The row trigger installed by `attach()`; see the module documentation for its arguments.
#[pg_trigger]
fn score_lead_row<'a>(
    trigger: &'a pgrx::PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, pgrx::AllocatedByPostgres>>, pgrx::PgTriggerError> {
    let td = trigger.trigger_data();
    let tuple = unsafe { fire(td) };
    let tupdesc = unsafe { PgTupleDesc::from_pg_unchecked((*td.tg_relation).rd_att) };
    Ok(Some(unsafe { PgHeapTuple::from_heap_tuple(tupdesc, tuple) }))
}

/// What the trigger keeps between rows, per trigger: its arguments parsed, the model, the row
/// type's binding and the output columns' attribute numbers. Valid while the model cache's
/// generation is unchanged: a deploy, a retrain and any relcache invalidation (an ALTER TABLE
/// that renames or drops a column included) drop the cache and so every site.
struct TriggerSite {
    tgoid: pg_sys::Oid,
    generation: u64,
    model: Rc<LoadedModel>,
    /// How the row's features are read; None when a feature view computes them (attach_events):
    /// the row itself is not scored, and need not have the feature columns.
    binding: Option<Rc<RowBinding>>,
    score_att: i32,
    tier_att: i32,
    /// issue 7: the `<score column>_history` float8[] column, if the table has one.
    history_att: Option<i32>,
    alerts: bool,
    /// NEW's raw values, reused for every row; emptied before the row goes away.
    new_raw: RefCell<Vec<RawValue<'static>>>,
}

thread_local! {
    static TRIGGER_SITES: RefCell<Vec<Rc<TriggerSite>>> = const { RefCell::new(Vec::new()) };
}

/// The site of the firing trigger, built on its first row (and again after an invalidation).
unsafe fn trigger_site(td: &pg_sys::TriggerData) -> Rc<TriggerSite> {
    let trigger = &*td.tg_trigger;
    let generation = cache::generation();
    let kept = TRIGGER_SITES.with(|c| c.borrow().iter().find(|s| s.tgoid == trigger.tgoid && s.generation == generation).cloned());
    if let Some(site) = kept {
        return site;
    }
    if trigger.tgnargs != 6 {
        invalid("lead_scoring.score_lead_row() takes 6 trigger arguments; create it with lead_scoring.attach()");
    }
    let arg = |i: usize| CStr::from_ptr(*trigger.tgargs.add(i));
    let rel = td.tg_relation;
    let tupdesc = (*rel).rd_att;
    let model_spec = arg(0).to_str().unwrap_or_else(|_| invalid("trigger argument is not valid UTF-8"));
    let model = cache::get(model_spec);
    let history = std::ffi::CString::new(format!("{}_history", arg(1).to_string_lossy())).expect("no NUL in a column name");
    let site = Rc::new(TriggerSite {
        tgoid: trigger.tgoid,
        generation,
        binding: arg(4).to_bytes().is_empty().then(|| binding_for(&model, (*(*rel).rd_rel).reltype, -1)),
        model,
        score_att: attribute(tupdesc, arg(1), pg_sys::FLOAT8OID, rel),
        tier_att: attribute(tupdesc, arg(2), pg_sys::TEXTOID, rel),
        history_att: (pg_sys::SPI_fnumber(tupdesc, history.as_ptr()) > 0).then(|| attribute(tupdesc, &history, pg_sys::FLOAT8ARRAYOID, rel)),
        alerts: arg(5).to_bytes() == b"alerts",
        new_raw: RefCell::new(Vec::new()),
    });
    TRIGGER_SITES.with(|c| {
        let mut c = c.borrow_mut();
        c.retain(|s| s.tgoid != trigger.tgoid && s.generation == generation);
        c.push(site.clone());
    });
    site
}

/// The trigger's work, on raw pointers: returns the tuple to store.
unsafe fn fire(td: &pg_sys::TriggerData) -> pg_sys::HeapTuple {
    let event = td.tg_event;
    let row_level = event & pg_sys::TRIGGER_EVENT_ROW != 0;
    let before = event & pg_sys::TRIGGER_EVENT_TIMINGMASK == pg_sys::TRIGGER_EVENT_BEFORE;
    let op = event & pg_sys::TRIGGER_EVENT_OPMASK;
    let is_update = op == pg_sys::TRIGGER_EVENT_UPDATE;
    if !row_level || !before || !(is_update || op == pg_sys::TRIGGER_EVENT_INSERT) {
        invalid("lead_scoring.score_lead_row() must run as a BEFORE INSERT OR UPDATE ... FOR EACH ROW trigger");
    }
    let site = trigger_site(td);
    let tupdesc = (*td.tg_relation).rd_att;
    let new_tuple = if is_update { td.tg_newtuple } else { td.tg_trigtuple };
    let old_tuple = if is_update { Some(td.tg_trigtuple) } else { None };

    let mut result = new_tuple;
    if let Some(binding) = &site.binding {
        let width = site.model.model.preprocessor.features.len();
        // OLD is read first so that the binding's deformed columns are NEW's when the row is formed.
        let old_raw = match old_tuple {
            Some(old) if get_attr(new_tuple, site.score_att, tupdesc).is_some() => {
                let mut raw: Vec<RawValue<'_>> = Vec::with_capacity(width);
                binding.read_tuple(old, &mut raw);
                Some(raw)
            }
            _ => None,
        };
        let mut buffer = site.new_raw.borrow_mut();
        let new_raw: &mut Vec<RawValue<'_>> = &mut buffer;
        binding.read_tuple(new_tuple, new_raw);
        if old_raw.as_ref() != Some(new_raw) {
            let p = probability(&site.model, &new_raw);
            let tier = site.model.tiers.assign(p);
            let columns = [
                (site.score_att, p.into_datum().expect("float8 datum")),
                (site.tier_att, tier.into_datum().expect("text datum")),
            ];
            result = binding.form_read_tuple_with(new_tuple, tupdesc, &columns);
        }
        new_raw.clear();
    }
    if let (Some(old), Some(history_att)) = (old_tuple, site.history_att) {
        result = keep_score_history(tupdesc, result, old, site.score_att, history_att);
    }
    if site.alerts {
        alert_if_hot(&site.model, td, result, old_tuple, site.score_att, site.tier_att);
    }
    result
}

/// issue 7: when the table has a float8[] column `<score column>_history` (attribute
/// `history_att`), a changed score pushes the previous one onto it (newest first, at most
/// SCORE_HISTORY), for score_trend().
unsafe fn keep_score_history(tupdesc: pg_sys::TupleDesc, new: pg_sys::HeapTuple, old: pg_sys::HeapTuple, score_att: i32, history_att: i32) -> pg_sys::HeapTuple {
    use crate::core::trend::{push_history, SCORE_HISTORY};
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
unsafe fn attribute(tupdesc: pg_sys::TupleDesc, name: &CStr, wanted: pg_sys::Oid, rel: pg_sys::Relation) -> i32 {
    let attno = pg_sys::SPI_fnumber(tupdesc, name.as_ptr());
    let name = name.to_string_lossy();
    if attno <= 0 {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
            format!("column \"{name}\" of {} does not exist, but its lead_scoring trigger writes it", table_display((*rel).rd_id)),
            "detach and attach the model again, which creates the column",
        );
    }
    let attr = (*tupdesc).attrs.as_slice((*tupdesc).natts as usize)[attno as usize - 1];
    if attr.atttypid != wanted {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!("column \"{name}\" of {} has type {}, but lead_scoring writes {} there", table_display((*rel).rd_id),
                super::source::type_name(attr.atttypid), super::source::type_name(wanted)),
            "detach the model, fix the column, and attach it again",
        );
    }
    attno
}

unsafe fn get_attr(tuple: pg_sys::HeapTuple, attno: i32, tupdesc: pg_sys::TupleDesc) -> Option<pg_sys::Datum> {
    pgrx::heap_getattr_raw(tuple, std::num::NonZeroUsize::new(attno as usize).expect("attno > 0"), tupdesc)
}

/// Sends `pg_notify('lead_scoring_alerts', ...)` when the stored tier is the model's top tier and
/// the old one (NULL for a new lead) was not.
unsafe fn alert_if_hot(
    model: &LoadedModel,
    td: &pg_sys::TriggerData,
    new_tuple: pg_sys::HeapTuple,
    old_tuple: Option<pg_sys::HeapTuple>,
    score_att: i32,
    tier_att: i32,
) {
    let tupdesc = (*td.tg_relation).rd_att;
    let text_at = |t: pg_sys::HeapTuple| get_attr(t, tier_att, tupdesc).and_then(|d| String::from_datum(d, false));
    let top = model.tiers.top();
    let new_tier = text_at(new_tuple);
    if new_tier.as_deref() != Some(top) {
        return;
    }
    let old_tier = old_tuple.and_then(text_at);
    if old_tier.as_deref() == Some(top) {
        return;
    }
    let score = get_attr(new_tuple, score_att, tupdesc).and_then(|d| f64::from_datum(d, false));
    let trigger = &*td.tg_trigger;
    let key_name = CStr::from_ptr(*trigger.tgargs.add(3));
    let key = if key_name.to_bytes().is_empty() {
        None
    } else {
        let attno = pg_sys::SPI_fnumber(tupdesc, key_name.as_ptr());
        let v = if attno > 0 { pg_sys::SPI_getvalue(new_tuple, tupdesc, attno) } else { std::ptr::null_mut() };
        (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
    };
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
