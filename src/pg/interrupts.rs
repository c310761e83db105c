//! The core's cancel check answered from PostgreSQL's own flags: a pending cancel
//! (`pg_cancel_backend`, `statement_timeout`, which signals the backend the same way) or a
//! pending terminate. Reading the flags calls nothing in the server, so a worker thread may ask
//! too; the ERROR itself is raised on the main thread once the core has returned `Canceled`
//! (`errors::raise_core`), so it never unwinds through the core's frames.

use pgrx::pg_sys;

use crate::core::resources::Cancel;

/// Asks PostgreSQL whether this statement should stop.
#[derive(Debug, Default, Clone, Copy)]
pub struct PendingCancel;

/// Whether a cancel or terminate is waiting to be processed by this backend.
pub fn cancel_pending() -> bool {
    // SAFETY: plain reads of two sig_atomic_t flags the backend's signal handlers set; a
    // volatile read, like the C macro INTERRUPTS_PENDING_CONDITION, and no call into the server.
    unsafe {
        std::ptr::read_volatile(&raw const pg_sys::QueryCancelPending) != 0
            || std::ptr::read_volatile(&raw const pg_sys::ProcDiePending) != 0
    }
}

impl Cancel for PendingCancel {
    fn requested(&self) -> bool {
        cancel_pending()
    }
}
