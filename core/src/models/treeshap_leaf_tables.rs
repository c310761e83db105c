//! Fast TreeSHAP v2 (Yang 2021) for one tree: exact path-dependent SHAP values in
//! O(leaves x depth) per lead instead of Algorithm 2's O(leaves x depth^2), by precomputing
//! per leaf everything that does not depend on the lead.
//!
//! Why it works: for a leaf with value v whose path splits on the distinct features U (d of
//! them), feature j has a cover fraction z_j (the product of the cover shares of the path's
//! splits on j) and a lead-dependent o_j (1 when the lead follows all those splits, else 0).
//! The leaf's part of feature i's Shapley value is
//!   v (o_i - z_i) sum over S in U\{i} of |S|!(d-|S|-1)!/d! prod_{j in S} o_j prod_{j in U\S\{i}} z_j.
//! Terms with a cold feature (o_j = 0) in S vanish, so with H the lead's hot features and
//! C = U\H, P = prod_{j in C} z_j and G(T) = v sum over S in T of w(|S|) prod_{j in T\S} z_j:
//!   cold i: -P G(H)              hot i: (1 - z_i) P G(H\{i})
//! G depends only on the leaf and a subset of U, so it is tabulated once per model (2^d values
//! per leaf); a lead then costs one mask per node and O(d) work per leaf.

use crate::models::trees::Tree;

/// Table entries one tree may use (8 bytes each): bounds the memory of very deep trees, which
/// fall back to Algorithm 2.
pub const TREE_TABLE_BUDGET: usize = 1 << 16;
/// Distinct features on one leaf's path above which a tree falls back (masks are u32).
const MAX_LEAF_FEATURES: usize = 20;

/// Elementary symmetric polynomials e_0..e_k of a set of z's.
type Symmetric = [f64; MAX_LEAF_FEATURES + 1];

/// An internal node: its children and the slot (position among its path's distinct features,
/// by first appearance) of its split feature. Parents come before children.
struct Split {
    node: u32,
    slot: u8,
    kid_count: u8,
    kids: [u32; 3],
}

struct Leaf {
    node: u32,
    features: u8,
    slots_at: u32,
    values_at: u32,
}

/// One distinct feature of a leaf's path.
#[derive(Clone, Copy)]
struct Slot {
    feature: u32,
    /// z: the product of the cover shares of the path's splits on this feature.
    zero: f64,
    /// 1 - z, kept to save a subtraction per lead.
    one_minus_zero: f64,
}

/// The per-leaf tables of one tree.
pub struct LeafTables {
    splits: Vec<Split>,
    leaves: Vec<Leaf>,
    slots: Vec<Slot>,
    /// G(T) for each leaf and each subset T of its slots (bit s = slot s), leaves concatenated.
    values: Vec<f64>,
}

/// The children of node `i` (left, right, and a separate missing branch if it has one).
pub fn children(tree: &Tree, i: usize) -> [Option<usize>; 3] {
    let n = &tree.nodes[i];
    let missing = (n.missing_node != n.left_child && n.missing_node != n.right_child && n.missing_node < tree.nodes.len())
        .then_some(n.missing_node);
    [Some(n.left_child), Some(n.right_child), missing]
}

/// Covers are the nodes' training row counts, as LightGBM's TreeSHAP uses them.
pub fn cover(tree: &Tree, i: usize) -> f64 {
    tree.nodes[i].cover
}

/// Distinct features on the path to each leaf, or None if the tree is deeper than masks allow.
fn leaf_feature_counts(tree: &Tree, node: usize, path: &mut Vec<usize>, out: &mut Vec<usize>) -> Option<()> {
    let n = &tree.nodes[node];
    if n.is_leaf {
        out.push(path.len());
        return Some(());
    }
    let added = !path.contains(&n.split_feature);
    if added {
        path.push(n.split_feature);
        if path.len() > MAX_LEAF_FEATURES {
            return None;
        }
    }
    for c in children(tree, node).into_iter().flatten() {
        leaf_feature_counts(tree, c, path, out)?;
    }
    if added {
        path.pop();
    }
    Some(())
}

