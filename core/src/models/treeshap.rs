//! Exact path-dependent TreeSHAP over the model's trees ([`crate::models::trees`]). Each tree uses Fast TreeSHAP v2's
//! per-leaf tables ([`LeafTables`], O(leaves x depth) per lead) when they fit the memory budget,
//! else Lundberg, Erion & Lee's Algorithm 2 (O(leaves x depth^2), no tables), which also serves
//! as the reference the tables are tested against. Tables and each tree's expected value are
//! computed once per model, not once per explanation. Covers are the nodes' training row
//! counts, as LightGBM's own TreeSHAP uses them.

use crate::models::trees::Tree;

use crate::models::treeshap_leaf_tables::{children, cover, LeafTables, TREE_TABLE_BUDGET};

/// Table entries (8 bytes each) one model may use; trees past it fall back to Algorithm 2.
pub const MODEL_TABLE_BUDGET: usize = 1 << 22;

#[derive(Clone, Copy, Default)]
struct PathElement {
    feature: isize,
    zero_fraction: f64,
    one_fraction: f64,
    weight: f64,
}

/// Per-tree constants computed once.
pub struct TreeShapPlan {
    expected: Vec<f64>,
    /// Fast TreeSHAP v2 tables, None for trees that use Algorithm 2.
    tables: Vec<Option<LeafTables>>,
    max_nodes: usize,
    buffer_len: usize,
    /// 1/k for k = 0..=depth+2 (entry 0 unused): the inner loops multiply instead of divide.
    recip: Vec<f64>,
}

fn expected_value(tree: &Tree, i: usize) -> f64 {
    let n = &tree.nodes[i];
    if n.is_leaf {
        return n.weight_value;
    }
    let (mut sum, mut total) = (0.0, 0.0);
    for c in children(tree, i).into_iter().flatten() {
        sum += cover(tree, c) * expected_value(tree, c);
        total += cover(tree, c);
    }
    if total > 0.0 {
        sum / total
    } else {
        0.0
    }
}

fn max_depth(tree: &Tree, i: usize) -> usize {
    if tree.nodes[i].is_leaf {
        return 0;
    }
    1 + children(tree, i).into_iter().flatten().map(|c| max_depth(tree, c)).max().unwrap_or(0)
}

impl TreeShapPlan {
    pub fn new(trees: &[Tree]) -> TreeShapPlan {
        TreeShapPlan::with_budgets(trees, TREE_TABLE_BUDGET, MODEL_TABLE_BUDGET)
    }

    /// Tables for each tree in order while they fit both budgets (in table entries).
    pub fn with_budgets(trees: &[Tree], per_tree: usize, per_model: usize) -> TreeShapPlan {
        let depth = trees.iter().map(|t| max_depth(t, 0)).max().unwrap_or(0) + 2;
        let mut left = per_model;
        let tables = trees
            .iter()
            .map(|t| {
                let table = LeafTables::new(t, per_tree.min(left))?;
                left -= table.entries();
                Some(table)
            })
            .collect();
        TreeShapPlan {
            expected: trees.iter().map(|t| expected_value(t, 0)).collect(),
            tables,
            max_nodes: trees.iter().map(|t| t.nodes.len()).max().unwrap_or(0),
            buffer_len: depth * (depth + 1) / 2 + depth,
            recip: (0..depth + 3).map(|k| if k == 0 { 0.0 } else { 1.0 / k as f64 }).collect(),
        }
    }

    /// Trees explained with Algorithm 2 because their tables did not fit.
    #[cfg(test)]
    pub fn trees_without_tables(&self) -> usize {
        self.tables.iter().filter(|t| t.is_none()).count()
    }

    /// Adds each feature's contribution over `trees` to `phi`; returns the sum of the trees'
    /// expected values (the base value, before the booster's base score).
    pub fn contributions(&self, trees: &[Tree], row: &[f64], phi: &mut [f64]) -> f64 {
        let mut cold = vec![0u32; self.max_nodes];
        let mut path = Vec::new();
        let mut base = 0.0;
        for (t, tree) in trees.iter().enumerate() {
            base += self.expected[t];
            match &self.tables[t] {
                Some(tables) => tables.add_contributions(tree, row, &mut cold, phi),
                None => {
                    path.resize(self.buffer_len, PathElement::default());
                    recurse(tree, row, phi, &self.recip, 0, &mut path, 0, 0, 1.0, 1.0, -1);
                }
            }
        }
        base
    }

    /// Algorithm 2 for every tree: the reference the tables are tested against.
    #[cfg(test)]
    pub(crate) fn path_contributions(&self, trees: &[Tree], row: &[f64], phi: &mut [f64]) {
        let mut path = vec![PathElement::default(); self.buffer_len];
        for tree in trees {
            recurse(tree, row, phi, &self.recip, 0, &mut path, 0, 0, 1.0, 1.0, -1);
        }
    }
}

