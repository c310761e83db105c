//! The one order in which a model's tree outputs are added up, used by every path that sums
//! trees (the node walk `Tree::predict`, the flat nodes, the leaf masks, and through
//! `GbmModel::log_odds` the training pipeline's predictions and explanations), so that all of
//! them give the same score to the last bit.
//!
//! Tree `t`'s output goes to lane `t % LANES`; each lane adds its trees in tree order from -0.0
//! (as `Iterator::sum` of f64 starts, so a sum of negative zeros keeps its sign); the lanes are
//! then added pairwise in the fixed order of [`TreeSum::total`]. Why not plain tree order: that
//! is a chain of dependent additions (300 trees: 300 times the adder's latency, about 0.35 us a
//! lead, a third of scoring), where eight lanes are eight short chains that vector registers add
//! side by side. The result differs from LightGBM's own sum in tree order only by rounding
//! (relative differences of about 1e-16 times the number of trees; tested against LightGBM to
//! 1e-12, `gbm_tests.rs`).

/// Lanes of the sum: two AVX2 registers of four doubles.
pub const LANES: usize = 8;

/// Partial sums of tree outputs in the canonical order; see the module comment.
#[derive(Debug, Clone, Copy)]
pub struct TreeSum {
    lanes: [f64; LANES],
}

impl Default for TreeSum {
    fn default() -> Self {
        TreeSum { lanes: [-0.0; LANES] }
    }
}

impl TreeSum {
    /// Adds the outputs of trees `start .. start + LANES` for a `start` that is a multiple of
    /// LANES, after those of all earlier trees. A tree past the model's last adds -0.0, which
    /// leaves any sum unchanged (x + -0.0 == x for every x, zeros of both signs included).
    #[inline(always)]
    pub fn add_lanes(&mut self, outputs: &[f64; LANES]) {
        for (lane, &output) in self.lanes.iter_mut().zip(outputs) {
            *lane += output;
        }
    }

    /// The sum of all trees added: the lanes k and k + 4 first, then as a vector reduction
    /// halves them again.
    #[inline(always)]
    pub fn total(&self) -> f64 {
        let l = &self.lanes;
        ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
    }
}

/// The sum of `trees` tree outputs, `output(t)` for t in 0..trees, in the canonical order.
#[inline(always)]
pub fn sum_trees(trees: usize, mut output: impl FnMut(usize) -> f64) -> f64 {
    let mut sum = TreeSum::default();
    for start in (0..trees).step_by(LANES) {
        let mut outputs = [-0.0; LANES];
        for (k, o) in outputs.iter_mut().enumerate().take(trees - start) {
            *o = output(start + k);
        }
        sum.add_lanes(&outputs);
    }
    sum.total()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_trees_modulo_eight_added_pairwise() {
        // Values whose sum depends on the order: 1e16 absorbs a 1 added to it alone.
        let outputs = [1e16, 1.0, 1.0, 1.0, -1e16, 1.0, 1.0, 1.0, 1.0, 0.5];
        let expected = {
            let mut l = [-0.0; LANES];
            for (t, &o) in outputs.iter().enumerate() {
                l[t % LANES] += o;
            }
            ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
        };
        assert_eq!(sum_trees(outputs.len(), |t| outputs[t]).to_bits(), expected.to_bits());
        // Lane 0 holds 1e16 + 1.0 (tree 8) = 1e16, lane 4 -1e16: they cancel; the rest is exact.
        assert_eq!(expected, 6.5);
        // Tree order would have lost the ones added to 1e16.
        assert_ne!(outputs.iter().sum::<f64>(), expected);
    }

    #[test]
    fn zeros_keep_their_sign_and_no_trees_sum_to_negative_zero() {
        assert_eq!(sum_trees(0, |_| unreachable!()).to_bits(), (-0.0f64).to_bits());
        assert_eq!(sum_trees(3, |_| -0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(sum_trees(11, |t| if t == 9 { 0.0 } else { -0.0 }).to_bits(), 0.0f64.to_bits());
    }
}
