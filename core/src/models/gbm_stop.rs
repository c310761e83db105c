//! Stopping a boosted-trees fit between two trees. forust has no per-tree callback, but with
//! `log_iterations = 1` it reports every finished tree through the `log` facade ("Completed
//! iteration i of n"), on the thread that runs its loop. The logger installed here is that
//! callback: once the fit is abandoned (a user's cancel), it panics there, which unwinds
//! forust's loop and ends its thread pool, so no CPU is spent on a fit nobody waits for.
//!
//! The stop flag is one per process, so fits take turns ([`begin_fit`] returns a guard): a
//! backend trains one model at a time anyway, and tests that fit in parallel threads wait.
//! A new fit first waits for an abandoned one to reach its next tree.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::thread::JoinHandle;

static STOP: AtomicBool = AtomicBool::new(false);
static ONE_FIT_AT_A_TIME: Mutex<()> = Mutex::new(());
static ABANDONED: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// The panic payload that unwinds an abandoned fit.
pub struct FitAbandoned;

struct StopAtNextTree;

impl log::Log for StopAtNextTree {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target().starts_with("forust_ml")
    }

    fn log(&self, record: &log::Record) {
        if STOP.load(Ordering::Relaxed) && self.enabled(record.metadata()) {
            std::panic::resume_unwind(Box::new(FitAbandoned));
        }
    }

    fn flush(&self) {}
}

/// Installs the logger (once per process), waits for the fit before this one, and readies the
/// stop flag; hold the guard until the fit's thread has finished or been abandoned.
pub fn begin_fit() -> MutexGuard<'static, ()> {
    INSTALL.call_once(|| {
        // Fails only if something in this library installed a logger first; forust's fits
        // then run to their end after a cancel, as before.
        if log::set_logger(&StopAtNextTree).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    });
    let turn = ONE_FIT_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let abandoned = ABANDONED.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(handle) = abandoned {
        let _ = handle.join();
    }
    STOP.store(false, Ordering::Relaxed);
    turn
}

/// Asks the running fit to stop after its current tree.
pub fn stop_fit() {
    STOP.store(true, Ordering::Relaxed);
}

/// Keeps the thread of a fit that did not stop in time, for the next fit to wait for.
pub fn abandon(handle: JoinHandle<()>) {
    *ABANDONED.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
}

/// Whether an abandoned fit's thread is still running (for tests: a cancel must leave none).
#[cfg(test)]
pub fn abandoned_fit_running() -> bool {
    ABANDONED.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|h| !h.is_finished())
}
