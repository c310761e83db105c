//! The aggregate engine of train() (options.engine, `core::aggregate_fit`): every Newton
//! iteration is one query `SELECT logistic_irls_pass(...) FROM source WHERE part = 'train'`.
//! The aggregate's state is a float8[] summed in place, with a combine function, so Postgres
//! runs it in parallel workers (and Citus on its workers); all Postgres calls stay on the
//! backend's main thread and the executor checks for cancellation while scanning.

use std::cell::RefCell;

use pgrx::array::RawArray;
use pgrx::prelude::*;
use pgrx::IntoDatum;

use crate::core::data::SourceColumn;
use crate::core::data::{preprocessor_from_statistics, CappedLevels, Column, PreprocessOptions, Preprocessor};
use crate::core::models::{accumulate_row, combine, new_state, LogisticPasses};
use crate::core::serving::{float, input_sql};
use crate::core::training::OutcomeDefinition;
use crate::core::CoreResult;
use crate::errors::{bad_data, core_ok, invalid, quote_ident, raise_core};
use crate::executor::full_data::LabeledRows;
use crate::executor::source::Source;

/// The passes of one training run over a source whose split is stored in `part_column`.
pub struct SqlPasses<'a> {
    pub source: &'a Source,
    pub label: &'a SourceColumn,
    pub positive_label: Option<&'a str>,
    pub outcomes: Option<&'a OutcomeDefinition>,
    pub part_column: &'a str,
    query: Option<String>,
    /// Passes run so far and their wall time (reported in the model's training summary).
    pub passes: usize,
    pub seconds: f64,
    /// The most partial states one pass merged: 1 when no parallel worker contributed.
    pub partial_states: usize,
    /// When the core holds a sample of the rows: all the labeled rows, and the training part's
    /// rows and converted rows (the preprocessing is then fitted from aggregates over them).
    pub full_data: Option<(&'a LabeledRows<'a>, (usize, usize))>,
}

thread_local! {
    /// Calls of the combine function in this backend (the leader merges the workers' partial
    /// states with it; a strict combine function is not called for the first state).
    static COMBINE_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl<'a> SqlPasses<'a> {
    pub fn new(
        source: &'a Source,
        label: &'a SourceColumn,
        positive_label: Option<&'a str>,
        outcomes: Option<&'a OutcomeDefinition>,
        part_column: &'a str,
    ) -> Self {
        SqlPasses {
            source,
            label,
            positive_label,
            outcomes,
            part_column,
            query: None,
            passes: 0,
            seconds: 0.0,
            partial_states: 0,
            full_data: None,
        }
    }
}

/// The query of one pass: its only parameter, $1, is theta (float8[], intercept first).
pub fn pass_query(
    source: &Source,
    label: &SourceColumn,
    positive: Option<&str>,
    outcomes: Option<&OutcomeDefinition>,
    part_column: &str,
    preprocessor: &Preprocessor,
    (w_neg, w_pos): (f64, f64),
) -> CoreResult<String> {
    let (indexes, values) = input_sql(preprocessor)?;
    let y = crate::executor::outcome_filter::converted_sql(label, positive, outcomes);
    Ok(format!(
        "SELECT lead_scoring.logistic_irls_pass({indexes}, {values}, {y}, CASE WHEN {y} THEN {} ELSE {} END, $1::float8[])
           FROM {} WHERE {} IS NOT NULL AND lower(btrim(({})::text, E' \\t\\r\\n')) = 'train'",
        float(w_pos),
        float(w_neg),
        source.from_sql,
        quote_ident(&label.name),
        quote_ident(part_column)
    ))
}

impl LogisticPasses for SqlPasses<'_> {
    fn full_preprocessor(
        &mut self,
        columns: &[Column],
        opts: &PreprocessOptions,
    ) -> CoreResult<Option<(Preprocessor, Vec<CappedLevels>)>> {
        let Some((rows, _)) = self.full_data else { return Ok(None) };
        let statistics = rows.training_statistics(columns, opts);
        preprocessor_from_statistics(columns, &statistics, opts).map(Some)
    }

    fn training_counts(&self) -> Option<(usize, usize)> {
        self.full_data.map(|(_, counts)| counts)
    }

    fn prepare(&mut self, preprocessor: &Preprocessor, class_weights: (f64, f64)) -> CoreResult<()> {
        self.query = Some(pass_query(
            self.source,
            self.label,
            self.positive_label,
            self.outcomes,
            self.part_column,
            preprocessor,
            class_weights,
        )?);
        Ok(())
    }

    fn pass(&mut self, theta: &[f64]) -> CoreResult<Vec<f64>> {
        pgrx::check_for_interrupts!();
        let query = self.query.as_deref().expect("prepare() runs before the passes");
        self.passes += 1;
        let started = std::time::Instant::now();
        COMBINE_CALLS.set(0);
        // No row limit: PostgreSQL runs a query with a tuple count without parallel workers
        // (Spi::get_one_with_args passes a limit of 1; "Workers Launched: 0"). One row anyway.
        let state = crate::pg::read_only::read_only(|| {
            Spi::connect(|client| client.select(query, None, &[theta.to_vec().into()])?.first().get_one::<Vec<f64>>())
        })
        .unwrap_or_else(|e| invalid(format!("aggregate engine pass over {} failed: {e}", self.source.display)));
        self.seconds += started.elapsed().as_secs_f64();
        self.partial_states = self.partial_states.max(COMBINE_CALLS.get() + 1);
        Ok(state.unwrap_or_else(|| new_state(theta.len())))
    }
}

