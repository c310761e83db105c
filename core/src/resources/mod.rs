//! What one call may use: memory (sized before allocating, fallible reservation), worker
//! threads (never calling PostgreSQL), and the time each training phase took.
//!
//! Imports: nothing else of the core (the error type aside).

pub mod memory;
pub mod phase_times;
pub mod threads;
