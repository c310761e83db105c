//! Exact path-dependent TreeSHAP for one tree in O(nodes x m) per lead, m = ceil(d/2) for trees
//! whose paths split on at most d distinct features, with no table larger than the tree: the
//! polynomial form of Linear TreeSHAP (Yu et al., NeurIPS 2022), evaluated at Gauss–Legendre
//! points.
//!
//! Why it is exact: for a leaf of value v whose path splits on the distinct features U, each
//! with its cover fraction z_j (product of the shares of the path's splits on j) and o_j (1 when
//! the lead follows all those splits, else 0), the leaf's part of feature i's Shapley value is
//!   v (o_i - z_i) * integral over [0, 1] of prod_{j in U, j != i} q_j(t) dt,
//!   q_j(t) = o_j t + z_j (1 - t),
//! because the Shapley weight |S|!(d-|S|-1)!/d! is the integral of t^|S| (1-t)^(d-1-|S|). The
//! integrand is a polynomial of degree below d, so m-point Gauss–Legendre quadrature integrates it
//! exactly, and everything below is computed at those m points (the "lanes").
//!
//! Per lead, with Q_n = the product of the factors on the path to node n (times the quadrature
//! weights, so that summing lanes integrates) and B_n = the sum over the leaves below n of v times
//! the factors below n, for a split n on feature f first used on its path, with children c of
//! cover share s_c, the hot child h (the one the lead takes) and Bbar = sum_c s_c B_c:
//!   the child's factor r_c = s_c (1 - t) + t [c = h],   Q_c = Q_n r_c   (top down),
//!   B_n = sum_c r_c B_c = Bbar + t (B_h - Bbar),      phi_f += Q_n (B_h - Bbar)   (bottom up).
//! A split on a feature already split on above (at its previous split, with the lead's o and
//! the path's z there) replaces that feature's factor rather than adding one: its r_c and its
//! share of phi_f come from per-child vectors precomputed for the two values of o_c (see
//! [`Repeat`]); and once the lead has left the feature's path (o = 0), r_c = s_c and phi_f gets
//! nothing. Covers are the nodes' training row counts, as LightGBM's TreeSHAP uses them.
//!
//! The lead pass (treeshap_linear_pass.rs) costs about 40 instructions a split,
//! so splits are kept small (48 bytes: a depth-6 model of 300 trees streams ~430 KB a lead) and
//! the common LightGBM split, two children on a feature new to its path, has fast forms.

use crate::models::trees::{MissingRule, Tree};

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

/// The quadrature sizes a tree may use (lanes per vector); the first that covers ceil(d/2).
const LANE_COUNTS: [usize; 6] = [1, 2, 4, 8, 16, 32];
/// Lanes of the widest tree ([`crate::models::trees::MAX_TREE_DEPTH`] = 64 features a path).
pub const MAX_LANES: usize = 32;

/// How a split decides, as [`crate::models::trees::Node::child_for`] does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Test {
    /// Numbers above `test_data` (an f64's bits) go right.
    Number,
    /// LightGBM's category bitset of at most 64 categories, in `test_data`: others go right.
    CategoryBits,
    /// A longer bitset: `test_data` = where it starts in `categories` << 32 | its words.
    CategoryList,
}

/// What a split's `numbers` hold and how the lead pass treats it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// Two leaf children, a feature new to the path: [Bbar, B_h - Bbar for h = left, right].
    Leaves,
    /// Two children (covers > 0), a feature new to the path: [s_left, v_left, v_right] (a
    /// split child's value 0), s_right = 1 - s_left.
    Binary,
    /// Anything else (a separate missing child, a feature split on above, covers of 0):
    /// `slots[0]` indexes `general`.
    General,
}

/// A missing input's routes: bit 0 set when NaN goes to the missing child (LightGBM's NaN
/// rule), bit 1 when zero and NaN do (its zero rule); matched against [`LeadInputs`]'s bits.
pub(crate) const MISSING_NAN: u8 = 1;
pub(crate) const MISSING_ZERO: u8 = 2;

