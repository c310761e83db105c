//! What one call may use: memory (sized before allocating, fallible reservation), worker
//! threads (never calling PostgreSQL), the time each training phase took, and whether the
//! caller still wants the work done (a cancel check for long loops).
//!
//! Imports: nothing else of the core (the error type aside).

mod cancel;
mod memory;
mod phase_times;
mod threads;

pub use cancel::{Cancel, CancelFlag, NeverCancel};
pub use memory::{bytes_of, empty_vec, filled_vec, format_bytes, parse_memory_size, total, LimitOrigin, MemoryLimit};
pub use phase_times::PhaseTimes;
pub use threads::{block_signals, map_tasks, worker_threads};
