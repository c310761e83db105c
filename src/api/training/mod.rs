//! `train()` and `split_of()`, which part of a trained version's split a lead was in.

pub mod fitting;
pub mod recorded_split;
pub mod sampled;
pub mod split_of;
pub mod train;