/// An internal node, as the lead pass reads it (48 bytes). Children are numbered 0 (left) and
/// 1 (right); `missing` is where missing inputs go.
#[derive(Debug)]
pub(crate) struct Split {
    pub test_data: u64,
    pub numbers: [f64; 3],
    /// A split child's index among the tree's splits; the tree's split count (a slot that holds
    /// zeros for B and takes writes nobody reads for Q) for a leaf.
    pub slots: [u32; 2],
    pub feature: u32,
    pub test: Test,
    pub kind: Kind,
    pub missing: u8,
    /// Which missing inputs go to `missing` ([`MISSING_NAN`], [`MISSING_ZERO`]).
    pub missing_mask: u8,
}

/// A split of [`Kind::General`]: up to three children (2, a missing branch of its own or
/// nothing: share 0, value 0), each child's cover share s_c, leaf value and slot.
#[derive(Debug)]
pub(crate) struct GeneralSplit {
    pub shares: [f64; 3],
    pub values: [f64; 3],
    pub slots: [u32; 3],
    pub kid_count: u8,
    pub repeat: Option<Repeat>,
}

/// A split on a feature already split on higher up its path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Repeat {
    /// The split child, just below the feature's previous split, whose `o` (whether the lead
    /// followed every split on the feature down to it) is this split's o_prev.
    pub prev: u32,
    /// Where this split's vectors start in `vectors`: per child c and o_c in {0, 1}, r_c and
    /// then E_c = r_c D_c, each `lanes` long, for o_prev = 1.
    pub at: u32,
}

/// One tree, ready to explain leads.
pub struct LinearTree {
    pub(crate) lanes: usize,
    pub(crate) splits: Vec<Split>,
    pub(crate) general: Vec<GeneralSplit>,
    /// Whether some split repeats a feature (then the pass keeps each split's `o`).
    pub(crate) has_repeats: bool,
    /// Where the [`Kind::Leaves`] splits start: they come last.
    pub(crate) pairs_at: usize,
    pub(crate) vectors: Vec<f64>,
    pub(crate) categories: Vec<u32>,
    /// Gauss–Legendre points t and weights on [0, 1], `lanes` of each.
    pub(crate) points: Vec<f64>,
    pub(crate) weights: Vec<f64>,
    /// One more than the highest input a split reads.
    pub(crate) inputs: usize,
}

/// Gauss–Legendre points and weights on [0, 1]: sum_k w_k p(t_k) is the integral of p over
/// [0, 1] for every polynomial p of degree below 2m.
pub fn gauss_legendre(m: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut t, mut w) = (vec![0.0; m], vec![0.0; m]);
    for i in 0..m.div_ceil(2) {
        // Newton's method on the Legendre polynomial P_m from the usual first guess.
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (m as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (mut p, mut before) = (1.0, 0.0);
            for j in 1..=m {
                let j = j as f64;
                (p, before) = (((2.0 * j - 1.0) * x * p - (j - 1.0) * before) / j, p);
            }
            derivative = m as f64 * (x * p - before) / (x * x - 1.0);
            let step = p / derivative;
            x -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        let weight = 1.0 / ((1.0 - x * x) * derivative * derivative);
        (t[i], t[m - 1 - i]) = ((1.0 - x) / 2.0, (1.0 + x) / 2.0);
        (w[i], w[m - 1 - i]) = (weight, weight);
    }
    (t, w)
}

/// Distinct features on a path to any leaf below `node` (with `path` above it).
fn most_path_features(tree: &Tree, node: usize, path: &mut Vec<usize>) -> usize {
    let n = &tree.nodes[node];
    if n.is_leaf {
        return path.len();
    }
    let added = !path.contains(&n.split_feature);
    if added {
        path.push(n.split_feature);
    }
    let most = children(tree, node).into_iter().flatten().map(|c| most_path_features(tree, c, path)).max().unwrap_or(0);
    if added {
        path.pop();
    }
    most
}

/// The feature's state on a path while the tree is built: its z and the split child whose `o`
/// says whether the lead followed it.
#[derive(Clone, Copy)]
struct PathFeature {
    feature: usize,
    zero: f64,
    /// The split index of the child below the feature's last split.
    child: u32,
}

