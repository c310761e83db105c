//! Which engine fits a logistic model: in memory, or by aggregate passes over the source
//! (memory independent of the row count; the passes themselves are `models::logistic::by_passes`).

use super::options::{Algorithm, Engine, Task, TrainOptions, AUTO_AGGREGATE_ROWS};
use crate::core_err;
use crate::data::Resample;
use crate::data::SplitMethod;
use crate::CoreResult;

/// Whether `opts.engine` fits by aggregate passes. They select the training rows in SQL, which needs a
/// split stored in a column (`split.method = 'column'`); they fit logistic models only and
/// cannot resample. `aggregate` asked for where it cannot apply is an
/// error; `auto` then quietly stays in memory. Cross-validation folds are fitted in memory.
pub fn uses_aggregate_engine(rows: usize, opts: &TrainOptions) -> CoreResult<bool> {
    let blocker = if opts.task == Task::Regression {
        Some("it fits logistic classification only, not options.task 'regression'")
    } else if opts.algorithm == Algorithm::Gbm {
        Some("it fits logistic models only (algorithm 'logistic' or 'auto')")
    } else if !matches!(opts.split.method, SplitMethod::Column { .. }) {
        Some("it needs the split stored in a column: options.split = {\"method\": \"column\", \"column\": ...}")
    } else if opts.resample != Resample::None {
        Some("it cannot resample the training rows")
    } else if !opts.preprocess.bins.is_empty() || !opts.preprocess.interactions.is_empty() {
        Some("its SQL inputs do not cover quantile bins or interaction terms yet")
    } else if opts.segment_by.is_some() {
        Some("it does not fit segment models (options.segment_by)")
    } else {
        None
    };
    match (opts.engine, blocker) {
        (Engine::Memory, _) => Ok(false),
        (Engine::Aggregate, Some(why)) => {
            Err(core_err!(InvalidArgument, "options.engine 'aggregate' cannot be used here: {why}"))
        }
        (Engine::Aggregate, None) => Ok(true),
        (Engine::Auto, Some(_)) => Ok(false),
        (Engine::Auto, None) => Ok(rows >= AUTO_AGGREGATE_ROWS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_choice() {
        let column = crate::data::SplitSpec { method: SplitMethod::Column { column: "part".into() }, ..Default::default() };
        let opts = TrainOptions { split: column, ..Default::default() };
        assert!(!uses_aggregate_engine(999_999, &TrainOptions { engine: Engine::Auto, ..opts.clone() }).unwrap());
        assert!(uses_aggregate_engine(AUTO_AGGREGATE_ROWS, &TrainOptions { engine: Engine::Auto, ..opts.clone() }).unwrap());
        assert!(uses_aggregate_engine(10, &TrainOptions { engine: Engine::Aggregate, ..opts.clone() }).unwrap());
        assert!(!uses_aggregate_engine(10_000_000, &TrainOptions { engine: Engine::Memory, ..opts.clone() }).unwrap());
        let random = TrainOptions::default();
        assert!(!uses_aggregate_engine(10_000_000, &TrainOptions { engine: Engine::Auto, ..random.clone() }).unwrap());
        let err = uses_aggregate_engine(10, &TrainOptions { engine: Engine::Aggregate, ..random.clone() }).unwrap_err();
        assert!(err.message.contains("split stored in a column"), "{err}");
        let gbm = TrainOptions { algorithm: Algorithm::Gbm, ..opts.clone() };
        assert!(uses_aggregate_engine(10, &TrainOptions { engine: Engine::Aggregate, ..gbm.clone() })
            .unwrap_err()
            .message
            .contains("logistic models only"));
        assert_eq!(Engine::parse(&serde_json::json!("aggregate")).unwrap(), Engine::Aggregate);
        assert!(Engine::parse(&serde_json::json!("gpu")).is_err());
    }
}
