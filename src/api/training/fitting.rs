//! The core pipeline run from train(): cancel checks and progress NOTICEs during long fits,
//! and the warnings and notices of how the fit went.

use std::time::Instant;

use pgrx::prelude::*;

use crate::core::models::LogisticPasses;
use crate::core::resources::Cancel;
use crate::core::training::{train_model_with, TrainOptions, TrainedModel};
use crate::errors::core_ok;
use crate::pg::interrupts::PendingCancel;

/// Runs the core pipeline, with cancel checks and progress NOTICEs for long fits. The callback
/// only reads the pending-cancel flag and returns an error: the core stops, returns `Canceled`
/// and the cancel's ERROR is raised here, never through the core's frames.
pub fn fit(data: &crate::core::data::TrainingData, opts: &TrainOptions, passes: Option<&mut dyn LogisticPasses>) -> TrainedModel {
    let started = Instant::now();
    let mut last_notice = Instant::now();
    let mut progress = |iteration: usize, objective: f64| -> Result<(), String> {
        if PendingCancel.requested() {
            return Err("training was canceled".into());
        }
        if last_notice.elapsed().as_secs_f64() > 5.0 {
            // Boosted trees without a validation part have no objective to show (NaN).
            let objective = if objective.is_finite() { format!(", objective {objective:.6}") } else { String::new() };
            notice!("training: iteration {iteration}{objective}, {:.0} s", started.elapsed().as_secs_f64());
            last_notice = Instant::now();
        }
        Ok(())
    };
    let trained = core_ok(train_model_with(data, opts, passes, &mut progress, &PendingCancel));
    if !trained.converged && trained.model.estimator.algorithm() == "logistic" {
        if trained.iterations < opts.max_iter {
            warning!(
                "logistic regression stopped at iteration {}: the objective no longer improves, but the Newton step is not yet below options.tol ({}); the coefficients are as good as floating point allows, raise tol to call this converged",
                trained.iterations,
                opts.tol
            );
        } else {
            warning!(
                "logistic regression did not converge in {} iterations; raise options.max_iter, or options.alpha for more regularization",
                trained.iterations
            );
        }
    }
    if let Some(fell_back) = trained.summary.segments.as_ref().and_then(crate::core::training::fallback_notice) {
        notice!("{fell_back}");
    }
    for capped in &trained.summary.capped_levels {
        notice!(
            "feature \"{}\" has {} levels seen at least min_level_count times; kept the {} most frequent (options.max_levels), the rest are pooled into \"(other)\"",
            capped.feature, capped.frequent_levels, capped.kept_levels
        );
    }
    trained
}
