//! A deployed model over time: `drift`, `monitor`, `backtest`, `score_trend`.

pub mod backtest;
pub mod drift;
pub mod monitor;
pub mod trend;
