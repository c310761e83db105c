//! The one order in which a model's tree outputs are added up, used by every path that sums
//! trees (the node walk `Tree::predict` through `walked_sum`, the flat nodes, the leaf masks,
//! and through `GbmModel::log_odds` the training pipeline's predictions and explanations), so
//! that all of them give the same score to the last bit.
//!
//! The order is tree order from -0.0 (as `Iterator::sum` of f64 starts, so a sum of negative
//! zeros keeps its sign): LightGBM's own order, and the order every model scored by an earlier
//! release was scored in, so stored scores stay bit for bit (`tests/durability/upgrade.sh`).
//! Adding in several lanes instead (tree `t` in lane `t % 8`, the lanes added pairwise) was
//! tried to shorten the chain of 300 dependent additions; it changed scores by rounding and no
//! measurement showed it faster (BENCHMARKS.md), so it was not kept. A different order would
//! be changed here only, and every path would follow.

/// Partial sum of tree outputs in the canonical order; see the module comment.
#[derive(Debug, Clone, Copy)]
pub struct TreeSum {
    sum: f64,
}

impl Default for TreeSum {
    fn default() -> Self {
        TreeSum { sum: -0.0 }
    }
}

impl TreeSum {
    /// Adds the output of the next tree. A padding tree past the model's last may add -0.0,
    /// which leaves any sum unchanged (x + -0.0 == x for every x, zeros of both signs included).
    #[inline(always)]
    pub fn add(&mut self, output: f64) {
        self.sum += output;
    }

    /// The sum of all trees added.
    #[inline(always)]
    pub fn total(&self) -> f64 {
        self.sum
    }
}

/// The sum of `trees` tree outputs, `output(t)` for t in 0..trees, in the canonical order.
#[inline(always)]
pub fn sum_trees(trees: usize, mut output: impl FnMut(usize) -> f64) -> f64 {
    let mut sum = TreeSum::default();
    for t in 0..trees {
        sum.add(output(t));
    }
    sum.total()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_are_added_in_tree_order() {
        // Values whose sum depends on the order: 1e16 absorbs a 1 added to it alone.
        let outputs = [1e16, 1.0, 1.0, 1.0, -1e16, 1.0, 1.0, 1.0, 1.0, 0.5];
        let mut expected = -0.0;
        for &o in &outputs {
            expected += o;
        }
        assert_eq!(sum_trees(outputs.len(), |t| outputs[t]).to_bits(), expected.to_bits());
        // The ones added to 1e16 are lost: what tree order gives, not what another order would.
        assert_eq!(expected, 4.5);
    }

    #[test]
    fn zeros_keep_their_sign_and_no_trees_sum_to_negative_zero() {
        assert_eq!(sum_trees(0, |_| unreachable!()).to_bits(), (-0.0f64).to_bits());
        assert_eq!(sum_trees(3, |_| -0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(sum_trees(11, |t| if t == 9 { 0.0 } else { -0.0 }).to_bits(), 0.0f64.to_bits());
    }
}
