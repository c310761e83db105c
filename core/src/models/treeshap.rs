//! Exact path-dependent TreeSHAP over the model's trees ([`crate::models::trees`]), each tree
//! by Linear TreeSHAP at Gauss–Legendre points ([`LinearTree`], O(nodes x ceil(depth/2)) per
//! lead, a few kilobytes per tree). Lundberg, Erion & Lee's Algorithm 2 (O(leaves x depth^2))
//! is kept as the reference the fast path is tested against. Each tree's expected value and
//! its prepared form are computed once per model, not once per explanation. Covers are the
//! nodes' training row counts, as LightGBM's own TreeSHAP uses them.

use std::sync::Mutex;

use crate::models::trees::Tree;
use crate::models::treeshap_linear::{children, cover, LinearTree};
use crate::models::treeshap_linear_pass::Scratch;

#[cfg(test)]
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
    trees: Vec<LinearTree>,
    /// Lanes of the widest tree: the per-feature rows of lane sums are this long.
    lanes: usize,
    /// One more than the highest input a split reads.
    inputs: usize,
    /// Reused between explanations (a lock nobody else holds in a backend; a second thread
    /// explaining with the same model at once gets a scratch of its own).
    scratch: Mutex<(Scratch, Vec<f64>)>,
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

impl TreeShapPlan {
    pub fn new(trees: &[Tree]) -> TreeShapPlan {
        let linear: Vec<LinearTree> = trees.iter().map(LinearTree::new).collect();
        let scratch = Scratch::for_trees(&linear);
        TreeShapPlan {
            expected: trees.iter().map(|t| if t.nodes.is_empty() { 0.0 } else { expected_value(t, 0) }).collect(),
            lanes: linear.iter().map(|t| t.lanes()).max().unwrap_or(1),
            inputs: linear.iter().map(|t| t.inputs).max().unwrap_or(0),
            trees: linear,
            scratch: Mutex::new((scratch, Vec::new())),
        }
    }

    /// Bytes the prepared trees hold (what explaining keeps per model besides the trees).
    pub fn bytes(&self) -> usize {
        self.trees.iter().map(|t| t.bytes()).sum()
    }

    /// Adds each feature's contribution over the trees to `phi`; returns the sum of the trees'
    /// expected values (the base value, before the booster's base score).
    pub fn contributions(&self, row: &[f64], phi: &mut [f64]) -> f64 {
        match self.scratch.try_lock() {
            Ok(mut held) => {
                let (scratch, lanes_phi) = &mut *held;
                self.contributions_with(row, phi, scratch, lanes_phi)
            }
            Err(_) => self.contributions_with(row, phi, &mut Scratch::for_trees(&self.trees), &mut Vec::new()),
        }
    }

    fn contributions_with(&self, row: &[f64], phi: &mut [f64], scratch: &mut Scratch, lanes_phi: &mut Vec<f64>) -> f64 {
        assert!(
            row.len() >= self.inputs && phi.len() >= self.inputs,
            "a lead of {} inputs for trees reading {}",
            row.len(),
            self.inputs
        );
        scratch.set_lead(row);
        lanes_phi.clear();
        lanes_phi.resize(phi.len() * self.lanes, 0.0);
        for tree in &self.trees {
            tree.add_contributions(scratch, lanes_phi, self.lanes);
        }
        for (p, lanes) in phi.iter_mut().zip(lanes_phi.chunks_exact(self.lanes)) {
            *p += lanes.iter().sum::<f64>();
        }
        self.expected.iter().sum()
    }

    /// Algorithm 2 for every tree: the reference the fast path is tested against.
    #[cfg(test)]
    pub(crate) fn path_contributions(trees: &[Tree], row: &[f64], phi: &mut [f64]) {
        let depth = trees.iter().map(|t| max_depth(t, 0)).max().unwrap_or(0) + 2;
        let recip: Vec<f64> = (0..depth + 3).map(|k| if k == 0 { 0.0 } else { 1.0 / k as f64 }).collect();
        let mut path = vec![PathElement::default(); depth * (depth + 1) / 2 + depth];
        for tree in trees {
            recurse(tree, row, phi, &recip, 0, &mut path, 0, 0, 1.0, 1.0, -1);
        }
    }
}

#[cfg(test)]
fn max_depth(tree: &Tree, i: usize) -> usize {
    if tree.nodes[i].is_leaf {
        return 0;
    }
    1 + children(tree, i).into_iter().flatten().map(|c| max_depth(tree, c)).max().unwrap_or(0)
}

#[cfg(test)]
fn extend(path: &mut [PathElement], r: &[f64], depth: usize, zero_fraction: f64, one_fraction: f64, feature: isize) {
    path[depth] = PathElement { feature, zero_fraction, one_fraction, weight: if depth == 0 { 1.0 } else { 0.0 } };
    let rd = r[depth + 1];
    for i in (0..depth).rev() {
        path[i + 1].weight += one_fraction * path[i].weight * (i + 1) as f64 * rd;
        path[i].weight = zero_fraction * path[i].weight * (depth - i) as f64 * rd;
    }
}

#[cfg(test)]
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

