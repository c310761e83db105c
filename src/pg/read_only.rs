//! Running a source's query as in a read-only transaction. A `source` is a user's table, view
//! or SELECT, read with the caller's rights; a SELECT can still call a function that writes
//! (`SELECT * FROM f()`, where f deletes rows), which SPI's read-only flag does not stop (it
//! checks only the top-level statement). With `XactReadOnly` set while the query runs, every
//! INSERT, UPDATE, DELETE, DDL or nextval() in it is the usual "cannot execute ... in a
//! read-only transaction" ERROR, however deeply nested.

use pgrx::pg_sys;

/// Restores the transaction's own read-only flag, also when an ERROR unwinds through.
struct Restore(bool);

impl Drop for Restore {
    fn drop(&mut self) {
        // SAFETY: a backend global written from the backend's main thread, back to its value.
        unsafe { pg_sys::XactReadOnly = self.0 };
    }
}

/// Runs `f` (which runs a source's query) with the transaction read-only.
pub fn read_only<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: reads and sets a backend global from the backend's main thread; `Restore` puts
    // the old value back when `f` returns or unwinds (an aborted subtransaction restores it too).
    let _restore = unsafe {
        let restore = Restore(pg_sys::XactReadOnly);
        pg_sys::XactReadOnly = true;
        restore
    };
    f()
}
