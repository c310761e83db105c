//! `roc_auc`, `pr_auc` and `ks_statistic`: exact ranking metrics whose state is the count of
//! positive and negative rows per distinct score, in a type of its own (`score_counts`, a
//! varlena; the layout is the core's `ScoreCounts`). A real type, not `internal`, because Citus
//! splits a custom aggregate into per-shard partial aggregates only then: each shard sends its
//! counts (as the type's text form) and the coordinator merges them, instead of pulling every
//! (score, label) row. The same state serves parallel plans (no serialize functions needed).
//!
//! The transition functions are written by hand (V1 C functions) so that a row is appended to
//! the state in place, as float8_accum does: the state belongs to the aggregate (checked with
//! AggCheckCallContext), and only when it is full and compacting it frees too little is it moved
//! to a buffer twice as large, which the executor then copies into the aggregate's context.

use pgrx::prelude::*;

use super::metric_aggregates::{checked_score, label_of_int, Pairs};
use crate::core::evaluation::{
    average_precision, average_precision_of_counts, check_score_counts, counts_by_descending_score, ks_statistic,
    ks_statistic_of_counts, roc_auc, roc_auc_of_counts, score_count_entries, score_counts_bytes, score_counts_of_state,
    score_counts_state, ScoreCounts,
};
use crate::errors::{invalid, raise_core};

/// Rows the first state of a group has room for (4 KB).
const FIRST_CAPACITY: usize = 256;
/// The largest value PostgreSQL allocates (MaxAllocSize, 1 GB - 1).
const MAX_ALLOC: usize = 0x3fff_ffff;

/// The bytes of a state value after its 4-byte varlena header.
///
/// # Safety
/// `v` must be a detoasted (4-byte header) varlena that lives for `'a` and that no one else reads
/// while the slice is used.
unsafe fn body<'a>(v: *mut pg_sys::varlena) -> &'a mut [u8] {
    let len = pgrx::varlena::varsize_4b(v) - pg_sys::VARHDRSZ;
    std::slice::from_raw_parts_mut(v.cast::<u8>().add(pg_sys::VARHDRSZ), len)
}

/// A new state value of `body_len` bytes after the header, allocated in the current memory
/// context (the executor copies a transition function's new value into the aggregate's).
///
/// # Safety
/// Call only from a function called by PostgreSQL (it pallocs).
unsafe fn new_value(body_len: usize) -> *mut pg_sys::varlena {
    let total = body_len + pg_sys::VARHDRSZ;
    if total > MAX_ALLOC {
        too_large((body_len - score_counts_bytes(0)) / 16);
    }
    let v = pg_sys::palloc0(total).cast::<pg_sys::varlena>();
    pgrx::varlena::set_varsize_4b(v, total as i32);
    v
}

/// The most entries one value can hold.
fn max_entries() -> usize {
    (MAX_ALLOC - pg_sys::VARHDRSZ - score_counts_bytes(0)) / 16
}

fn too_large(entries: usize) -> ! {
    raise_core(lead_scoring_core::core_err!(
        MemoryLimit,
        "roc_auc, pr_auc and ks_statistic keep the count of rows per distinct score, and a group needs more than the 1 GB one value may hold ({entries} distinct scores or more)"
    ))
}

/// A state argument, detoasted (a value from a tuple or the input function may have any header).
///
/// # Safety
/// `datum` must be a non-NULL `score_counts` value.
unsafe fn state_arg(datum: pg_sys::Datum) -> *mut pg_sys::varlena {
    let v = pg_sys::pg_detoast_datum(datum.cast_mut_ptr());
    if let Err(e) = check_score_counts(body(v)) {
        raise_core(e);
    }
    v
}

/// Room for `capacity` rows, within lead_scoring.max_memory.
fn checked_capacity(capacity: usize) -> usize {
    let bytes = score_counts_bytes(capacity) as u64;
    if let Err(e) = crate::settings::max_memory().check(Some(bytes), || {
        format!("the count of rows per distinct score that roc_auc, pr_auc and ks_statistic keep for a group ({capacity} rows)")
    }) {
        raise_core(e);
    }
    capacity
}