impl LeafTables {
    /// The tables of `tree`, or None when they would take more than `budget` entries.
    pub fn new(tree: &Tree, budget: usize) -> Option<LeafTables> {
        if tree.nodes.is_empty() || tree.nodes.len() > u32::MAX as usize {
            return None;
        }
        let mut counts = Vec::new();
        leaf_feature_counts(tree, 0, &mut Vec::new(), &mut counts)?;
        let entries: usize = counts.iter().map(|&d| if d > 0 { 1usize << d } else { 0 }).sum();
        if entries > budget {
            return None;
        }
        let mut tables =
            LeafTables { splits: Vec::new(), leaves: Vec::new(), slots: Vec::new(), values: Vec::with_capacity(entries) };
        let mut pending = std::collections::VecDeque::from([(0usize, Vec::<Slot>::new())]);
        // Breadth first, so each node's mask is set before its children read it.
        while let Some((node, path)) = pending.pop_front() {
            let n = &tree.nodes[node];
            if n.is_leaf {
                tables.add_leaf(node, &path, n.weight_value);
                continue;
            }
            let feature = n.split_feature as u32;
            let slot = path.iter().position(|s| s.feature == feature).unwrap_or(path.len());
            let kids: Vec<usize> = children(tree, node).into_iter().flatten().collect();
            let total: f64 = kids.iter().map(|&c| cover(tree, c)).sum();
            let mut split = Split { node: node as u32, slot: slot as u8, kid_count: kids.len() as u8, kids: [0; 3] };
            for (k, &c) in kids.iter().enumerate() {
                split.kids[k] = c as u32;
                let share = if total > 0.0 { cover(tree, c) / total } else { 0.0 };
                let mut child_path = path.clone();
                if slot == path.len() {
                    child_path.push(Slot { feature, zero: 1.0, one_minus_zero: 0.0 });
                }
                let s = &mut child_path[slot];
                s.zero *= share;
                s.one_minus_zero = 1.0 - s.zero;
                pending.push_back((c, child_path));
            }
            tables.splits.push(split);
        }
        Some(tables)
    }

    fn add_leaf(&mut self, node: usize, path: &[Slot], value: f64) {
        let d = path.len();
        if d == 0 {
            return; // a lone leaf: no feature moves it away from its expected value
        }
        self.leaves.push(Leaf {
            node: node as u32,
            features: d as u8,
            slots_at: self.slots.len() as u32,
            values_at: self.values.len() as u32,
        });
        self.slots.extend_from_slice(path);
        // w[s] = s!(d-1-s)!/d!, the Shapley weight of a coalition of s of the other d-1 features.
        let mut w = vec![1.0 / d as f64; d];
        for s in 1..d {
            w[s] = w[s - 1] * s as f64 / (d - s) as f64;
        }
        let start = self.values.len();
        self.values.resize(start + (1 << d), 0.0);
        let zero: Vec<f64> = path.iter().map(|s| s.zero).collect();
        let mut e = [0.0; MAX_LEAF_FEATURES + 1];
        e[0] = 1.0;
        fill_subsets(&zero, &w, value, 0, 0, 0, e, &mut self.values[start..]);
    }

