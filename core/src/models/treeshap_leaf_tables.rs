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
//! G depends only on the leaf and a subset of U, so it is tabulated once per model; and so is,
//! for each hot set H, the whole row of the leaf's d shares above (2^d rows of d values per
//! leaf), so a lead costs one mask per node, then per leaf one row read and d additions.

use crate::models::trees::Tree;

/// Table entries one tree may use (8 bytes each): bounds the memory of very deep trees, which
/// fall back to Algorithm 2.
pub const TREE_TABLE_BUDGET: usize = 1 << 16;
/// Distinct features on one leaf's path above which a tree falls back (masks are u32).
const MAX_LEAF_FEATURES: usize = 20;

/// Leaves between the one being added and the one whose table entries are being fetched: the
/// entries a lead reads are scattered over megabytes of tables, and waiting for each in turn
/// was most of an explanation's time.
const PREFETCH_LEAVES_AHEAD: usize = 4;

/// A hint to bring `x`'s cache line closer; no effect on results.
#[inline(always)]
fn prefetch<T>(x: &T) {
    // SAFETY: SSE is part of every x86-64 CPU, and a prefetch reads nothing the program sees
    // (here the address is also that of a live reference).
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((x as *const T).cast::<i8>())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

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
    /// Where its slots' features start in `features`.
    slots_at: u32,
    /// Where its rows start in `shares`.
    rows_at: u32,
}

/// One distinct feature of a leaf's path, while the tables are built.
#[derive(Clone, Copy)]
struct Slot {
    feature: u32,
    /// z: the product of the cover shares of the path's splits on this feature.
    zero: f64,
}

/// The per-leaf tables of one tree.
pub struct LeafTables {
    splits: Vec<Split>,
    leaves: Vec<Leaf>,
    /// The feature of each slot of each leaf, leaves concatenated.
    features: Vec<u32>,
    /// Per leaf and hot set H (bit s = slot s), the share each slot's feature gets: a row of d
    /// values, rows in order of H, leaves concatenated.
    shares: Vec<f64>,
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
        let entries: usize = counts.iter().map(|&d| d << d).sum();
        if entries > budget {
            return None;
        }
        let mut tables =
            LeafTables { splits: Vec::new(), leaves: Vec::new(), features: Vec::new(), shares: Vec::with_capacity(entries) };
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
                    child_path.push(Slot { feature, zero: 1.0 });
                }
                child_path[slot].zero *= share;
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
            slots_at: self.features.len() as u32,
            rows_at: self.shares.len() as u32,
        });
        self.features.extend(path.iter().map(|s| s.feature));
        // w[s] = s!(d-1-s)!/d!, the Shapley weight of a coalition of s of the other d-1 features.
        let mut w = vec![1.0 / d as f64; d];
        for s in 1..d {
            w[s] = w[s - 1] * s as f64 / (d - s) as f64;
        }
        let mut values = vec![0.0; 1 << d];
        let zero: Vec<f64> = path.iter().map(|s| s.zero).collect();
        let mut e = [0.0; MAX_LEAF_FEATURES + 1];
        e[0] = 1.0;
        fill_subsets(&zero, &w, value, 0, 0, 0, e, &mut values);
        for hot in 0..1usize << d {
            // P, the cold slots' cover product, multiplied in slot order.
            let mut p = 1.0;
            for (s, &z) in zero.iter().enumerate() {
                if (hot >> s) & 1 == 0 {
                    p *= z;
                }
            }
            if p == 0.0 {
                // Every share carries P. Zeros rather than -0 x G: adding +0 leaves a sum that
                // starts at +0 as it is, and an infinite G cannot turn it into NaN.
                self.shares.extend(std::iter::repeat_n(0.0, d));
                continue;
            }
            let cold_share = -p * values[hot];
            self.shares.extend(zero.iter().enumerate().map(|(s, &z)| {
                if (hot >> s) & 1 == 0 {
                    cold_share
                } else {
                    p * (1.0 - z) * values[hot ^ (1 << s)]
                }
            }));
        }
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
        for (k, leaf) in self.leaves.iter().enumerate() {
            if let Some(ahead) = self.leaves.get(k + PREFETCH_LEAVES_AHEAD) {
                self.prefetch(ahead, cold[ahead.node as usize]);
            }
            let d = leaf.features as usize;
            let hot = !cold[leaf.node as usize] as usize & ((1 << d) - 1);
            let features = &self.features[leaf.slots_at as usize..][..d];
            let row = &self.shares[leaf.rows_at as usize + hot * d..][..d];
            for (&feature, &share) in features.iter().zip(row) {
                phi[feature as usize] += share;
            }
        }
    }

    /// Asks the CPU to start loading what [`Self::add_contributions`] reads of `leaf` for a lead
    /// whose cold mask there is `cold`: its slots' features and the row of its hot set (d of at
    /// most 20 values: up to three cache lines).
    #[inline]
    fn prefetch(&self, leaf: &Leaf, cold: u32) {
        let d = leaf.features as usize;
        let hot = !cold as usize & ((1 << d) - 1);
        let row = &self.shares[leaf.rows_at as usize + hot * d..][..d];
        prefetch(&self.features[leaf.slots_at as usize]);
        for at in (0..d).step_by(8) {
            prefetch(&row[at]);
        }
        prefetch(&row[d - 1]);
    }

    /// Table entries this tree holds.
    pub fn entries(&self) -> usize {
        self.shares.len()
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