/// Appends (score, label) to the state of arguments 0..=2 and returns the state: the same value,
/// or a larger one when it was full.
///
/// # Safety
/// `fcinfo` must be a transition call's of one of the three aggregates: argument 0 a
/// `score_counts` state, 1 a float8, 2 the label that `label_of` reads.
unsafe fn accumulate(fcinfo: pg_sys::FunctionCallInfo, label_of: impl Fn(pg_sys::Datum) -> bool) -> pg_sys::Datum {
    if pg_sys::AggCheckCallContext(fcinfo, std::ptr::null_mut()) == 0 {
        invalid("score_counts_accum can only be called as part of roc_auc, pr_auc or ks_statistic");
    }
    let arg_null = |n: usize| pgrx::fcinfo::pg_arg_is_null(fcinfo, n);
    let arg = |n: usize| pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, n);
    let mut value = if arg_null(0) {
        let v = new_value(score_counts_bytes(FIRST_CAPACITY));
        ScoreCounts::init(body(v));
        v
    } else {
        // The aggregate's own state (created above, or copied by the executor from it), so the
        // header is 4 bytes and the layout ours; AggCheckCallContext made it ours to change.
        arg(0).cast_mut_ptr::<pg_sys::varlena>()
    };
    if arg_null(1) || arg_null(2) {
        return pg_sys::Datum::from(value);
    }
    let score = checked_score(f64::from_bits(arg(1).value() as u64));
    let positive = label_of(arg(2));
    let mut state = ScoreCounts::open(body(value)).unwrap_or_else(|e| raise_core(e));
    if !state.push(score, positive) {
        if let Some(wanted) = state.make_room() {
            // Up to the largest value PostgreSQL allocates; full at that size, it is an ERROR.
            let capacity = wanted.min(max_entries());
            if capacity > state.capacity() {
                let larger = new_value(score_counts_bytes(checked_capacity(capacity)));
                state.move_to(body(larger));
                value = larger;
                state = ScoreCounts::open(body(value)).unwrap_or_else(|e| raise_core(e));
            } else if state.used() == state.capacity() {
                too_large(state.used());
            }
        }
        state.push(score, positive);
    }
    pg_sys::Datum::from(value)
}

crate::pg::v1_function_info!(pg_finfo_lead_scoring_score_counts_accum);

/// Transition function of `roc_auc`, `pr_auc`, `ks_statistic` (boolean labels).
///
/// # Safety
/// Called by PostgreSQL through the V1 convention as declared below.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_score_counts_accum(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: declared as (score_counts, float8, boolean).
    accumulate(fcinfo, |d| d.value() & 0xff != 0)
}

crate::pg::v1_function_info!(pg_finfo_lead_scoring_score_counts_accum_int);

/// Transition function of `roc_auc`, `pr_auc`, `ks_statistic` (integer 0/1 labels).
///
/// # Safety
/// Called by PostgreSQL through the V1 convention as declared below.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_score_counts_accum_int(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: declared as (score_counts, float8, bigint).
    accumulate(fcinfo, |d| label_of_int(d.value() as i64))
}

crate::pg::v1_function_info!(pg_finfo_lead_scoring_score_counts_combine);

