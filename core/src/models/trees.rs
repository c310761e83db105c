//! The project's own decision trees: what TreeSHAP explains and scoring sums (in the faster forms
//! built from them, `leaf_masks.rs` and `flat_trees.rs`, which score bit for bit alike). LightGBM's
//! trees are converted into this form when a model is loaded (`lightgbm_text.rs`), so a lead is
//! scored without an FFI call per row and explained with our TreeSHAP.
//!
//! Nodes are numbered so that children come after their parent (the root is node 0).

pub const MAX_TREES: usize = 100_000;
pub const MAX_TREE_DEPTH: usize = 64;

/// LightGBM's `kZeroThreshold` (`1e-35f`, a float widened to double): numbers this close to 0
/// count as zero for [`MissingRule::Zero`] and are left out of the sample LightGBM bins from.
pub const ZERO_THRESHOLD: f64 = 1e-35f32 as f64;

/// Which inputs a split sends to its missing branch, as LightGBM decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingRule {
    /// No missing branch: NaN is read as 0 and compared like any number.
    None,
    /// Zero (and NaN, read as 0) takes the missing branch.
    Zero,
    /// NaN takes the missing branch.
    NaN,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub is_leaf: bool,
    /// A leaf's output (log-odds); unused for splits.
    pub weight_value: f64,
    /// Training rows through this node: the cover TreeSHAP weighs branches by.
    pub cover: f64,
    pub split_feature: usize,
    /// Inputs at or below it go left.
    pub split_value: f64,
    pub missing: MissingRule,
    pub left_child: usize,
    pub right_child: usize,
    /// Where missing inputs go: the left or right child, or a third branch of its own.
    pub missing_node: usize,
    /// A categorical split (LightGBM's): the categories that go left, as its bitset (category c
    /// is bit c % 32 of word c / 32); any other category, a negative number and NaN go right.
    /// None for a numeric split.
    pub categories: Option<Box<[u32]>>,
}

impl Node {
    pub fn leaf(value: f64, cover: f64) -> Node {
        Node {
            is_leaf: true,
            weight_value: value,
            cover,
            split_feature: 0,
            split_value: 0.0,
            missing: MissingRule::None,
            left_child: 0,
            right_child: 0,
            missing_node: 0,
            categories: None,
        }
    }

    /// The child an input goes to (LightGBM's `NumericalDecision` or `CategoricalDecision`).
    #[inline]
    pub fn child_for(&self, x: f64) -> usize {
        if let Some(bits) = &self.categories {
            return if in_category_set(bits, x) { self.left_child } else { self.right_child };
        }
        let x = if x.is_nan() && self.missing != MissingRule::NaN { 0.0 } else { x };
        let missing = match self.missing {
            MissingRule::None => false,
            MissingRule::Zero => (-ZERO_THRESHOLD..=ZERO_THRESHOLD).contains(&x),
            MissingRule::NaN => x.is_nan(),
        };
        if missing {
            self.missing_node
        } else if x <= self.split_value {
            self.left_child
        } else {
            self.right_child
        }
    }
}