#[cfg(test)]
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
#[cfg(test)]
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
    /// features repeat on paths, a quarter of the splits have a separate missing branch, every
    /// kind of split occurs (NaN or zero missing, none, a category set), and some leaves (so
    /// some whole branches) have zero cover.
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
        n.missing = [MissingRule::NaN, MissingRule::NaN, MissingRule::Zero, MissingRule::None][rng.below(4)];
        if rng.below(5) == 0 {
            // Category sets of 1 to 4 words (up to 128 codes; leads' codes are below 100).
            let words = 1 + rng.below(4);
            n.categories = Some((0..words).map(|_| rng.next_u64() as u32).collect());
        }
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

    /// Values in [0, 1), a fifth missing, a tenth exactly 0 (the zero rule's missing value),
    /// some category codes up to 99 (past thresholds, so right) and some negative numbers.
    fn leads(seed: u64, count: usize, features: usize) -> Vec<Vec<f64>> {
        let mut rng = SeededRng::new(seed);
        (0..count)
            .map(|_| {
                (0..features)
                    .map(|_| match unit(&mut rng) {
                        u if u < 0.2 => f64::NAN,
                        u if u < 0.3 => 0.0,
                        u if u < 0.45 => rng.below(100) as f64,
                        u if u < 0.5 => -unit(&mut rng) * 2.0,
                        _ => unit(&mut rng),
                    })
                    .collect()
            })
            .collect()
    }

    /// The plan's values, from the AVX2 + FMA build where the CPU has it and from the baseline,
    /// equal Algorithm 2's to 1e-9 and add up to the trees' prediction.
    fn assert_matches_algorithm_2(trees: &[Tree], features: usize, seed: u64) {
        let plan = TreeShapPlan::new(trees);
        for row in leads(seed, 40, features) {
            let mut reference = vec![0.0; features];
            TreeShapPlan::path_contributions(trees, &row, &mut reference);
            let predicted: f64 = trees.iter().map(|t| t.predict(&row)).sum();
            for baseline in [false, true] {
                let mut fast = vec![0.0; features];
                let base = if baseline {
                    plan.contributions_with(&row, &mut fast, &mut Scratch::baseline(&plan.trees), &mut Vec::new())
                } else {
                    plan.contributions(&row, &mut fast)
                };
                for j in 0..features {
                    assert!((fast[j] - reference[j]).abs() < 1e-9, "feature {j}: {} vs {}", fast[j], reference[j]);
                }
                let total = base + fast.iter().sum::<f64>();
                assert!((total - predicted).abs() < 1e-9, "{total} vs {predicted}");
            }
        }
    }

    #[test]
    fn linear_treeshap_equals_algorithm_2_on_random_trees() {
        for max_depth in 1..=10 {
            for features in [1, 3, 6, 12, 40] {
                let seed = (max_depth * 100 + features) as u64;
                assert_matches_algorithm_2(&forest(seed, 8, max_depth, features), features, seed + 1);
            }
        }
    }

    /// A deep, narrow tree: a spine of `depth` splits, each with a small random subtree (up to
    /// two levels) on its other side, so paths split on many distinct features.
    fn spine(rng: &mut SeededRng, depth: usize, features: usize) -> Tree {
        let mut nodes = Vec::new();
        let mut parent: Option<usize> = None;
        for level in 0..depth {
            let at = grow(rng, &mut nodes, 0, 1, features); // a split with leaf children
            let side = grow(rng, &mut nodes, level + 1, level + 3, features);
            // The side subtree and the next split replace leaves (left without a parent).
            let replace = |n: &mut Node, old: usize, new: usize| {
                if n.missing_node == old {
                    n.missing_node = new;
                }
            };
            let old = nodes[at].left_child;
            replace(&mut nodes[at], old, side);
            nodes[at].left_child = side;
            if let Some(p) = parent {
                let old = nodes[p].right_child;
                replace(&mut nodes[p], old, at);
                nodes[p].right_child = at;
            }
            parent = Some(at);
        }
        // Renumber the nodes reachable from the root so children come after their parent.
        let mut order = vec![0usize];
        let mut k = 0;
        while k < order.len() {
            if !nodes[order[k]].is_leaf {
                order.extend(children(&Tree { nodes: nodes.clone() }, order[k]).into_iter().flatten());
            }
            k += 1;
        }
        let mut new_index = vec![usize::MAX; nodes.len()];
        for (i, &old) in order.iter().enumerate() {
            new_index[old] = i;
        }
        let mut tree = Tree { nodes: order.iter().map(|&old| nodes[old].clone()).collect() };
        for n in tree.nodes.iter_mut().filter(|n| !n.is_leaf) {
            n.left_child = new_index[n.left_child];
            n.right_child = new_index[n.right_child];
            n.missing_node = new_index[n.missing_node];
        }
        for i in (0..tree.nodes.len()).rev() {
            if !tree.nodes[i].is_leaf {
                tree.nodes[i].cover = children(&tree, i).into_iter().flatten().map(|c| tree.nodes[c].cover).sum();
            }
        }
        tree
    }

    #[test]
    fn deep_trees_use_more_lanes_and_stay_exact() {
        // Paths splitting on up to 54 distinct features: 8, 16 and 32 Gauss-Legendre points.
        let mut rng = SeededRng::new(17);
        for (depth, lanes) in [(12, 8), (24, 16), (52, 32)] {
            let trees: Vec<Tree> = (0..3).map(|_| spine(&mut rng, depth, 60)).collect();
            for t in &trees {
                assert_eq!(t.check(60), Ok(()));
                assert_eq!(LinearTree::new(t).lanes(), lanes, "{depth} splits");
            }
            assert_matches_algorithm_2(&trees, 60, depth as u64);
        }
    }

    #[test]
    fn a_lone_leaf_contributes_only_to_the_base_value() {
        let trees = forest(3, 1, 0, 2);
        let plan = TreeShapPlan::new(&trees);
        let mut phi = vec![0.0; 2];
        let base = plan.contributions(&[0.5, f64::NAN], &mut phi);
        assert_eq!(phi, vec![0.0, 0.0]);
        assert_eq!(base, trees[0].nodes[0].weight_value);
    }
}
