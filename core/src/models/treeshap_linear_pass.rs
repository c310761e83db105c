//! The per-lead pass of Linear TreeSHAP ([`crate::models::treeshap_linear`] gives the math): a
//! top-down sweep over a tree's splits (children come after their parent) deciding each split
//! and carrying Q, then a bottom-up sweep carrying B and adding each split's Q (B_h - Bbar) to
//! its feature's lanes. Vectors are `[f64; M]`, M the tree's Gauss–Legendre points, so the
//! compiler keeps a lane vector in one or two registers.

use crate::models::trees::ZERO_THRESHOLD;
use crate::models::treeshap_linear::{GeneralSplit, Kind, LinearTree, Split, Test, MAX_LANES};

/// No category: a value no bitset holds.
const NO_CATEGORY: u64 = u64::MAX;

/// A lead's inputs as splits read them, worked out once per lead rather than at each of
/// thousands of splits.
#[derive(Default)]
pub struct LeadInputs {
    /// The value, NaN read as 0 (what thresholds compare).
    number: Vec<f64>,
    /// [`crate::models::treeshap_linear::MISSING_NAN`] when NaN, and
    /// [`crate::models::treeshap_linear::MISSING_ZERO`] when zero or NaN.
    missing: Vec<u8>,
    /// The category: the value cast to an integer as C++ does, or [`NO_CATEGORY`].
    code: Vec<u64>,
}

impl LeadInputs {
    fn set(&mut self, row: &[f64]) {
        self.number.clear();
        self.missing.clear();
        self.code.clear();
        for &x in row {
            let nan = x.is_nan();
            let number = if nan { 0.0 } else { x };
            self.number.push(number);
            self.missing.push(nan as u8 | ((-ZERO_THRESHOLD..=ZERO_THRESHOLD).contains(&number) as u8) << 1);
            // As `in_category_set`: (-1, 0) is category 0, at or below -1 and NaN none.
            self.code.push(if x > -1.0 && x < i32::MAX as f64 { x as u64 } else { NO_CATEGORY });
        }
    }
}

/// Per-lead working memory, sized for the largest tree: Q and B per split (plus a slot leaves
/// share), per split its hot child and `o`, and the lead's inputs.
pub struct Scratch {
    q: Vec<f64>,
    b: Vec<f64>,
    hot: Vec<u8>,
    o: Vec<u8>,
    inputs: LeadInputs,
    /// Whether this CPU has AVX2 and FMA (the faster build of the pass).
    fused: bool,
}

impl Scratch {
    /// Room for every tree of `trees`.
    pub fn for_trees(trees: &[LinearTree]) -> Scratch {
        let values = trees.iter().map(|t| (t.splits.len() + 1) * t.lanes).max().unwrap_or(0);
        let splits = trees.iter().map(|t| t.splits.len() + 1).max().unwrap_or(0);
        #[cfg(target_arch = "x86_64")]
        let fused = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let fused = false;
        Scratch {
            q: vec![0.0; values],
            b: vec![0.0; values],
            hot: vec![0; splits],
            o: vec![0; splits],
            inputs: LeadInputs::default(),
            fused,
        }
    }

    /// The same without the AVX2 + FMA build (to test the baseline on any CPU).
    #[cfg(test)]
    pub fn baseline(trees: &[LinearTree]) -> Scratch {
        Scratch { fused: false, ..Scratch::for_trees(trees) }
    }

    /// Reads the lead's inputs for the trees' splits.
    pub fn set_lead(&mut self, row: &[f64]) {
        self.inputs.set(row);
    }
}

