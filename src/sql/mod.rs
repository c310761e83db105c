//! The thin pgrx layer: reads rows through SPI, calls the core, writes the catalog, and turns
//! every failure into a clear Postgres ERROR.

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

pub mod audit;
pub mod attach;
pub mod score_trigger;
pub mod attach_events;
pub mod cache;
pub mod call_state;
pub mod catalog;
pub mod compare;
pub mod curves;
pub mod demo;
pub mod errors;
pub mod evaluate;
pub mod explain;
pub mod features;
pub mod feedback;
pub mod governance;
pub mod metric_aggregates;
pub mod model_card;
pub mod registry;
pub mod rows;
pub mod rows_binding;
pub mod score;
pub mod score_fields;
pub mod score_support;
pub mod scored_view;
pub mod settings;
pub mod source;
pub mod thresholds;
pub mod train;
pub mod report;
pub mod schedule;
pub mod drift;
pub mod monitoring;
pub mod backtest;
pub mod trend;
pub mod tuple_append;
pub mod tuple_deform;
pub mod aggregate_engine;
pub mod model_sql;
pub mod numeric_bytes;
pub mod row_stream;
