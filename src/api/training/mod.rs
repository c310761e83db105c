//! `train()`.

pub mod train;