impl LinearTree {
    pub fn new(tree: &Tree) -> LinearTree {
        let d = if tree.nodes.is_empty() { 0 } else { most_path_features(tree, 0, &mut Vec::new()) };
        let lanes = LANE_COUNTS.into_iter().find(|&l| 2 * l >= d).unwrap_or(MAX_LANES);
        let (points, weights) = gauss_legendre(lanes);
        let mut index = vec![u32::MAX; tree.nodes.len()];
        let internal: Vec<usize> = (0..tree.nodes.len()).filter(|&i| !tree.nodes[i].is_leaf).collect();
        for (k, &i) in internal.iter().enumerate() {
            index[i] = k as u32;
        }
        let mut built = LinearTree {
            lanes,
            splits: Vec::with_capacity(internal.len()),
            general: Vec::new(),
            has_repeats: false,
            pairs_at: 0,
            vectors: Vec::new(),
            categories: Vec::new(),
            points,
            weights,
            inputs: internal.iter().map(|&i| tree.nodes[i].split_feature + 1).max().unwrap_or(0),
        };
        // The path state at each split, set by its parent (children come after their parent).
        let mut paths: Vec<Vec<PathFeature>> = vec![Vec::new(); internal.len()];
        let none = internal.len() as u32;
        for (k, &i) in internal.iter().enumerate() {
            let n = &tree.nodes[i];
            let kids: Vec<usize> = children(tree, i).into_iter().flatten().collect();
            let total: f64 = kids.iter().map(|&c| cover(tree, c)).sum();
            let shares: Vec<f64> = kids.iter().map(|&c| if total > 0.0 { cover(tree, c) / total } else { 0.0 }).collect();
            let is_leaf: Vec<bool> = kids.iter().map(|&c| tree.nodes[c].is_leaf).collect();
            let values: Vec<f64> =
                kids.iter().map(|&c| if tree.nodes[c].is_leaf { tree.nodes[c].weight_value } else { 0.0 }).collect();
            let slots: Vec<u32> = kids.iter().map(|&c| if tree.nodes[c].is_leaf { none } else { index[c] }).collect();
            // A missing branch that is no child: the lead follows none of them.
            let missing = kids.iter().position(|&c| c == n.missing_node).unwrap_or(2) as u8;
            let path = std::mem::take(&mut paths[k]);
            let earlier = path.iter().position(|p| p.feature == n.split_feature);
            let previous = earlier.map(|e| path[e]);
            let (test, test_data) = built.test_of(n);
            let mut split = Split {
                test_data,
                numbers: [0.0; 3],
                slots: [none; 2],
                feature: n.split_feature as u32,
                test,
                kind: Kind::General,
                missing,
                missing_mask: match (&n.categories, n.missing) {
                    (Some(_), _) | (None, MissingRule::None) => 0,
                    (None, MissingRule::Zero) => MISSING_ZERO,
                    (None, MissingRule::NaN) => MISSING_NAN,
                },
            };
            let binary = kids.len() == 2 && missing < 2 && previous.is_none();
            if binary && is_leaf[0] && is_leaf[1] {
                let mean = shares[0] * values[0] + shares[1] * values[1];
                split.kind = Kind::Leaves;
                split.numbers = [mean, values[0] - mean, values[1] - mean];
            } else if binary && total > 0.0 {
                split.kind = Kind::Binary;
                split.numbers = [shares[0], values[0], values[1]];
                split.slots = [slots[0], slots[1]];
            } else {
                let repeat = previous.map(|p| Repeat { prev: p.child, at: built.vectors.len() as u32 });
                if let Some(p) = previous {
                    for &share in &shares {
                        built.push_repeat_vectors(p.zero, p.zero * share);
                    }
                }
                built.has_repeats |= repeat.is_some();
                split.slots[0] = built.general.len() as u32;
                let mut general =
                    GeneralSplit { shares: [0.0; 3], values: [0.0; 3], slots: [none; 3], kid_count: kids.len() as u8, repeat };
                general.shares[..kids.len()].copy_from_slice(&shares);
                general.values[..kids.len()].copy_from_slice(&values);
                general.slots[..kids.len()].copy_from_slice(&slots);
                built.general.push(general);
            }
            for (c, &kid) in kids.iter().enumerate() {
                if !is_leaf[c] {
                    let mut below = path.clone();
                    let child = index[kid];
                    match earlier {
                        Some(e) => below[e] = PathFeature { zero: below[e].zero * shares[c], child, ..below[e] },
                        None => below.push(PathFeature { feature: n.split_feature, zero: shares[c], child }),
                    }
                    paths[child as usize] = below;
                }
            }
            built.splits.push(split);
        }
        built.put_leaf_pairs_last();
        built
    }

