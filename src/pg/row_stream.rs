//! Runs a query and hands each result row to a Rust closure as the executor produces it, through
//! a `DestReceiver` given to `SPI_execute_extended`. A cursor fetch would first copy every row
//! into SPI's tuple table and then find each column again with `heap_getattr` (quadratic once a
//! text column comes first); here a row is read once, straight from the executor's slot, and
//! nothing of it is kept. Reading the training table this way is several times faster.

use std::ffi::{c_int, CString};

use pgrx::pg_sys;
use pgrx::prelude::*;

/// The receiver handed to the executor: Postgres' struct first, so a `*mut DestReceiver` can
/// be cast back to it in the callbacks.
#[repr(C)]
struct ClosureReceiver<'a> {
    base: pg_sys::DestReceiver,
    on_row: &'a mut dyn FnMut(&[pg_sys::Datum], &[bool]),
}

/// The executor hands each result row here.
///
/// # Safety
/// `dest` is the `ClosureReceiver` `for_each_row` gave `SPI_execute_extended`, alive for the
/// whole statement; `slot` is the executor's current row, valid during this call.
#[pg_guard]
unsafe extern "C-unwind" fn receive_slot(slot: *mut pg_sys::TupleTableSlot, dest: *mut pg_sys::DestReceiver) -> bool {
    let receiver = &mut *(dest as *mut ClosureReceiver<'static>);
    let natts = (*(*slot).tts_tupleDescriptor).natts;
    if c_int::from((*slot).tts_nvalid) < natts {
        pg_sys::slot_getsomeattrs_int(slot, natts);
    }
    let n = natts as usize;
    let (values, nulls) = if n == 0 {
        (&[][..], &[][..])
    } else {
        (std::slice::from_raw_parts((*slot).tts_values, n), std::slice::from_raw_parts((*slot).tts_isnull, n))
    };
    (receiver.on_row)(values, nulls);
    true
}

// SAFETY: nothing to set up; the executor calls it with a valid receiver and ignores the result.
#[pg_guard]
unsafe extern "C-unwind" fn startup(_dest: *mut pg_sys::DestReceiver, _operation: c_int, _typeinfo: pg_sys::TupleDesc) {}

// SAFETY: nothing to tear down; the closure and its receiver are dropped by `for_each_row`.
#[pg_guard]
unsafe extern "C-unwind" fn shutdown(_dest: *mut pg_sys::DestReceiver) {}

/// Runs `query` (a SELECT, no parameters) with the caller's rights and calls `on_row` with the
/// datums and NULL flags of each result row, in the query's column order. The datums are valid
/// only during the call (they live in the executor's per-row memory).
/// Errors from the query, and panics in `on_row`, are raised as Postgres errors.
pub fn for_each_row(query: &str, on_row: &mut dyn FnMut(&[pg_sys::Datum], &[bool])) {
    let sql = CString::new(query).expect("queries built by lead_scoring contain no NUL byte");
    let mut receiver = ClosureReceiver {
        base: pg_sys::DestReceiver {
            receiveSlot: Some(receive_slot),
            rStartup: Some(startup),
            rShutdown: Some(shutdown),
            // Owned by this stack frame, never destroyed by the executor.
            rDestroy: Some(shutdown),
            mydest: pg_sys::CommandDest::DestNone,
        },
        on_row,
    };
    // A source's query must not change anything, even through a function it calls.
    crate::pg::read_only::read_only(|| {
        Spi::connect(|_client| {
            let options = pg_sys::SPIExecuteOptions { dest: &mut receiver.base, ..Default::default() };
            // SAFETY: SPI is connected for this closure; `receiver` outlives the call, and the
            // executor only calls the callbacks above while the statement runs.
            let status = unsafe { pg_sys::SPI_execute_extended(sql.as_ptr(), &options) };
            if status < 0 {
                error!("lead_scoring: SPI_execute_extended failed with status {status}");
            }
        })
    });
}