impl Split {
    /// The child the lead takes (0 left, 1 right, else `missing`), as `Node::child_for` decides.
    ///
    /// # Safety
    /// `inputs` holds more than `self.feature` inputs (the lead pass asserts it per tree).
    #[inline(always)]
    unsafe fn hot_child(&self, inputs: &LeadInputs, categories: &[u32]) -> usize {
        let f = self.feature as usize;
        debug_assert!(f < inputs.number.len() && f < inputs.missing.len() && f < inputs.code.len());
        // SAFETY: the caller's promise: f is within all three of `inputs`' vectors.
        let (number, missing, code) =
            unsafe { (*inputs.number.get_unchecked(f), *inputs.missing.get_unchecked(f), *inputs.code.get_unchecked(f)) };
        // Numbers and short category sets both computed and one picked, without a branch: the
        // two kinds of test alternate at random to the branch predictor.
        let at_or_below = number <= f64::from_bits(self.test_data);
        // Codes past 63 (and none) shift every bit out.
        let outside = self.test_data.checked_shr(code.min(64) as u32).unwrap_or(0) & 1 == 0;
        let mut right = std::hint::select_unpredictable(self.test == Test::Number, !at_or_below, outside);
        if self.test == Test::CategoryList {
            let (at, words) = ((self.test_data >> 32) as usize, (self.test_data & 0xffff_ffff) as usize);
            let word = (code / 32).min(words as u64) as usize;
            right = categories[at..at + words].get(word).is_none_or(|w| (w >> (code % 32)) & 1 == 0);
        }
        if missing & self.missing_mask != 0 {
            self.missing as usize
        } else {
            right as usize
        }
    }
}

impl LinearTree {
    /// Adds this tree's part of each feature's contribution, per lane, to `lanes_phi` (row f,
    /// `stride` lanes, for feature f; the caller sums each row), for the lead last given to
    /// [`Scratch::set_lead`].
    pub fn add_contributions(&self, scratch: &mut Scratch, lanes_phi: &mut [f64], stride: usize) {
        if self.splits.is_empty() {
            return; // a lone leaf (or nothing): every contribution is 0
        }
        #[cfg(target_arch = "x86_64")]
        if scratch.fused {
            // SAFETY: `fused` is set only where AVX2 and FMA were detected on this CPU.
            return unsafe { self.add_fused(scratch, lanes_phi, stride) };
        }
        self.add_any(scratch, lanes_phi, stride, |a, b, c| a * b + c)
    }