/// Whether category `x` (a code; truncated toward zero as C++'s int cast does) is in `bits`.
#[inline]
pub(crate) fn in_category_set(bits: &[u32], x: f64) -> bool {
    // C++'s cast makes (-1, 0) category 0 and anything at or below -1 negative (right); NaN
    // fails both comparisons. Rust's `as` truncates toward zero like the cast (and is inlined,
    // where `trunc()` was a call into libm: 6% of scoring).
    if !(x > -1.0 && x < i32::MAX as f64) {
        return false;
    }
    let c = x as usize;
    bits.get(c / 32).is_some_and(|w| (w >> (c % 32)) & 1 == 1)
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The leaf value a row of inputs reaches.
    #[inline]
    pub fn predict(&self, row: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            let n = &self.nodes[i];
            if n.is_leaf {
                return n.weight_value;
            }
            i = n.child_for(row[n.split_feature]);
        }
    }

    /// Whether the tree can score rows of `inputs` inputs safely and correctly: every split's
    /// children come after it (so no walk can loop) and every node but the root has exactly one
    /// parent (so every node is reached once); split features within the inputs; finite
    /// numbers; depth at most [`MAX_TREE_DEPTH`] (explanations recurse and size buffers by depth).
    pub fn check(&self, inputs: usize) -> Result<(), String> {
        let n = self.nodes.len();
        if n == 0 {
            return Err("it has no nodes".into());
        }
        let mut parents = vec![0u8; n];
        let mut depth = vec![0usize; n];
        for (i, node) in self.nodes.iter().enumerate() {
            if !node.weight_value.is_finite() || !node.cover.is_finite() || node.cover < 0.0 {
                return Err(format!("node {i} has weight {} and cover {}", node.weight_value, node.cover));
            }
            if i > 0 && parents[i] != 1 {
                return Err(format!("node {i} has {} parents", parents[i]));
            }
            if node.is_leaf {
                continue;
            }
            if node.split_feature >= inputs || node.split_value.is_nan() {
                return Err(format!(
                    "node {i} splits input {} at {} (the model has {inputs} inputs)",
                    node.split_feature, node.split_value
                ));
            }
            let mut children = vec![node.left_child, node.right_child];
            if node.missing_node != node.left_child && node.missing_node != node.right_child {
                children.push(node.missing_node);
            }
            if node.left_child == node.right_child {
                return Err(format!("node {i} has the same left and right child"));
            }
            for c in children {
                if c <= i || c >= n {
                    return Err(format!("node {i} points to node {c} (children come after their parent, {n} nodes)"));
                }
                parents[c] = parents[c].saturating_add(1);
                depth[c] = depth[i] + 1;
                if depth[c] > MAX_TREE_DEPTH {
                    return Err(format!("it is deeper than {MAX_TREE_DEPTH} levels"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(feature: usize, at: f64, missing: MissingRule, default_left: bool) -> Node {
        Node {
            is_leaf: false,
            split_feature: feature,
            split_value: at,
            missing,
            left_child: 1,
            right_child: 2,
            missing_node: if default_left { 1 } else { 2 },
            ..Node::leaf(0.0, 2.0)
        }
    }

    #[test]
    fn splits_route_numbers_and_missing_values_as_lightgbm_does() {
        // (rule, default left, input, child)
        let cases = [
            (MissingRule::NaN, false, 0.5, 1),
            (MissingRule::NaN, false, 0.50001, 2),
            (MissingRule::NaN, false, f64::NAN, 2),
            (MissingRule::NaN, true, f64::NAN, 1),
            (MissingRule::NaN, false, 0.0, 1),
            (MissingRule::None, false, f64::NAN, 1), // NaN read as 0 <= 0.5
            (MissingRule::Zero, false, 0.0, 2),
            (MissingRule::Zero, false, f64::NAN, 2),
            (MissingRule::Zero, true, 1e-36, 1),
            (MissingRule::Zero, false, 1e-30, 1),
        ];
        for (rule, left, x, child) in cases {
            assert_eq!(split(0, 0.5, rule, left).child_for(x), child, "{rule:?} default left {left}, x = {x}");
        }
    }

    #[test]
    fn a_tree_that_loops_or_reads_past_its_inputs_fails_its_check() {
        let good = Tree { nodes: vec![split(1, 0.5, MissingRule::NaN, true), Node::leaf(1.0, 1.0), Node::leaf(-1.0, 1.0)] };
        assert_eq!(good.check(2), Ok(()));
        assert_eq!(good.predict(&[0.0, 0.7]), -1.0);
        assert!(good.check(1).unwrap_err().contains("splits input 1"));
        let mut looping = good.clone();
        looping.nodes[0].right_child = 0;
        assert!(looping.check(2).unwrap_err().contains("points to node 0"));
        assert!(Tree::default().check(2).unwrap_err().contains("no nodes"));
    }
}
