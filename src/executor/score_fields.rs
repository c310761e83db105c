//! `score_fields`, `tier_fields` and `score_100_fields`: a lead given as its row type's columns,
//! one argument each, which is what the planner turns `score(m, l)` on a table row into
//! (score_support.rs). Each call site keeps the model, the column readers and a value buffer
//! between rows, so a row costs reading its feature columns and the model's arithmetic.

use std::rc::Rc;

use pgrx::prelude::*;

use crate::core::data::RawValue;
use crate::core::evaluation::Tiers;
use crate::executor::cache::{self, LoadedModel};
use crate::executor::rows_binding::{binding_for, check_field_arguments, RowBinding};
use crate::executor::scoring::{percent, probability_of};
use crate::pg::call_state::call_state;
use crate::pg::datum::{text_of, utf8_database, varlena_bytes};

/// The row's columns start at this argument: (model_name, row_type, columns...).
pub const FIRST_COLUMN: usize = 2;

/// What one call site keeps between rows, in `fn_extra` (call_state.rs).
struct CallSite {
    model_name: Vec<u8>,
    row_type: pg_sys::Oid,
    /// The model cache's generation when `model` was looked up: a deploy or retrain anywhere
    /// drops the cache, and the next row looks the model up again.
    generation: u64,
    model: Rc<LoadedModel>,
    binding: Rc<RowBinding>,
    /// Reused for every row; emptied before the row's datums go away.
    raw: Vec<RawValue<'static>>,
}

impl CallSite {
    /// Looks up the model and checks the argument types against the row type.
    ///
    /// # Safety
    /// `fcinfo` must be a call of a `*_fields` function.
    unsafe fn new(
        fcinfo: pg_sys::FunctionCallInfo,
        model_name_datum: pg_sys::Datum,
        model_name: &[u8],
        row_type: pg_sys::Oid,
    ) -> CallSite {
        check_field_arguments(fcinfo, FIRST_COLUMN, row_type);
        let generation = crate::catalog::invalidation::generation();
        let model = cache::get(text_of(model_name_datum, utf8_database()));
        let binding = binding_for(&*model, row_type, -1);
        CallSite { model_name: model_name.to_vec(), row_type, generation, model, binding, raw: Vec::new() }
    }

    fn serves(&self, model_name: &[u8], row_type: pg_sys::Oid) -> bool {
        self.row_type == row_type
            && self.generation == crate::catalog::invalidation::generation()
            && self.model_name == model_name
    }
}

/// Probability for a lead given as its row type's columns, with the call site's model, or
/// `None` when the model name is NULL.
///
/// # Safety
/// `fcinfo` must be a call of a `*_fields` function.
unsafe fn fields_probability<'a>(fcinfo: pg_sys::FunctionCallInfo) -> Option<(&'a LoadedModel, f64, &'a Tiers)> {
    let args = (*fcinfo).args.as_slice((*fcinfo).nargs as usize);
    if args.len() < FIRST_COLUMN || args[0].isnull || args[1].isnull {
        return None;
    }
    let model_name = varlena_bytes(args[0].value);
    let row_type = pg_sys::Oid::from_datum(args[1].value, false).expect("non-NULL regtype");
    let site: &mut CallSite = call_state(
        (*fcinfo).flinfo,
        |site: &CallSite| site.serves(model_name, row_type),
        || CallSite::new(fcinfo, args[0].value, model_name, row_type),
    );
    // The buffer borrows this row's datums only until probability_of empties it.
    let p = probability_of(&site.model, |i| site.binding.argument_value(args, FIRST_COLUMN, i), &mut site.raw);
    let model: &'a LoadedModel = &*Rc::as_ptr(&site.model);
    // The segment's tiers with options.segment_tiers (reads the segment column once more).
    let tiers = model.tiers_for(|i| site.binding.argument_value(args, FIRST_COLUMN, i));
    Some((model, p, tiers))
}

/// Declares a `*_fields` function's V1 info record and body: `$result` turns (model,
/// probability) into the result datum; a NULL model name gives NULL.
macro_rules! fields_function {
    ($finfo:ident, $name:ident, $result:expr) => {
        crate::pg::v1_function_info!($finfo);

        /// # Safety
        /// Postgres calls it through the V1 convention with a valid `fcinfo`; the column
        /// arguments are checked against the row type once per call site (`check_field_arguments`)
        /// before any is read.
        #[no_mangle]
        #[pg_guard]
        pub unsafe extern "C-unwind" fn $name(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
            match fields_probability(fcinfo) {
                Some((model, p, tiers)) => {
                    let result: fn(&LoadedModel, f64, &Tiers) -> Option<pg_sys::Datum> = $result;
                    result(model, p, tiers).expect("a datum")
                }
                None => {
                    (*fcinfo).isnull = true;
                    pg_sys::Datum::from(0usize)
                }
            }
        }
    };
}

fields_function!(pg_finfo_lead_scoring_score_fields, lead_scoring_score_fields, |_, p, _| p.into_datum());
fields_function!(pg_finfo_lead_scoring_tier_fields, lead_scoring_tier_fields, |_, p, tiers| tiers.assign(p).into_datum());
fields_function!(pg_finfo_lead_scoring_score_100_fields, lead_scoring_score_100_fields, |model, p, _| {
    model.require_classification("score_100()");
    percent(p).into_datum()
});

pgrx::extension_sql!(
    r#"
CREATE FUNCTION score_fields(model_name text, row_type regtype, VARIADIC columns "any") RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_score_fields' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION tier_fields(model_name text, row_type regtype, VARIADIC columns "any") RETURNS text
  AS 'MODULE_PATHNAME', 'lead_scoring_tier_fields' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION score_100_fields(model_name text, row_type regtype, VARIADIC columns "any") RETURNS int4
  AS 'MODULE_PATHNAME', 'lead_scoring_score_100_fields' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION score_fields(text, regtype, "any") IS
  'score(model, l) with the row given as its columns, one argument per attribute of row_type: what the planner rewrites score(model, l) to.';
COMMENT ON FUNCTION tier_fields(text, regtype, "any") IS
  'tier(model, l) with the row given as its columns: what the planner rewrites tier(model, l) to.';
COMMENT ON FUNCTION score_100_fields(text, regtype, "any") IS
  'score_100(model, l) with the row given as its columns: what the planner rewrites score_100(model, l) to.';
CREATE FUNCTION score_support(internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'lead_scoring_score_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION score_support(internal) IS
  'Planner support of score, tier and score_100: passes a table row as its columns instead of forming the whole row.';
"#,
    name = "score_fields"
);
