//! Worker threads for pure computations inside a Postgres backend. A backend is one process
//! with one thread that Postgres knows about: workers must never call Postgres and must leave
//! its signals (cancel, terminate, latches) to the main thread, so they block them all.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

thread_local! {
    /// Whether this thread runs tasks of a [`map_tasks`] call that uses several threads.
    static IN_PARALLEL_TASKS: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as running parallel tasks until dropped, then restores what it was (a
/// panicking task included).
struct ParallelTasks(bool);

impl ParallelTasks {
    fn enter() -> ParallelTasks {
        ParallelTasks(IN_PARALLEL_TASKS.replace(true))
    }
}

impl Drop for ParallelTasks {
    fn drop(&mut self) {
        IN_PARALLEL_TASKS.set(self.0);
    }
}

/// Blocks every signal on the current (worker) thread: Postgres' signal handlers must run on
/// the backend's main thread.
pub fn block_signals() {
    // SAFETY: sigfillset initialises the set; pthread_sigmask only changes this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Threads worth using for CPU-bound work here: the machine's parallelism, at most `cap`.
pub fn worker_threads(cap: usize) -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, cap.max(1))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `task(0..tasks)` on up to `threads` threads (the calling one included) and returns the
/// results in task order, so which thread ran a task never changes the outcome. Tasks are
/// taken in turn by whichever thread is free (a core busy elsewhere does not hold the rest up).
/// A panic in any task becomes `Err` once every thread has stopped; no other task starts after
/// it. If a thread cannot be started the others do its share. Called from a task of a call
/// that runs on several threads, it runs its tasks on that task's thread: the outer call has
/// the cores already, and nesting would start up to `threads` squared threads (scoring's chunks
/// transforming their rows, say).
pub fn map_tasks<T: Send>(tasks: usize, threads: usize, task: impl Fn(usize) -> T + Sync) -> Result<Vec<T>, String> {
    let threads = if IN_PARALLEL_TASKS.get() { 1 } else { threads.min(tasks).max(1) };
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || {
        let _parallel = (threads > 1).then(ParallelTasks::enter);
        let mut done = Vec::new();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= tasks || failed.load(Ordering::Relaxed) {
                break;
            }
            done.push((i, task(i)));
        }));
        run.map(|_| done).map_err(|p| {
            failed.store(true, Ordering::Relaxed);
            format!("a worker thread panicked: {}", panic_message(p.as_ref()))
        })
    };
    let mut results: Vec<(usize, T)> = Vec::with_capacity(tasks);
    let mut error = None;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads)
            .filter_map(|k| {
                std::thread::Builder::new()
                    .name(format!("lead_scoring_{k}"))
                    .spawn_scoped(scope, || {
                        block_signals();
                        work()
                    })
                    .ok()
            })
            .collect();
        let mut collect = |r: Result<Vec<(usize, T)>, String>| match r {
            Ok(done) => results.extend(done),
            Err(e) => error = error.take().or(Some(e)),
        };
        collect(work());
        for w in workers {
            collect(w.join().unwrap_or_else(|p| Err(panic_message(p.as_ref()))));
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    results.sort_unstable_by_key(|(i, _)| *i);
    debug_assert!(results.iter().enumerate().all(|(k, (i, _))| k == *i));
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_task_order_whatever_the_threads() {
        for threads in [1, 2, 3, 8] {
            let r = map_tasks(7, threads, |i| i * i).unwrap();
            assert_eq!(r, vec![0, 1, 4, 9, 16, 25, 36], "{threads} threads");
        }
        assert!(map_tasks(0, 4, |i| i).unwrap().is_empty());
        assert!((1..=4).contains(&worker_threads(4)) && worker_threads(0) == 1);
    }

    #[test]
    fn tasks_of_parallel_tasks_run_on_their_own_thread() {
        let outer = map_tasks(4, 2, |_| {
            let me = std::thread::current().id();
            let inner = map_tasks(3, 4, |_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                std::thread::current().id()
            })
            .unwrap();
            (IN_PARALLEL_TASKS.get(), inner.iter().all(|&t| t == me))
        })
        .unwrap();
        assert!(outer.iter().all(|&marked_and_alone| marked_and_alone == (true, true)), "{outer:?}");
        // The mark ends with the call, a panic's too, and a call on one thread sets none.
        assert!(!IN_PARALLEL_TASKS.get());
        assert!(map_tasks(4, 2, |i| if i == 1 { panic!("task failed") } else { i }).is_err());
        assert!(!IN_PARALLEL_TASKS.get());
        assert_eq!(map_tasks(3, 1, |_| IN_PARALLEL_TASKS.get()).unwrap(), vec![false; 3]);
        assert_eq!(map_tasks(1, 4, |_| IN_PARALLEL_TASKS.get()).unwrap(), vec![false]);
    }

    #[test]
    fn a_panicking_task_is_an_error() {
        for threads in [1, 2, 4] {
            let r = map_tasks(6, threads, |i| if i == 3 { panic!("task {i} failed") } else { i });
            let e = r.unwrap_err();
            assert!(e.contains("panicked") && e.contains("task 3 failed"), "{e}");
        }
    }

    #[test]
    fn workers_block_signals() {
        let masks = map_tasks(2, 2, |_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            // SAFETY: reads this thread's signal mask only.
            let blocked = unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut set);
                libc::sigismember(&set, libc::SIGINT) == 1
            };
            (std::thread::current().name().map(String::from), blocked)
        })
        .unwrap();
        for (name, blocked) in masks {
            // The calling thread keeps its signals; workers (named lead_scoring_k) block them.
            assert_eq!(name.is_some_and(|n| n.starts_with("lead_scoring_")), blocked);
        }
    }
}
