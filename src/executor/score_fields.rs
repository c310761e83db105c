//! `score_fields`, `tier_fields`, `score_100_fields` and `expected_value_fields`: a lead given as
//! its row type's columns, one argument each, which is what the planner turns `score(m, l)` (and
//! `expected_value(m, v, l)`) on a table row into (score_support.rs). Each call site keeps the
//! model, the column readers and a value buffer between rows, so a row costs reading its feature
//! columns and the model's arithmetic.

use std::rc::Rc;

use pgrx::prelude::*;

use crate::core::data::RawValue;
use crate::core::evaluation::Tiers;
use crate::executor::cache::{self, LoadedModel};
use crate::executor::rows_binding::{binding_for, check_field_arguments, RowBinding};
use crate::executor::scoring::{expected_value_of, percent, probability_of, require_probability_model, require_value_model};
use crate::pg::call_state::call_state;
use crate::pg::datum::{text_of, utf8_database, varlena_bytes};

/// The row's columns start at this argument: (model_name, row_type, columns...).
pub const FIRST_COLUMN: usize = 2;
/// expected_value_fields' columns start here: (model_name, value_model, row_type, columns...).
pub const VALUE_FIRST_COLUMN: usize = 3;

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
    /// Looks up the model and checks the argument types from `first` on against the row type.
    ///
    /// # Safety
    /// `fcinfo` must be a call of a `*_fields` function whose columns start at `first`.
    unsafe fn new(
        fcinfo: pg_sys::FunctionCallInfo,
        first: usize,
        model_name_datum: pg_sys::Datum,
        model_name: &[u8],
        row_type: pg_sys::Oid,
    ) -> CallSite {
        check_field_arguments(fcinfo, first, row_type);
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

    /// The model's probability (a regression model's prediction) for the lead whose columns are
    /// `args` from `first` on.
    ///
    /// # Safety
    /// `args` must be the arguments of the call this site was made for.
    unsafe fn probability(&mut self, args: &[pg_sys::NullableDatum], first: usize) -> f64 {
        // The buffer borrows this row's datums only until probability_of empties it.
        probability_of(&self.model, |i| self.binding.argument_value(args, first, i), &mut self.raw)
    }
}

/// What an `expected_value_fields` call site keeps: the probability model's and the value
/// model's sites.
struct ValueCallSite {
    probability: CallSite,
    value: CallSite,
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
        || CallSite::new(fcinfo, FIRST_COLUMN, args[0].value, model_name, row_type),
    );
    let p = site.probability(args, FIRST_COLUMN);
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

crate::pg::v1_function_info!(pg_finfo_lead_scoring_expected_value_fields);

/// `expected_value(m, v, l)` for a lead given as its row type's columns: the probability model's
/// probability x the value model's predicted amount (a negative one counted as 0), as
/// `expected_value` gives it; NULL when either model name is NULL.
///
/// # Safety
/// Postgres calls it through the V1 convention with a valid `fcinfo`; the column arguments are
/// checked against the row type once per call site before any is read.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_expected_value_fields(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    let args = (*fcinfo).args.as_slice((*fcinfo).nargs as usize);
    if args.len() < VALUE_FIRST_COLUMN || args[..VALUE_FIRST_COLUMN].iter().any(|a| a.isnull) {
        (*fcinfo).isnull = true;
        return pg_sys::Datum::from(0usize);
    }
    let (model_name, value_name) = (varlena_bytes(args[0].value), varlena_bytes(args[1].value));
    let row_type = pg_sys::Oid::from_datum(args[2].value, false).expect("non-NULL regtype");
    let site: &mut ValueCallSite = call_state(
        (*fcinfo).flinfo,
        |site: &ValueCallSite| site.probability.serves(model_name, row_type) && site.value.serves(value_name, row_type),
        || {
            // In the order expected_value() looks the models up and checks them.
            let probability = CallSite::new(fcinfo, VALUE_FIRST_COLUMN, args[0].value, model_name, row_type);
            require_probability_model(&probability.model);
            let value = CallSite::new(fcinfo, VALUE_FIRST_COLUMN, args[1].value, value_name, row_type);
            require_value_model(&value.model);
            ValueCallSite { probability, value }
        },
    );
    let p = site.probability.probability(args, VALUE_FIRST_COLUMN);
    let value = site.value.probability(args, VALUE_FIRST_COLUMN);
    expected_value_of(p, value).into_datum().expect("a datum")
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
CREATE FUNCTION expected_value_fields(model_name text, value_model text, row_type regtype, VARIADIC columns "any") RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_expected_value_fields' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION expected_value_fields(text, text, regtype, "any") IS
  'expected_value(model, value_model, l) with the row given as its columns: what the planner rewrites expected_value(model, value_model, l) to.';
CREATE FUNCTION score_support(internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'lead_scoring_score_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION score_support(internal) IS
  'Planner support of score, tier, score_100 and expected_value: passes a table row as its columns instead of forming the whole row.';
"#,
    name = "score_fields"
);