/// Combine function: the union of two states' counts (a parallel worker's or a Citus shard's).
///
/// # Safety
/// Called by PostgreSQL through the V1 convention as declared below.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_score_counts_combine(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    if pg_sys::AggCheckCallContext(fcinfo, std::ptr::null_mut()) == 0 {
        invalid("score_counts_combine can only be called as part of roc_auc, pr_auc or ks_statistic");
    }
    let arg_null = |n: usize| pgrx::fcinfo::pg_arg_is_null(fcinfo, n);
    let arg = |n: usize| pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, n);
    match (arg_null(0), arg_null(1)) {
        (true, true) => {
            (*fcinfo).isnull = true;
            pg_sys::Datum::from(0)
        }
        (false, true) => arg(0),
        // The executor copies a returned value that is not its state into the aggregate's context.
        (true, false) => pg_sys::Datum::from(state_arg(arg(1))),
        (false, false) => {
            let (a, b) = (state_arg(arg(0)), state_arg(arg(1)));
            // In place when there is room (the state is the aggregate's; AggCheckCallContext),
            // so combining many shards' states costs a sort of their entries, not a merge each.
            if ScoreCounts::open(body(a)).unwrap_or_else(|e| raise_core(e)).append_state(body(b)) {
                return pg_sys::Datum::from(a);
            }
            // Otherwise the merged counts in a new value with as much room again.
            let merged = crate::core::evaluation::merge_score_counts(&counts_of(a), &counts_of(b));
            let entries = score_count_entries(&merged);
            let spare = checked_capacity(entries.saturating_mul(2)).min(max_entries()).saturating_sub(entries);
            let v = new_value(score_counts_bytes(entries + spare));
            body(v).copy_from_slice(&score_counts_state(&merged, spare));
            pg_sys::Datum::from(v)
        }
    }
}

