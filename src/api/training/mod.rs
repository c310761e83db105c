//! `train()` and `split_of()`, which part of a trained version's split a lead was in.

pub mod recorded_split;
pub mod split_of;
pub mod train;
