//! PostgreSQL's internal formats, read and written by hand where a call into the server per
//! row was the cost that mattered: heap tuples (deforming the columns a model needs, appending
//! score and tier to a row from COPY), `numeric` bytes, per-call-site state in `fn_extra`, and
//! a `DestReceiver` that hands query rows to Rust as the executor produces them, and the
//! pending-cancel flags the core's long loops ask about, the read-only flag a source's query
//! runs under, and the settings (search_path, Citus) the catalog's queries run under.
//!
//! Every `unsafe` block here carries a Safety note saying which server invariant it relies on;
//! each file is tested against the server's own routines (`src/tests/tuple_*.rs` and the
//! numeric tests). Imports: nothing of the extension but `errors`.

pub mod call_state;
pub mod datum;
pub mod interrupts;
pub mod numeric_bytes;
pub mod catalog_settings;
pub mod read_only;
pub mod row_stream;
pub mod tuple_append;
pub mod tuple_deform;

/// Declares the V1 info record (`pg_finfo_<symbol>`) Postgres looks up for a C function written
/// by hand, one declared in `extension_sql!` with `LANGUAGE C` rather than by `#[pg_extern]`.
macro_rules! v1_function_info {
    ($finfo:ident) => {
        #[no_mangle]
        #[doc(hidden)]
        pub extern "C" fn $finfo() -> &'static pgrx::pg_sys::Pg_finfo_record {
            const V1: pgrx::pg_sys::Pg_finfo_record = pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    };
}
pub(crate) use v1_function_info;