    /// The same built for AVX2 + FMA: a vector of 4 lanes in one register, and a multiply-add
    /// in one instruction (so results may differ from the baseline's in the last bits).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn add_fused(&self, scratch: &mut Scratch, lanes_phi: &mut [f64], stride: usize) {
        self.add_any(scratch, lanes_phi, stride, |a, b, c| a.mul_add(b, c))
    }

    /// `fma(a, b, c) = a * b + c`, fused or not.
    #[inline(always)]
    fn add_any(&self, scratch: &mut Scratch, phi: &mut [f64], stride: usize, fma: impl Fn(f64, f64, f64) -> f64 + Copy) {
        match self.lanes {
            1 => self.add_lanes::<1>(scratch, phi, stride, fma),
            2 => self.add_lanes::<2>(scratch, phi, stride, fma),
            4 => self.add_lanes::<4>(scratch, phi, stride, fma),
            8 => self.add_lanes::<8>(scratch, phi, stride, fma),
            16 => self.add_lanes::<16>(scratch, phi, stride, fma),
            _ => self.add_lanes::<MAX_LANES>(scratch, phi, stride, fma),
        }
    }

    #[inline(always)]
    fn vector<const M: usize>(&self, at: usize) -> [f64; M] {
        self.vectors[at..at + M].try_into().expect("M values")
    }

    #[inline(always)]
    fn add_lanes<const M: usize>(
        &self,
        scratch: &mut Scratch,
        lanes_phi: &mut [f64],
        stride: usize,
        fma: impl Fn(f64, f64, f64) -> f64 + Copy,
    ) {
        let n = self.splits.len();
        let Scratch { q, b, hot, o, inputs, .. } = scratch;
        let (q, _) = q[..(n + 1) * M].as_chunks_mut::<M>();
        let (b, _) = b[..(n + 1) * M].as_chunks_mut::<M>();
        // hot[k]: the child the lead takes at split k; o[k]: whether it followed every split on
        // its parent's feature down to split k.
        let (hot, o) = (&mut hot[..n + 1], &mut o[..n + 1]);
        // What the unchecked reads and writes below rely on, besides `LinearTree::new`'s
        // guarantees (slots at most n, the hot child of a Leaves or Binary split 0 or 1).
        assert!(inputs.number.len() >= self.inputs && inputs.missing.len() >= self.inputs && inputs.code.len() >= self.inputs);
        assert!(stride >= M && lanes_phi.len() >= self.inputs * stride);
        let lanes = Lanes::<M> {
            t: self.points[..M].try_into().expect("M points"),
            one_minus_t: std::array::from_fn(|l| 1.0 - self.points[l]),
        };
        q[0] = self.weights[..M].try_into().expect("M weights");
        b[n] = [0.0; M];
        let pairs_at = self.pairs_at;
        for (k, s) in self.splits[..pairs_at].iter().enumerate() {
            // SAFETY: features are below `self.inputs` (`LinearTree::new`), asserted above.
            let h = unsafe { s.hot_child(inputs, &self.categories) };
            hot[k] = h as u8;
            if s.kind == Kind::General {
                self.general_down(&self.general[s.slots[0] as usize], k, h, q, o, &lanes);
                continue;
            }
            // Binary. r_c = s_c (1 - t) + t [c = h]: each child's Q stored once (adding to a Q
            // just stored stalled on store forwarding).
            let qn = q[k];
            let cold: [f64; M] = std::array::from_fn(|l| qn[l] * lanes.one_minus_t[l]);
            let s_left = s.numbers[0];
            let s_right = 1.0 - s_left;
            // The lead's way is a coin flip to the branch predictor, and LLVM turns a select of
            // floats (even of 0.0 and 1.0) into a branch: [c = h] as the number h instead.
            let hot_right = h as f64;
            let hot_left = 1.0 - hot_right;
            let warm: [f64; M] = std::array::from_fn(|l| qn[l] * lanes.t[l]);
            let [left, right] = s.slots.map(|slot| slot as usize);
            // SAFETY: slots are at most n (`LinearTree::new`), and q has n + 1 vectors.
            unsafe {
                *q.get_unchecked_mut(left) = std::array::from_fn(|l| fma(cold[l], s_left, warm[l] * hot_left));
                *q.get_unchecked_mut(right) = std::array::from_fn(|l| fma(cold[l], s_right, warm[l] * hot_right));
            }
            if self.has_repeats {
                o[left] = (h == 0) as u8;
                o[right] = (h == 1) as u8;
            }
        }
        // Splits of two leaves: no Q to carry down, only the way the lead takes.
        for (k, s) in self.splits.iter().enumerate().skip(pairs_at) {
            // SAFETY: as above.
            hot[k] = unsafe { s.hot_child(inputs, &self.categories) } as u8;
        }
        for (k, s) in self.splits.iter().enumerate().rev() {
            let h = hot[k] as usize;
            let (bk, delta) = match s.kind {
                Kind::Leaves => {
                    let [mean, left, right] = s.numbers;
                    let delta = [left, right][h];
                    (std::array::from_fn(|l| fma(lanes.t[l], delta, mean)), [delta; M])
                }
                Kind::Binary => {
                    // Bbar = s_l B_l + s_r B_r = B_r + s_l (B_l - B_r), and B_h - Bbar is
                    // s_r (B_l - B_r) for h = left, -s_l (B_l - B_r) for h = right.
                    let [s_left, v_left, v_right] = s.numbers;
                    // SAFETY: slots are at most n (`LinearTree::new`), and b has n + 1 vectors.
                    let (bl, br) = unsafe { (b.get_unchecked(s.slots[0] as usize), b.get_unchecked(s.slots[1] as usize)) };
                    let diff: [f64; M] = std::array::from_fn(|l| (bl[l] + v_left) - (br[l] + v_right));
                    // s_r = 1 - s_l for h = left, -s_l for h = right (h as a number: see above).
                    let factor = (1.0 - s_left) - h as f64;
                    let mean: [f64; M] = std::array::from_fn(|l| fma(s_left, diff[l], br[l] + v_right));
                    let delta: [f64; M] = std::array::from_fn(|l| diff[l] * factor);
                    (std::array::from_fn(|l| fma(lanes.t[l], delta[l], mean[l])), delta)
                }
                Kind::General => self.general_up(&self.general[s.slots[0] as usize], h, b, o, &lanes, fma),
            };
            // SAFETY: features are below `self.inputs`, and lanes_phi has `self.inputs` rows of
            // `stride` >= M lanes (both asserted above).
            let phi: &mut [f64; M] = unsafe { &mut *lanes_phi.as_mut_ptr().add(s.feature as usize * stride).cast::<[f64; M]>() };
            let qk = q[k];
            *phi = std::array::from_fn(|l| fma(qk[l], delta[l], phi[l]));
            b[k] = bk;
        }
    }

    /// A [`Kind::General`] split's children's Q and `o` (top down).
    #[inline(always)]
    fn general_down<const M: usize>(
        &self,
        g: &GeneralSplit,
        k: usize,
        h: usize,
        q: &mut [[f64; M]],
        o: &mut [u8],
        lanes: &Lanes<M>,
    ) {
        let qn = q[k];
        let kids = g.kid_count as usize;
        match g.repeat {
            Some(rep) if o[rep.prev as usize] != 0 => {
                for c in 0..kids {
                    let is_hot = (c == h) as usize;
                    let r = self.vector::<M>(rep.at as usize + (2 * c + is_hot) * 2 * M);
                    let slot = g.slots[c] as usize;
                    q[slot] = std::array::from_fn(|l| qn[l] * r[l]);
                    o[slot] = is_hot as u8;
                }
            }
            // The lead left the feature's path above: q_c / q_prev = s_c, and o stays 0.
            Some(_) => {
                for c in 0..kids {
                    let slot = g.slots[c] as usize;
                    q[slot] = std::array::from_fn(|l| qn[l] * g.shares[c]);
                    o[slot] = 0;
                }
            }
            None => {
                for c in 0..kids {
                    let hot = (c == h) as u8;
                    let slot = g.slots[c] as usize;
                    q[slot] = std::array::from_fn(|l| qn[l] * (g.shares[c] * lanes.one_minus_t[l] + hot as f64 * lanes.t[l]));
                    o[slot] = hot;
                }
            }
        }
    }

    /// A [`Kind::General`] split's B and the vector its feature's lanes get times Q (bottom up).
    #[inline(always)]
    fn general_up<const M: usize>(
        &self,
        g: &GeneralSplit,
        h: usize,
        b: &[[f64; M]],
        o: &[u8],
        lanes: &Lanes<M>,
        fma: impl Fn(f64, f64, f64) -> f64 + Copy,
    ) -> ([f64; M], [f64; M]) {
        let kids = g.kid_count as usize;
        // A child's B: a split's from scratch, a leaf's value (its slot holds zeros).
        let kid = |c: usize| -> [f64; M] {
            let bc = &b[g.slots[c] as usize];
            std::array::from_fn(|l| bc[l] + g.values[c])
        };
        let mut mean = [0.0; M];
        for c in 0..kids {
            let bc = kid(c);
            mean = std::array::from_fn(|l| fma(g.shares[c], bc[l], mean[l]));
        }
        match g.repeat {
            Some(rep) if o[rep.prev as usize] != 0 => {
                let (mut sum, mut part) = ([0.0; M], [0.0; M]);
                for c in 0..kids {
                    let at = rep.at as usize + (2 * c + (c == h) as usize) * 2 * M;
                    let (r, e) = (self.vector::<M>(at), self.vector::<M>(at + M));
                    let bc = kid(c);
                    sum = std::array::from_fn(|l| fma(r[l], bc[l], sum[l]));
                    part = std::array::from_fn(|l| fma(e[l], bc[l], part[l]));
                }
                (sum, part)
            }
            Some(_) => (mean, [0.0; M]),
            None => {
                // No hot child (a missing branch that is no child): slot and value give B_h = 0.
                let bh = kid(h);
                let delta: [f64; M] = std::array::from_fn(|l| bh[l] - mean[l]);
                (std::array::from_fn(|l| fma(lanes.t[l], delta[l], mean[l])), delta)
            }
        }
    }
}

/// The Gauss–Legendre points t and 1 - t of a tree, as lane vectors.
struct Lanes<const M: usize> {
    t: [f64; M],
    one_minus_t: [f64; M],
}
