//! The trees as scoring walks them: every split of every tree in one array of 24-byte nodes
//! (threshold, input, children, rule), the leaf values in another, so a lead's walk through
//! hundreds of trees touches a few cache lines per tree instead of a `Node` of 80 bytes and
//! more per level. Built once per model from the [`Tree`]s, and scores bit for bit as they
//! do (`Tree::predict`): the same decisions and the same order of the sum (`tree_sum.rs`).

use crate::models::tree_sum::sum_trees;
use crate::models::trees::{MissingRule, Tree, ZERO_THRESHOLD};

/// A child index with this bit set is a leaf (the rest of the bits index `leaves`).
const LEAF: u32 = 1 << 31;

/// How a split decides, and where missing values go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Rule {
    /// NaN is read as 0 and compared.
    Numeric,
    /// Zero (and NaN, read as 0) goes to the default child.
    ZeroMissing,
    /// NaN goes to the default child.
    NanMissing,
    /// A category set: `threshold`'s bits hold the set's start and length in `categories`.
    Categorical,
}

#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct FlatNode {
    threshold: f64,
    input: u32,
    left: u32,
    right: u32,
    rule: Rule,
    /// Whether the default (missing) child is the left one.
    default_left: bool,
}

/// All the trees of a model, flattened.
#[derive(Debug, Clone, Default)]
pub struct FlatTrees {
    nodes: Vec<FlatNode>,
    leaves: Vec<f64>,
    categories: Vec<u32>,
    /// Per tree, its root: a node index, or a leaf (LEAF bit) for a tree of one leaf.
    roots: Vec<u32>,
}

impl FlatTrees {
    /// The flat form of `trees`; None when a tree has what it cannot hold: a missing branch of
    /// its own (forust-ml's third child), or more nodes than 31 bits count.
    pub fn new(trees: &[Tree]) -> Option<FlatTrees> {
        let mut flat = FlatTrees::default();
        for tree in trees {
            let root = flat.add(tree)?;
            flat.roots.push(root);
        }
        Some(flat)
    }

    /// Appends one tree; returns its root's child index.
    fn add(&mut self, tree: &Tree) -> Option<u32> {
        // Our index of each of the tree's nodes: splits into `nodes`, leaves into `leaves`.
        let mut index = Vec::with_capacity(tree.nodes.len());
        for n in &tree.nodes {
            if n.is_leaf {
                index.push(u32::try_from(self.leaves.len()).ok().filter(|&i| i < LEAF)? | LEAF);
                self.leaves.push(n.weight_value);
            } else {
                index.push(u32::try_from(self.nodes.len()).ok().filter(|&i| i < LEAF)?);
                let (threshold, rule) = match &n.categories {
                    Some(bits) => {
                        let (start, len) = (u32::try_from(self.categories.len()).ok()?, u32::try_from(bits.len()).ok()?);
                        self.categories.extend_from_slice(bits);
                        (f64::from_bits(u64::from(start) << 32 | u64::from(len)), Rule::Categorical)
                    }
                    None => (
                        n.split_value,
                        match n.missing {
                            MissingRule::None => Rule::Numeric,
                            MissingRule::Zero => Rule::ZeroMissing,
                            MissingRule::NaN => Rule::NanMissing,
                        },
                    ),
                };
                if n.missing_node != n.left_child && n.missing_node != n.right_child {
                    return None;
                }
                let input = u32::try_from(n.split_feature).ok()?;
                let default_left = n.missing_node == n.left_child;
                self.nodes.push(FlatNode { threshold, input, left: 0, right: 0, rule, default_left });
            }
        }
        // Children come after their parent (Tree::check), so every index is known now.
        for (i, n) in tree.nodes.iter().enumerate().filter(|(_, n)| !n.is_leaf) {
            let at = index[i] as usize;
            self.nodes[at].left = *index.get(n.left_child)?;
            self.nodes[at].right = *index.get(n.right_child)?;
        }
        index.first().copied()
    }

    /// Per tree, the leaf value `row` reaches, summed in the canonical order (`tree_sum.rs`).
    #[inline]
    pub fn sum(&self, row: &[f64]) -> f64 {
        sum_trees(self.roots.len(), |t| self.leaf_value(self.roots[t], row))
    }

    #[inline]
    fn leaf_value(&self, mut at: u32, row: &[f64]) -> f64 {
        while at & LEAF == 0 {
            let n = &self.nodes[at as usize];
            at = if self.goes_left(n, row[n.input as usize]) { n.left } else { n.right };
        }
        self.leaves[(at & !LEAF) as usize]
    }

    /// LightGBM's decision, as `Node::child_for` makes it.
    #[inline]
    fn goes_left(&self, n: &FlatNode, x: f64) -> bool {
        match n.rule {
            Rule::Numeric => (if x.is_nan() { 0.0 } else { x }) <= n.threshold,
            Rule::NanMissing => {
                if x.is_nan() {
                    n.default_left
                } else {
                    x <= n.threshold
                }
            }
            Rule::ZeroMissing => {
                let x = if x.is_nan() { 0.0 } else { x };
                if (-ZERO_THRESHOLD..=ZERO_THRESHOLD).contains(&x) {
                    n.default_left
                } else {
                    x <= n.threshold
                }
            }
            Rule::Categorical => {
                let bits = n.threshold.to_bits();
                let (start, len) = ((bits >> 32) as usize, (bits & u64::from(u32::MAX)) as usize);
                crate::models::trees::in_category_set(&self.categories[start..start + len], x)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<FlatNode>(), 24);
    }
}
