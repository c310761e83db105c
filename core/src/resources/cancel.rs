//! "Should I stop?": long loops of the core (folds, search candidates, periods, features,
//! Newton iterations, worker tasks) ask a [`Cancel`] between units of work and return
//! [`crate::ErrorKind::Canceled`] when it says yes. The core never learns why: the extension
//! answers from PostgreSQL's pending cancel (`pg_cancel_backend`, `statement_timeout`) by
//! reading a flag, without calling the server, and raises the server's own ERROR once the core
//! has returned, so no error unwinds through the core's frames.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::core_err;
use crate::CoreResult;

/// Answers whether the caller wants the current work stopped. `Sync`, so worker threads may
/// ask too: an implementation must only read memory (a flag), never call into a server.
pub trait Cancel: Sync {
    /// True once the work should stop.
    fn requested(&self) -> bool;

    /// `Err(Canceled)` naming `what` was stopped, once [`Cancel::requested`].
    fn check(&self, what: &str) -> CoreResult<()> {
        if self.requested() {
            Err(core_err!(Canceled, "{what} was canceled"))
        } else {
            Ok(())
        }
    }
}

/// Never asks to stop: for callers without a cancel source (tests, the core's own tools).
#[derive(Debug, Default, Clone, Copy)]
pub struct NeverCancel;

impl Cancel for NeverCancel {
    fn requested(&self) -> bool {
        false
    }
}

/// A flag one thread sets and every thread reads: the main thread polls the real cancel source
/// and raises this flag for workers that must not touch that source themselves.
#[derive(Debug, Default)]
pub struct CancelFlag(AtomicBool);

impl CancelFlag {
    pub fn new() -> CancelFlag {
        CancelFlag(AtomicBool::new(false))
    }

    /// Asks every reader to stop.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Cancel for CancelFlag {
    fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A function answers as well (`&|| stop_now()`).
impl<F: Fn() -> bool + Sync> Cancel for F {
    fn requested(&self) -> bool {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn check_is_ok_until_requested_then_canceled_naming_the_work() {
        assert!(NeverCancel.check("audit").is_ok());
        let flag = CancelFlag::new();
        assert!(flag.check("cross-validation").is_ok());
        flag.raise();
        let e = flag.check("cross-validation").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Canceled);
        assert_eq!(e.message, "cross-validation was canceled");
    }

    #[test]
    fn a_closure_is_a_cancel_source() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        // Stops on the third question, like a cancel arriving during the third unit of work.
        let third = || calls.fetch_add(1, Ordering::Relaxed) >= 2;
        let done: Vec<usize> = (0..10).take_while(|_| third.check("loop").is_ok()).collect();
        assert_eq!(done, vec![0, 1]);
    }

    #[test]
    fn workers_see_a_flag_raised_on_another_thread() {
        let flag = CancelFlag::new();
        std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let mut spins = 0u64;
                while !flag.requested() {
                    spins += 1;
                    std::thread::yield_now();
                }
                spins
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            flag.raise();
            assert!(worker.join().unwrap() > 0);
        });
    }
}