    /// Adds this tree's part of each feature's contribution to `phi`. `cold` is scratch of at
    /// least the tree's node count.
    pub fn add_contributions(&self, tree: &Tree, row: &[f64], cold: &mut [u32], phi: &mut [f64]) {
        // cold[node]: bit s set when the lead leaves the path to `node` at a split on slot s.
        cold[0] = 0;
        for s in &self.splits {
            let n = &tree.nodes[s.node as usize];
            let hot = n.child_for(row[n.split_feature]);
            let parent = cold[s.node as usize];
            let bit = 1u32 << s.slot;
            for &c in &s.kids[..s.kid_count as usize] {
                cold[c as usize] = if c as usize == hot { parent } else { parent | bit };
            }
        }
        for leaf in &self.leaves {
            let d = leaf.features as usize;
            let slots = &self.slots[leaf.slots_at as usize..][..d];
            let values = &self.values[leaf.values_at as usize..][..1 << d];
            let cold = cold[leaf.node as usize];
            let mut p = 1.0;
            for (s, slot) in slots.iter().enumerate() {
                if (cold >> s) & 1 == 1 {
                    p *= slot.zero;
                }
            }
            if p == 0.0 {
                continue; // every term carries the cold features' cover product
            }
            let hot = !cold & ((1u32 << d) - 1);
            let cold_share = -p * values[hot as usize];
            for (s, slot) in slots.iter().enumerate() {
                phi[slot.feature as usize] +=
                    if (cold >> s) & 1 == 1 { cold_share } else { p * slot.one_minus_zero * values[(hot ^ (1 << s)) as usize] };
            }
        }
    }

    /// Table entries this tree holds.
    pub fn entries(&self) -> usize {
        self.values.len()
    }
}

/// Walks the subsets T of slots `slot..`, carrying the elementary symmetric polynomials `e` of
/// the z's already chosen, and stores G(T) = v sum_k e_k w(|T| - k) at `out[mask]`.
#[allow(clippy::too_many_arguments)]
fn fill_subsets(zero: &[f64], w: &[f64], value: f64, slot: usize, mask: usize, size: usize, e: Symmetric, out: &mut [f64]) {
    let d = zero.len();
    if slot == d {
        // T = all slots is never looked up (some feature must be outside T): leave it 0.
        if size < d {
            out[mask] = value * (0..=size).map(|k| e[k] * w[size - k]).sum::<f64>();
        }
        return;
    }
    fill_subsets(zero, w, value, slot + 1, mask, size, e, out);
    let mut with = e;
    for k in (1..=size + 1).rev() {
        with[k] += with[k - 1] * zero[slot];
    }
    fill_subsets(zero, w, value, slot + 1, mask | (1 << slot), size + 1, with, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::trees::{MissingRule, Node};

    /// x0 <= 0.5 -> 1.0 (cover 3), else -1.0 (cover 1), missing -> 2.0 (cover 4).
    fn stump() -> Tree {
        let root = Node {
            is_leaf: false,
            split_value: 0.5,
            missing: MissingRule::NaN,
            missing_node: 3,
            left_child: 1,
            right_child: 2,
            ..Node::leaf(0.0, 8.0)
        };
        Tree { nodes: vec![root, Node::leaf(1.0, 3.0), Node::leaf(-1.0, 1.0), Node::leaf(2.0, 4.0)] }
    }

    #[test]
    fn a_stump_gives_its_feature_the_whole_difference_from_the_expected_value() {
        let tree = stump();
        let tables = LeafTables::new(&tree, 100).unwrap();
        assert_eq!(tables.entries(), 6); // three leaves, one feature each
        let expected = (3.0 - 1.0 + 8.0) / 8.0;
        for (x, value) in [(0.2, 1.0), (0.7, -1.0), (f64::NAN, 2.0)] {
            let (mut phi, mut cold) = (vec![0.0; 2], vec![0; 4]);
            tables.add_contributions(&tree, &[x, 9.0], &mut cold, &mut phi);
            assert!((phi[0] - (value - expected)).abs() < 1e-12, "x = {x}: {}", phi[0]);
            assert_eq!(phi[1], 0.0);
        }
    }

    #[test]
    fn tables_over_the_budget_are_not_built() {
        assert!(LeafTables::new(&stump(), 5).is_none());
        assert!(LeafTables::new(&Tree::default(), 100).is_none());
    }
}