fn extend(path: &mut [PathElement], r: &[f64], depth: usize, zero_fraction: f64, one_fraction: f64, feature: isize) {
    path[depth] = PathElement { feature, zero_fraction, one_fraction, weight: if depth == 0 { 1.0 } else { 0.0 } };
    let rd = r[depth + 1];
    for i in (0..depth).rev() {
        path[i + 1].weight += one_fraction * path[i].weight * (i + 1) as f64 * rd;
        path[i].weight = zero_fraction * path[i].weight * (depth - i) as f64 * rd;
    }
}

fn unwind(path: &mut [PathElement], r: &[f64], depth: usize, index: usize) {
    let (one, zero) = (path[index].one_fraction, path[index].zero_fraction);
    let (inv_one, inv_zero) = (if one != 0.0 { 1.0 / one } else { 0.0 }, if zero != 0.0 { 1.0 / zero } else { 0.0 });
    let (d1, rd) = ((depth + 1) as f64, r[depth + 1]);
    let mut next = path[depth].weight;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next * d1 * r[i + 1] * inv_one;
            next = tmp - path[i].weight * zero * (depth - i) as f64 * rd;
        } else {
            path[i].weight = path[i].weight * d1 * r[depth - i] * inv_zero;
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

fn unwound_sum(path: &[PathElement], r: &[f64], depth: usize, index: usize) -> f64 {
    let (one, zero) = (path[index].one_fraction, path[index].zero_fraction);
    let (inv_one, inv_zero) = (if one != 0.0 { 1.0 / one } else { 0.0 }, if zero != 0.0 { 1.0 / zero } else { 0.0 });
    let (d1, rd) = ((depth + 1) as f64, r[depth + 1]);
    let mut next = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = next * d1 * r[i + 1] * inv_one;
            total += tmp;
            next = path[i].weight - tmp * zero * (depth - i) as f64 * rd;
        } else {
            total += path[i].weight * inv_zero * d1 * r[depth - i];
        }
    }
    total
}

