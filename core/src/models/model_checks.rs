//! Checks of a model read back from its artifact, before it scores anything. The
//! checksum catches accidents; these catch a body that decodes but does not make sense (edited
//! bytes with the checksum recomputed, or a future writer's bug): every index an artifact holds
//! is within what it indexes, every length agrees with the model's inputs, every number that
//! scoring uses is finite. Scoring and explaining then never index out of range, loop or
//! recurse without bound on what an artifact says.

use crate::core_err;
use crate::data::{FeatureTransform, Preprocessor, Scaling};
use crate::models::model::{Estimator, LeadModel};
use crate::CoreResult;

/// An error naming what is wrong, or Ok for a model that is safe to score with.
pub fn check_model(model: &LeadModel) -> CoreResult<()> {
    check_one(model).map_err(|e| core_err!(CorruptArtifact, "model artifact is corrupt: {e}"))?;
    if let Some(segments) = &model.segments {
        let names: Vec<&str> = model.feature_names().collect();
        if segments.feature >= names.len() {
            return Err(core_err!(
                CorruptArtifact,
                "model artifact is corrupt: segments by feature {} of {}",
                segments.feature,
                names.len()
            ));
        }
        for (value, segment) in &segments.models {
            let detail = |e: String| core_err!(CorruptArtifact, "model artifact is corrupt: the model of segment '{value}': {e}");
            if segment.segments.is_some() {
                return Err(detail("it has segments of its own".into()));
            }
            // Raw values are given in the global model's feature order to every segment model.
            if !segment.feature_names().eq(names.iter().copied()) {
                return Err(detail("it reads other features than the global model".into()));
            }
            check_one(segment).map_err(detail)?;
        }
    }
    Ok(())
}

fn check_one(model: &LeadModel) -> Result<(), String> {
    let width = check_preprocessor(&model.preprocessor)?;
    match &model.estimator {
        Estimator::Logistic(fit) | Estimator::Linear(fit) => {
            if fit.coefficients.len() != width {
                return Err(format!("{} coefficients for {width} inputs", fit.coefficients.len()));
            }
            if !fit.intercept.is_finite() || fit.coefficients.iter().any(|c| !c.is_finite()) {
                return Err("a coefficient is not finite".into());
            }
        }
        Estimator::Gbm(booster) => booster.check(width)?,
    }
    model.calibration.check()?;
    if model.input_means.len() != width || model.input_means.iter().any(|m| !m.is_finite()) {
        return Err(format!("{} input means for {width} inputs, or one not finite", model.input_means.len()));
    }
    Ok(())
}

/// The preprocessor's number of inputs, once its parts are found consistent.
fn check_preprocessor(p: &Preprocessor) -> Result<usize, String> {
    if p.features.is_empty() {
        return Err("it has no features".into());
    }
    for f in &p.features {
        let scaling_ok = |s: &Scaling| s.median.is_finite() && s.mean.is_finite() && s.scale.is_finite() && s.scale > 0.0;
        let ok = match f {
            FeatureTransform::Numeric { scaling, .. } => scaling_ok(scaling),
            FeatureTransform::Date { as_of, scaling, .. } => as_of.is_finite() && scaling_ok(scaling),
            FeatureTransform::Binned { edges, .. } => {
                edges.iter().all(|e| e.is_finite()) && edges.windows(2).all(|w| w[0] <= w[1])
            }
            FeatureTransform::Categorical { .. } | FeatureTransform::TextCodes { .. } => true,
        };
        if !ok {
            return Err(format!(
                "the transform of feature \"{}\" has numbers that are not finite, a scale that is not positive, or unsorted bins",
                f.name()
            ));
        }
    }
    for i in &p.interactions {
        i.check(&p.features)?;
    }
    Ok(p.width())
}

#[cfg(test)]
#[path = "model_checks_tests.rs"]
mod tests;
