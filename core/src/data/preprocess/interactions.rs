//! Interaction terms (`options.interactions`): for a pair of columns, the products of their
//! inputs, so a linear model can learn that one column's effect depends on another (pricing
//! page visits matter more for senior leads, say). A number or date contributes its scaled
//! value, a text column or binned number each of its one-hot inputs, so a number times a text
//! column becomes one slope per level.

use serde::{Deserialize, Serialize};

use super::transform::FeatureTransform;
use crate::core_err;
use crate::CoreResult;

/// Largest number of inputs one interaction may add (two wide text columns multiply quickly).
pub const MAX_INTERACTION_INPUTS: usize = 400;

/// One fitted interaction between features `a` and `b` (indexes into the model's features),
/// with where their multiplied inputs sit among the feature inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub a: usize,
    pub b: usize,
    a_slots: (usize, usize),
    b_slots: (usize, usize),
}

impl Interaction {
    pub fn width(&self) -> usize {
        self.a_slots.1 * self.b_slots.1
    }

    /// Most of this term's inputs that can be nonzero in one row: the nonzero inputs of `a` it
    /// multiplies times those of `b`.
    pub fn max_nonzeros(&self, features: &[FeatureTransform]) -> usize {
        let side = |f: usize, slots: (usize, usize)| features.get(f).map_or(slots.1, |f| f.max_nonzeros().min(slots.1));
        side(self.a, self.a_slots) * side(self.b, self.b_slots)
    }

    /// "a × b": how explanations name the term.
    pub fn name(&self, features: &[FeatureTransform]) -> String {
        format!("{} × {}", features[self.a].name(), features[self.b].name())
    }

    pub fn output_names(&self, features: &[FeatureTransform]) -> Vec<String> {
        let names = |f: &FeatureTransform, (at, n): (usize, usize)| f.output_names()[at..at + n].to_vec();
        let (an, bn) = (names(&features[self.a], (0, self.a_slots.1)), names(&features[self.b], (0, self.b_slots.1)));
        an.iter().flat_map(|x| bn.iter().map(move |y| format!("{x} × {y}"))).collect()
    }

    /// Writes the products into `out` from the feature inputs already computed in `inputs`.
    pub fn fill(&self, inputs: &[f64], out: &mut [f64]) {
        let a = &inputs[self.a_slots.0..self.a_slots.0 + self.a_slots.1];
        let b = &inputs[self.b_slots.0..self.b_slots.0 + self.b_slots.1];
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                out[i * b.len() + j] = x * y;
            }
        }
    }
}

impl Interaction {
    /// Whether this term (read from an artifact) is one [`fit_interactions`] could have made for
    /// `features`: both indexes in range and different, the slots where those features' inputs
    /// sit, and no more than [`MAX_INTERACTION_INPUTS`] inputs.
    pub fn check(&self, features: &[FeatureTransform]) -> Result<(), String> {
        if self.a >= features.len() || self.b >= features.len() || self.a == self.b {
            return Err(format!("an interaction names features {} and {} of {}", self.a, self.b, features.len()));
        }
        let offset = |k: usize| features[..k].iter().map(FeatureTransform::width).sum::<usize>();
        let slots = |k: usize| {
            let (within, n) = features[k].interaction_slots();
            (offset(k) + within, n)
        };
        if (self.a_slots, self.b_slots) != (slots(self.a), slots(self.b)) {
            return Err(format!("the interaction {} points at the wrong inputs", self.name(features)));
        }
        if self.width() > MAX_INTERACTION_INPUTS {
            return Err(format!("the interaction {} has {} inputs", self.name(features), self.width()));
        }
        Ok(())
    }
}

/// Resolves the named pairs against the fitted features.
pub fn fit_interactions(features: &[FeatureTransform], pairs: &[(String, String)]) -> CoreResult<Vec<Interaction>> {
    let mut offsets = Vec::with_capacity(features.len());
    let mut at = 0;
    for f in features {
        offsets.push(at);
        at += f.width();
    }
    let index = |name: &str| {
        features.iter().position(|f| f.name() == name).ok_or_else(|| {
            core_err!(UnknownColumn, "option \"interactions\" names \"{name}\", which is not one of the model's features")
        })
    };
    let mut out: Vec<Interaction> = Vec::with_capacity(pairs.len());
    for (a, b) in pairs {
        let (a, b) = (index(a)?, index(b)?);
        if a == b {
            return Err(core_err!(InvalidArgument, "option \"interactions\" pairs \"{}\" with itself", features[a].name()));
        }
        if out.iter().any(|i| (i.a, i.b) == (a, b) || (i.a, i.b) == (b, a)) {
            return Err(core_err!(
                InvalidArgument,
                "option \"interactions\" lists the pair {} twice",
                features[a].name().to_string() + " × " + features[b].name()
            ));
        }
        let slots = |k: usize| {
            let (within, n) = features[k].interaction_slots();
            (offsets[k] + within, n)
        };
        let term = Interaction { a, b, a_slots: slots(a), b_slots: slots(b) };
        if term.width() > MAX_INTERACTION_INPUTS {
            return Err(core_err!(
                InvalidArgument,
                "the interaction {} would add {} inputs (at most {MAX_INTERACTION_INPUTS}); raise min_level_count or bin fewer",
                term.name(features),
                term.width()
            ));
        }
        out.push(term);
    }
    Ok(out)
}