/// `path[offset..]` holds this node's path (a copy of the parent's, extended); children get the
/// segment after it, so nothing is allocated while walking.
#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    row: &[f64],
    phi: &mut [f64],
    r: &[f64],
    node: usize,
    buffer: &mut [PathElement],
    offset: usize,
    mut depth: usize,
    zero_fraction: f64,
    one_fraction: f64,
    feature: isize,
) {
    let (parent, this) = buffer.split_at_mut(offset);
    if offset > 0 {
        // The parent's path occupies the `depth` elements just before `offset`.
        this[..depth].copy_from_slice(&parent[offset - depth..offset]);
    }
    let path = &mut this[..];
    extend(path, r, depth, zero_fraction, one_fraction, feature);
    let n = &tree.nodes[node];
    if n.is_leaf {
        for i in 1..=depth {
            let w = unwound_sum(path, r, depth, i);
            let el = path[i];
            phi[el.feature as usize] += w * (el.one_fraction - el.zero_fraction) * n.weight_value;
        }
        return;
    }
    let hot = n.child_for(row[n.split_feature]);
    let kids = children(tree, node);
    let total: f64 = kids.iter().flatten().map(|&c| cover(tree, c)).sum();
    let (mut incoming_zero, mut incoming_one) = (1.0, 1.0);
    let split = n.split_feature as isize;
    if let Some(k) = (1..=depth).find(|&k| path[k].feature == split) {
        // Splitting on a feature already on the path: undo its earlier split first.
        incoming_zero = path[k].zero_fraction;
        incoming_one = path[k].one_fraction;
        unwind(path, r, depth, k);
        depth -= 1;
    }
    let next = offset + depth + 1;
    for c in kids.into_iter().flatten() {
        let share = if total > 0.0 { cover(tree, c) / total } else { 0.0 };
        let one = if c == hot { incoming_one } else { 0.0 };
        recurse(tree, row, phi, r, c, buffer, next, depth + 1, share * incoming_zero, one, split);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SeededRng;
    use crate::models::trees::{MissingRule, Node};

    fn unit(rng: &mut SeededRng) -> f64 {
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Grows a random subtree at `nodes.len()`, children after their parent:
    /// features repeat on paths, a quarter of the splits have a separate missing branch, and
    /// some leaves (so some whole branches) have zero cover.
    fn grow(rng: &mut SeededRng, nodes: &mut Vec<Node>, depth: usize, max_depth: usize, features: usize) -> usize {
        let at = nodes.len();
        nodes.push(Node::leaf(0.0, 0.0));
        if depth == max_depth || (depth > 0 && unit(rng) < 0.3) {
            nodes[at].weight_value = unit(rng) * 2.0 - 1.0;
            nodes[at].cover = if unit(rng) < 0.15 { 0.0 } else { unit(rng) * 10.0 };
            return at;
        }
        let left = grow(rng, nodes, depth + 1, max_depth, features);
        let right = grow(rng, nodes, depth + 1, max_depth, features);
        let missing = match rng.below(4) {
            0 => grow(rng, nodes, depth + 1, max_depth, features),
            1 => left,
            _ => right,
        };
        let mut cover = nodes[left].cover + nodes[right].cover;
        if missing != left && missing != right {
            cover += nodes[missing].cover;
        }
        let n = &mut nodes[at];
        n.is_leaf = false;
        n.split_feature = rng.below(features);
        n.split_value = unit(rng);
        n.cover = cover;
        n.missing = MissingRule::NaN;
        (n.left_child, n.right_child, n.missing_node) = (left, right, missing);
        at
    }

    fn forest(seed: u64, count: usize, max_depth: usize, features: usize) -> Vec<Tree> {
        let mut rng = SeededRng::new(seed);
        (0..count)
            .map(|_| {
                let mut nodes = Vec::new();
                grow(&mut rng, &mut nodes, 0, max_depth, features);
                Tree { nodes }
            })
            .collect()
    }

    fn leads(seed: u64, count: usize, features: usize) -> Vec<Vec<f64>> {
        let mut rng = SeededRng::new(seed);
        (0..count)
            .map(|_| (0..features).map(|_| if unit(&mut rng) < 0.2 { f64::NAN } else { unit(&mut rng) }).collect())
            .collect()
    }

    /// The plan's values equal Algorithm 2's to 1e-9 and add up to the trees' prediction.
    fn assert_matches_algorithm_2(plan: &TreeShapPlan, trees: &[Tree], features: usize, seed: u64) {
        for row in leads(seed, 40, features) {
            let (mut fast, mut reference) = (vec![0.0; features], vec![0.0; features]);
            let base = plan.contributions(trees, &row, &mut fast);
            plan.path_contributions(trees, &row, &mut reference);
            for j in 0..features {
                assert!((fast[j] - reference[j]).abs() < 1e-9, "feature {j}: {} vs {}", fast[j], reference[j]);
            }
            let predicted: f64 = trees.iter().map(|t| t.predict(&row)).sum();
            let total = base + fast.iter().sum::<f64>();
            assert!((total - predicted).abs() < 1e-9, "{total} vs {predicted}");
        }
    }

    #[test]
    fn leaf_tables_equal_algorithm_2_on_random_trees() {
        for max_depth in 1..=9 {
            for features in [1, 3, 6, 12] {
                let seed = (max_depth * 100 + features) as u64;
                let trees = forest(seed, 8, max_depth, features);
                let plan = TreeShapPlan::with_budgets(&trees, usize::MAX, usize::MAX);
                assert_eq!(plan.trees_without_tables(), 0);
                assert_matches_algorithm_2(&plan, &trees, features, seed + 1);
            }
        }
    }

    #[test]
    fn trees_past_the_budgets_fall_back_to_algorithm_2() {
        // Five shallow trees (at most 9 leaves x 2^2 entries each), then five deep ones.
        let trees: Vec<Tree> = forest(7, 5, 2, 5).into_iter().chain(forest(8, 5, 8, 5)).collect();
        let has_tables = |plan: &TreeShapPlan| plan.tables.iter().map(|t| t.is_some()).collect::<Vec<_>>();
        let sizes: Vec<usize> = trees.iter().map(|t| LeafTables::new(t, usize::MAX).unwrap().entries()).collect();
        // Per tree: trees needing more than 64 entries fall back.
        let plan = TreeShapPlan::with_budgets(&trees, 64, usize::MAX);
        assert_eq!(has_tables(&plan), sizes.iter().map(|&n| n <= 64).collect::<Vec<_>>(), "sizes {sizes:?}");
        assert!(plan.trees_without_tables() > 0 && plan.trees_without_tables() < trees.len(), "sizes {sizes:?}");
        assert_matches_algorithm_2(&plan, &trees, 5, 8);
        // Per model: the first trees use it up, the rest fall back.
        let plan = TreeShapPlan::with_budgets(&trees, usize::MAX, 200);
        assert!(has_tables(&plan)[..5].iter().all(|&t| t) && plan.trees_without_tables() > 0);
        assert!(plan.tables.iter().flatten().map(|t| t.entries()).sum::<usize>() <= 200);
        assert_matches_algorithm_2(&plan, &trees, 5, 9);
        // No tables at all: Algorithm 2 alone.
        let plan = TreeShapPlan::with_budgets(&trees, 0, 0);
        assert_eq!(plan.trees_without_tables(), trees.len());
        assert_matches_algorithm_2(&plan, &trees, 5, 10);
    }

    #[test]
    fn a_lone_leaf_contributes_only_to_the_base_value() {
        let trees = forest(3, 1, 0, 2);
        let plan = TreeShapPlan::new(&trees);
        let mut phi = vec![0.0; 2];
        let base = plan.contributions(&trees, &[0.5, f64::NAN], &mut phi);
        assert_eq!(phi, vec![0.0, 0.0]);
        assert_eq!(base, trees[0].nodes[0].weight_value);
    }
}