/// The counts per distinct score of a checked state.
///
/// # Safety
/// `v` must be a detoasted `score_counts` value (see [`state_arg`]).
unsafe fn counts_of(v: *mut pg_sys::varlena) -> Vec<(u64, u64, u64)> {
    score_counts_of_state(body(v)).unwrap_or_else(|e| raise_core(e))
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` in hexadecimal into `out` (twice as long): a shard's state is megabytes of it.
fn write_hex(bytes: &[u8], out: &mut [u8]) {
    for (&b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = HEX_DIGITS[usize::from(b >> 4)];
        pair[1] = HEX_DIGITS[usize::from(b & 15)];
    }
}

fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    text.chunks_exact(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

crate::pg::v1_function_info!(pg_finfo_lead_scoring_score_counts_in);

/// Input function of `score_counts`: the hexadecimal form `score_counts_out` writes.
///
/// # Safety
/// Called by PostgreSQL through the V1 convention with a cstring argument.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_score_counts_in(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    let text = std::ffi::CStr::from_ptr(pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr());
    let bytes = from_hex(text.to_bytes()).unwrap_or_else(|| invalid("score_counts: not a hexadecimal string"));
    let counts = score_counts_of_state(&bytes).unwrap_or_else(|e| raise_core(e));
    let v = new_value(bytes.len());
    body(v).copy_from_slice(&score_counts_state(&counts, (bytes.len() - score_counts_bytes(score_count_entries(&counts))) / 16));
    pg_sys::Datum::from(v)
}

crate::pg::v1_function_info!(pg_finfo_lead_scoring_score_counts_out);

/// Output function of `score_counts`: the counts per distinct score, sorted and without free
/// room, in hexadecimal (what a Citus worker sends the coordinator for each shard).
///
/// # Safety
/// Called by PostgreSQL through the V1 convention with a `score_counts` argument.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_score_counts_out(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    let counts = counts_of(state_arg(pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0)));
    let bytes = score_counts_state(&counts, 0);
    let text = pg_sys::palloc(bytes.len() * 2 + 1).cast::<u8>();
    let out = std::slice::from_raw_parts_mut(text, bytes.len() * 2 + 1);
    write_hex(&bytes, &mut out[..bytes.len() * 2]);
    out[bytes.len() * 2] = 0;
    pg_sys::Datum::from(text)
}

/// A final function: `metric` of the counts, NULL without rows.
///
/// # Safety
/// `fcinfo` must be a call with one `score_counts` argument.
unsafe fn final_metric(fcinfo: pg_sys::FunctionCallInfo, metric: fn(&[(u64, u64, u64)]) -> Option<f64>) -> pg_sys::Datum {
    let result = if pgrx::fcinfo::pg_arg_is_null(fcinfo, 0) {
        None
    } else {
        let counts = counts_of(state_arg(pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0)));
        metric(&counts)
    };
    match result {
        Some(x) => x.into_datum().expect("a float8"),
        None => {
            (*fcinfo).isnull = true;
            pg_sys::Datum::from(0)
        }
    }
}

macro_rules! final_function {
    ($finfo:ident, $symbol:ident, $metric:path) => {
        crate::pg::v1_function_info!($finfo);

        /// # Safety
        /// Called by PostgreSQL through the V1 convention with one `score_counts` argument.
        #[no_mangle]
        #[pg_guard]
        pub unsafe extern "C-unwind" fn $symbol(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
            final_metric(fcinfo, |counts| $metric(counts_by_descending_score(counts)))
        }
    };
}

final_function!(pg_finfo_lead_scoring_roc_auc_counts_final, lead_scoring_roc_auc_counts_final, roc_auc_of_counts);
final_function!(pg_finfo_lead_scoring_pr_auc_counts_final, lead_scoring_pr_auc_counts_final, average_precision_of_counts);
final_function!(pg_finfo_lead_scoring_ks_statistic_counts_final, lead_scoring_ks_statistic_counts_final, ks_statistic_of_counts);

/// The final functions of 0.1.0's `roc_auc`, `pr_auc` and `ks_statistic` (an `internal` state
/// of every pair): a database created at 0.1.0 calls them until ALTER EXTENSION ... UPDATE,
/// which replaces the aggregates and drops these functions; a fresh install has no SQL function
/// for them.
macro_rules! pairs_final_function {
    ($finfo:ident, $symbol:ident, $metric:path) => {
        crate::pg::v1_function_info!($finfo);

        /// # Safety
        /// Called by PostgreSQL through the V1 convention with one `internal` argument, a `Pairs`.
        #[no_mangle]
        #[pg_guard]
        pub unsafe extern "C-unwind" fn $symbol(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
            let state = pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<Pairs>();
            let result = if pgrx::fcinfo::pg_arg_is_null(fcinfo, 0) || state.is_null() {
                None
            } else {
                let pairs = &*state;
                $metric(&pairs.scores, &pairs.labels)
            };
            match result {
                Some(x) => x.into_datum().expect("a float8"),
                None => {
                    (*fcinfo).isnull = true;
                    pg_sys::Datum::from(0)
                }
            }
        }
    };
}

pairs_final_function!(pg_finfo_roc_auc_final_wrapper, roc_auc_final_wrapper, roc_auc);
pairs_final_function!(pg_finfo_pr_auc_final_wrapper, pr_auc_final_wrapper, average_precision);
pairs_final_function!(pg_finfo_ks_statistic_final_wrapper, ks_statistic_final_wrapper, ks_statistic);

pgrx::extension_sql!(
    r#"
CREATE TYPE score_counts;
CREATE FUNCTION score_counts_in(cstring) RETURNS score_counts
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_counts_out(score_counts) RETURNS cstring
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE score_counts (
    INPUT = score_counts_in, OUTPUT = score_counts_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE score_counts IS
  'State of roc_auc, pr_auc and ks_statistic: the count of positive and negative rows per distinct score.';
CREATE FUNCTION score_counts_accum(state score_counts, score float8, label boolean) RETURNS score_counts
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION score_counts_accum(state score_counts, score float8, label bigint) RETURNS score_counts
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_accum_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION score_counts_combine(a score_counts, b score_counts) RETURNS score_counts
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION roc_auc_counts_final(state score_counts) RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_roc_auc_counts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pr_auc_counts_final(state score_counts) RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_pr_auc_counts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ks_statistic_counts_final(state score_counts) RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_ks_statistic_counts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE roc_auc(score float8, label boolean) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = roc_auc_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE AGGREGATE roc_auc(score float8, label bigint) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = roc_auc_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE AGGREGATE pr_auc(score float8, label boolean) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = pr_auc_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE AGGREGATE pr_auc(score float8, label bigint) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = pr_auc_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE AGGREGATE ks_statistic(score float8, label boolean) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = ks_statistic_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE AGGREGATE ks_statistic(score float8, label bigint) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = ks_statistic_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
"#,
    name = "ranking_aggregates"
);