    /// Moves the [`Kind::Leaves`] splits after all others (keeping each group's order, so
    /// parents still come before children: such a split has none): the lead pass then runs
    /// through each kind in one stretch instead of switching between them at random, and its
    /// top-down sweep stops where they start.
    fn put_leaf_pairs_last(&mut self) {
        let n = self.splits.len();
        let order: Vec<usize> = (0..n)
            .filter(|&k| self.splits[k].kind != Kind::Leaves)
            .chain((0..n).filter(|&k| self.splits[k].kind == Kind::Leaves))
            .collect();
        let mut new_index = vec![0u32; n + 1];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u32;
        }
        new_index[n] = n as u32; // the slot leaves share stays
        let mut old: Vec<Option<Split>> = std::mem::take(&mut self.splits).into_iter().map(Some).collect();
        self.splits = order.iter().map(|&k| old[k].take().expect("each split once")).collect();
        for s in &mut self.splits {
            if s.kind == Kind::Binary {
                s.slots = s.slots.map(|slot| new_index[slot as usize]);
            }
        }
        for g in &mut self.general {
            g.slots = g.slots.map(|slot| new_index[slot as usize]);
            if let Some(rep) = &mut g.repeat {
                rep.prev = new_index[rep.prev as usize];
            }
        }
        self.pairs_at = self.splits.iter().position(|s| s.kind == Kind::Leaves).unwrap_or(n);
    }

    /// How `n` decides, and the data its test reads.
    fn test_of(&mut self, n: &crate::models::trees::Node) -> (Test, u64) {
        match &n.categories {
            None => (Test::Number, n.split_value.to_bits()),
            Some(bits) if bits.len() <= 2 => {
                (Test::CategoryBits, bits.iter().enumerate().fold(0u64, |all, (w, &word)| all | (word as u64) << (32 * w)))
            }
            Some(bits) => {
                let at = self.categories.len() as u64;
                self.categories.extend_from_slice(bits);
                (Test::CategoryList, at << 32 | bits.len() as u64)
            }
        }
    }

    /// r_c and E_c for o_c = 0 and 1 of a child of a repeated split whose feature had z_prev
    /// (and o_prev = 1) above it and has z_c = z_prev s_c below.
    fn push_repeat_vectors(&mut self, z_prev: f64, z_c: f64) {
        for o in [0.0, 1.0] {
            let (mut r, mut e) = (Vec::with_capacity(self.lanes), Vec::with_capacity(self.lanes));
            for &t in &self.points {
                let q_prev = z_prev * (1.0 - t) + t; // o_prev = 1: at least t > 0
                let q = z_c * (1.0 - t) + o * t;
                // D_c = (o_c - z_c) / q_c - (1 - z_prev) / q_prev, and E_c = r_c D_c with
                // r_c = q_c / q_prev, written without dividing by q_c (0 when z_c is).
                r.push(q / q_prev);
                e.push((o - z_c) / q_prev - (1.0 - z_prev) * q / (q_prev * q_prev));
            }
            self.vectors.extend(r);
            self.vectors.extend(e);
        }
    }

    /// Lanes per vector (Gauss–Legendre points).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Bytes this tree holds.
    pub fn bytes(&self) -> usize {
        self.splits.len() * std::mem::size_of::<Split>()
            + self.general.len() * std::mem::size_of::<GeneralSplit>()
            + (self.vectors.len() + self.points.len() + self.weights.len()) * 8
            + self.categories.len() * 4
    }
}
