//! TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2) over forust-ml's trees, allocation-free
//! per lead: the path buffer is reused and each tree's expected value is computed once per
//! model, not once per explanation. Covers are the nodes' hessian sums, as forust uses them.

use forust_ml::tree::Tree;

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
    buffer_len: usize,
    /// 1/k for k = 0..=depth+2 (entry 0 unused): the inner loops multiply instead of divide.
    recip: Vec<f64>,
}

fn children(tree: &Tree, i: usize) -> [Option<usize>; 3] {
    let n = &tree.nodes[i];
    let missing = (n.missing_node != n.left_child && n.missing_node != n.right_child && n.missing_node < tree.nodes.len())
        .then_some(n.missing_node);
    [Some(n.left_child), Some(n.right_child), missing]
}

fn cover(tree: &Tree, i: usize) -> f64 {
    tree.nodes[i].hessian_sum as f64
}

fn expected_value(tree: &Tree, i: usize) -> f64 {
    let n = &tree.nodes[i];
    if n.is_leaf {
        return n.weight_value as f64;
    }
    let (mut sum, mut total) = (0.0, 0.0);
    for c in children(tree, i).into_iter().flatten() {
        sum += cover(tree, c) * expected_value(tree, c);
        total += cover(tree, c);
    }
    if total > 0.0 { sum / total } else { 0.0 }
}

fn max_depth(tree: &Tree, i: usize) -> usize {
    if tree.nodes[i].is_leaf {
        return 0;
    }
    1 + children(tree, i).into_iter().flatten().map(|c| max_depth(tree, c)).max().unwrap_or(0)
}

impl TreeShapPlan {
    pub fn new(trees: &[Tree]) -> TreeShapPlan {
        let depth = trees.iter().map(|t| max_depth(t, 0)).max().unwrap_or(0) + 2;
        TreeShapPlan {
            expected: trees.iter().map(|t| expected_value(t, 0)).collect(),
            buffer_len: depth * (depth + 1) / 2 + depth,
            recip: (0..depth + 3).map(|k| if k == 0 { 0.0 } else { 1.0 / k as f64 }).collect(),
        }
    }

    /// Adds each feature's contribution over `trees` to `phi`; returns the sum of the trees'
    /// expected values (the base value, before the booster's base score).
    pub fn contributions(&self, trees: &[Tree], row: &[f64], missing: &f64, phi: &mut [f64]) -> f64 {
        let mut path = vec![PathElement::default(); self.buffer_len];
        let mut base = 0.0;
        for (t, tree) in trees.iter().enumerate() {
            base += self.expected[t];
            recurse(tree, row, missing, phi, &self.recip, 0, &mut path, 0, 0, 1.0, 1.0, -1);
        }
        base
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
    missing: &f64,
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
            phi[el.feature as usize] += w * (el.one_fraction - el.zero_fraction) * n.weight_value as f64;
        }
        return;
    }
    let hot = n.get_child_idx(&row[n.split_feature], missing);
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
        recurse(tree, row, missing, phi, r, c, buffer, next, depth + 1, share * incoming_zero, one, split);
    }
}