thread_local! {
    /// The nonzero inputs of the current row, reused across rows.
    static NONZERO: RefCell<Vec<(usize, f64)>> = const { RefCell::new(Vec::new()) };
}

/// A one-dimensional array argument without NULL elements, as a slice.
///
/// # Safety
/// `datum` must be a non-NULL array whose elements have `T`'s layout.
unsafe fn array_arg<'a, T>(datum: pg_sys::Datum, what: &str) -> &'a mut [T] {
    let ptr = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) as *mut pg_sys::ArrayType;
    let mut raw = RawArray::from_ptr(std::ptr::NonNull::new(ptr).expect("detoasted array"));
    if raw.dims().len() > 1 || raw.any_nulls() {
        bad_data(format!("{what} must be a one-dimensional array without NULLs"));
    }
    &mut *raw.data::<T>().as_ptr()
}

crate::pg::v1_function_info!(pg_finfo_lead_scoring_logistic_irls_accum);

/// Transition function of `logistic_irls_pass(indexes, values, label, weight, theta)`: adds one
/// row to the float8[] state in place (the state belongs to the aggregate, as in float8_accum).
///
/// # Safety
/// Postgres calls it through the V1 convention with a valid `fcinfo`; the arguments are checked
/// (aggregate context, NULLs, array types and lengths) before they are read.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_logistic_irls_accum(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    let mut aggcontext: pg_sys::MemoryContext = std::ptr::null_mut();
    if pg_sys::AggCheckCallContext(fcinfo, &mut aggcontext) == 0 {
        invalid("logistic_irls_accum can only be called as part of the logistic_irls_pass aggregate");
    }
    let arg_null = |n: usize| pgrx::fcinfo::pg_arg_is_null(fcinfo, n);
    let arg = |n: usize| pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, n);
    if arg_null(5) {
        invalid("logistic_irls_pass: theta must not be NULL");
    }
    let theta: &[f64] = array_arg(arg(5), "theta");
    if theta.is_empty() {
        invalid("logistic_irls_pass: theta must have at least the intercept");
    }
    let state_datum = if arg_null(0) {
        let old = pg_sys::MemoryContextSwitchTo(aggcontext);
        let d = new_state(theta.len()).into_datum().expect("an array");
        pg_sys::MemoryContextSwitchTo(old);
        d
    } else {
        arg(0)
    };
    if (1..5).any(arg_null) {
        return state_datum; // a row without inputs, label or weight adds nothing
    }
    let state: &mut [f64] = array_arg(state_datum, "the state");
    let indexes: &[i32] = array_arg(arg(1), "indexes");
    let values: &[f64] = array_arg(arg(2), "values");
    if indexes.len() != values.len() {
        bad_data(format!("logistic_irls_pass: {} indexes but {} values", indexes.len(), values.len()));
    }
    let label = bool::from_datum(arg(3), false).unwrap_or(false);
    let weight = f64::from_datum(arg(4), false).unwrap_or(f64::NAN);
    let inputs = indexes.iter().copied().zip(values.iter().copied());
    let added = NONZERO.with(|b| accumulate_row(state, theta, inputs, label, weight, &mut b.borrow_mut()));
    if let Err(e) = added {
        raise_core(e.context("logistic_irls_pass"));
    }
    state_datum
}

/// Combine function of `logistic_irls_pass`: adds two workers' states.
#[pg_extern(immutable, parallel_safe, strict)]
fn logistic_irls_combine(mut a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    COMBINE_CALLS.set(COMBINE_CALLS.get() + 1);
    core_ok(combine(&mut a, &b));
    a
}

pgrx::extension_sql!(
    r#"
CREATE FUNCTION logistic_irls_accum(state float8[], indexes int4[], "values" float8[], label boolean, weight float8, theta float8[])
  RETURNS float8[] AS 'MODULE_PATHNAME', 'lead_scoring_logistic_irls_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION logistic_irls_accum(float8[], int4[], float8[], boolean, float8, float8[]) IS
  'Transition function of logistic_irls_pass (the aggregate engine of train()).';
CREATE AGGREGATE logistic_irls_pass(indexes int4[], "values" float8[], label boolean, weight float8, theta float8[]) (
    SFUNC = logistic_irls_accum, STYPE = float8[], COMBINEFUNC = logistic_irls_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE logistic_irls_pass(int4[], float8[], boolean, float8, float8[]) IS
  'One Newton pass of logistic regression: sums of log loss, gradient and Hessian at theta over sparse model inputs.';
"#,
    name = "logistic_irls_pass",
    requires = [logistic_irls_combine]
);
