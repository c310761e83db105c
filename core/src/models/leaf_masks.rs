//! Scoring all the trees of a model at once with leaf bit masks (QuickScorer's idea, Lucchese et
//! al. 2015), with every input cut into bins first, so that the per-lead work is a few bin
//! searches and a pass of AND over small rows of masks instead of thousands of dependent,
//! mispredicted branches (walking 300 leaf-wise trees of 31 leaves took about 20 us a lead).
//!
//! Per tree, the leaves are numbered left to right; a split's mask has the bits of the leaves of
//! its left subtree cleared. A lead's leaf in a tree is the lowest bit left after ANDing the masks
//! of every split of the tree that sends the lead right (whether on its path or not). A split's
//! decision only changes at a few values of its input (its threshold, LightGBM's zero band, whole
//! numbers for category sets, NaN), so per input the model's cut points split the number line
//! into bins in which every split of every tree decides alike; per bin, the AND of the masks of
//! the splits that send its values right is precomputed per tree, decided by `Node::child_for`
//! itself on a value of the bin. Scoring a lead then finds each input's bin and ANDs one row of
//! masks per input. The leaf values are added in the canonical order of `tree_sum.rs`, as every
//! other path adds them, so scores equal the node walk's bit for bit.

use std::collections::{BTreeMap, HashMap};

use crate::models::cut_search::CutSearch;
use crate::models::tree_sum::TreeSum;
use crate::models::trees::{MissingRule, Tree, MAX_TREE_DEPTH, ZERO_THRESHOLD};

/// Leaves a tree may have here: one bit each in a u32 (LightGBM's default is 31).
const MAX_LEAVES: usize = 32;
/// Trees whose masks are ANDed together per pass over the inputs: 128 bytes of masks, held in
/// vector registers while the rows of all inputs are ANDed in.
const CHUNK: usize = 32;
/// Cut points an input may have (category codes count one each).
const MAX_CUTS: usize = 1 << 16;
/// Bytes of masks a model may take before scoring walks the trees instead.
const MAX_MASK_BYTES: usize = 64 << 20;
/// Masks computed while building, at most (bins times trees, summed over the inputs): building
/// runs when a backend loads the model and cannot be cancelled, so a model past it (thousands of
/// trees on many inputs) walks its trees instead of stalling the load for seconds. 300 trees on
/// 19 inputs of 255 bins take 1.5 million (a few ms).
const MAX_BUILD_MASKS: usize = 1 << 26;
/// Inputs counted on the stack while scoring (more take a heap buffer).
const STACK_INPUTS: usize = 64;

/// One input's bins: a value's bin is the number of cuts below it; NaN has a bin of its own.
/// A bin's row of masks (one per tree) is kept as one block of masks per chunk of trees, so that
/// bins which differ in a few trees share the blocks of all other chunks: the masks of 300
/// trees on inputs with 255 bins each take a few hundred kB (in L2) instead of megabytes.
#[derive(Debug, Clone)]
struct InputBins {
    input: usize,
    cuts: CutSearch,
    /// Per bin (one more than cuts, then NaN's), where each chunk's block starts in
    /// `LeafMasks::masks`: `chunks` entries per bin.
    blocks: Vec<u32>,
    /// For an input some category split reads: the bin of each whole number below the largest
    /// category bitset's end (what the search finds for it), so that a category code costs
    /// one load instead of a search; empty for other inputs.
    by_code: Vec<u32>,
}

/// All the trees of a model as rows of leaf masks per input bin.
#[derive(Debug, Clone)]
pub struct LeafMasks {
    /// The inputs some split reads, in input order.
    inputs: Vec<InputBins>,
    /// Chunks of trees (the last one padded with all-ones masks).
    chunks: usize,
    /// Blocks of CHUNK masks, each kept once.
    masks: Vec<u32>,
    /// Per tree, MAX_LEAVES slots: its leaves' values, left to right (-0.0 in the padding
    /// trees of the last chunk, which adds nothing to a sum).
    leaf_values: Vec<f64>,
    /// Whether this CPU has AVX2, asked once here rather than per lead.
    avx2: bool,
}

impl LeafMasks {
    /// The masks of `trees`; None when a tree has what they cannot hold: more than 32 leaves, a
    /// missing branch of its own (forust-ml's third child), a NaN threshold, children before
    /// their parent, or cut points and masks past the limits above.
    pub fn new(trees: &[Tree]) -> Option<LeafMasks> {
        let chunks = trees.len().div_ceil(CHUNK);
        let stride = chunks * CHUNK;
        let mut leaf_values = vec![-0.0; stride * MAX_LEAVES];
        // Per input, the splits on it: (tree, node, mask).
        let mut splits: BTreeMap<usize, Vec<(usize, usize, u32)>> = BTreeMap::new();
        for (t, tree) in trees.iter().enumerate() {
            let mut masks = vec![u32::MAX; tree.nodes.len()];
            let mut leaves = Vec::with_capacity(MAX_LEAVES);
            number_leaves(tree, 0, 0, &mut masks, &mut leaves)?;
            leaf_values[t * MAX_LEAVES..][..leaves.len()].copy_from_slice(&leaves);
            for (i, n) in tree.nodes.iter().enumerate().filter(|(_, n)| !n.is_leaf) {
                if n.missing_node != n.left_child && n.missing_node != n.right_child {
                    return None;
                }
                splits.entry(n.split_feature).or_default().push((t, i, masks[i]));
            }
        }
        let mut table = MaskTable { stride, masks: Vec::new(), seen: HashMap::new() };
        let mut inputs = Vec::with_capacity(splits.len());
        let mut work = 0usize;
        for (input, on_input) in splits {
            let cuts = cut_points(trees, &on_input)?;
            work = work.saturating_add((cuts.len() + 2).saturating_mul(stride));
            if work > MAX_BUILD_MASKS {
                return None;
            }
            let mut rows = Vec::with_capacity(cuts.len() + 1);
            for k in 0..=cuts.len() {
                // Bin k holds the values in (cuts[k - 1], cuts[k]]: cuts[k] is one of them.
                rows.push(table.row(trees, &on_input, cuts.get(k).copied().unwrap_or(f64::INFINITY))?);
            }
            let nan = table.row(trees, &on_input, f64::NAN)?;
            // Neighbouring bins with the same masks become one: fewer cuts to search per lead.
            let (mut kept_cuts, mut blocks) = (Vec::new(), rows[0].clone());
            for (k, &cut) in cuts.iter().enumerate() {
                if blocks[blocks.len() - chunks..] != rows[k + 1][..] {
                    kept_cuts.push(cut);
                    blocks.extend_from_slice(&rows[k + 1]);
                }
            }
            blocks.extend_from_slice(&nan);
            let codes = on_input.iter().filter_map(|&(t, i, _)| trees[t].nodes[i].categories.as_ref()).map(|b| b.len() * 32);
            let by_code = (0..codes.max().unwrap_or(0)).map(|c| kept_cuts.partition_point(|&k| k < c as f64) as u32).collect();
            inputs.push(InputBins { input, cuts: CutSearch::new(&kept_cuts), blocks, by_code });
        }
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        Some(LeafMasks { inputs, chunks, masks: table.masks, leaf_values, avx2 })
    }

    /// The same masks, ANDed without AVX2 (for tests of the portable paths on any CPU).
    #[cfg(test)]
    fn portable(mut self) -> LeafMasks {
        self.avx2 = false;
        self
    }

    /// Per tree, the leaf value `row` reaches, summed in the canonical order (`tree_sum.rs`).
    #[inline]
    pub fn sum(&self, row: &[f64]) -> f64 {
        self.with_bins(row, |at| self.sum_of_bins(at))
    }

    /// The sum with only the instructions every CPU of the target has (what `sum` does without
    /// AVX2; public so that the timing example can compare the two).
    #[inline(always)]
    pub fn sum_portable(&self, row: &[f64]) -> f64 {
        self.with_bins(row, |at| self.and_and_add(at))
    }

    /// `then` of where each used input's bin of `row` starts (see [`LeafMasks::bin_start`]).
    #[inline(always)]
    fn with_bins(&self, row: &[f64], then: impl FnOnce(&[u32]) -> f64) -> f64 {
        self.with_bin_slots(|at| {
            for (k, slot) in at.iter_mut().enumerate() {
                *slot = self.bin_start(k, row[self.inputs[k].input]);
            }
            then(at)
        })
    }

    /// `then` of a scratch slot per used input for a lead's bin starts: on the stack for up to
    /// STACK_INPUTS used inputs, on the heap past them.
    #[inline(always)]
    pub fn with_bin_slots<R>(&self, then: impl FnOnce(&mut [u32]) -> R) -> R {
        let n = self.inputs.len();
        let mut stack = [0u32; STACK_INPUTS];
        let mut heap = Vec::new();
        let at = if n <= STACK_INPUTS {
            &mut stack[..n]
        } else {
            heap.resize(n, 0);
            &mut heap[..]
        };
        then(at)
    }

    /// The model input that used input `k` is (the inputs some split reads, ascending).
    pub fn used_inputs(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.inputs.iter().map(|b| b.input)
    }

    /// Where the blocks of used input `k`'s bin of value `x` start: what
    /// [`LeafMasks::sum_of_bins`] takes per used input.
    #[inline(always)]
    pub fn bin_start(&self, k: usize, x: f64) -> u32 {
        let bins = &self.inputs[k];
        // `x as usize` is 0 for NaN and negatives and saturates past usize, so only a whole
        // number inside the table passes the comparison.
        let bin = match bins.by_code.get(x as usize) {
            Some(&bin) if (x as usize) as f64 == x => bin as usize,
            _ if x.is_nan() => bins.cuts.len() + 1,
            _ => bins.cuts.below(x),
        };
        (bin * self.chunks) as u32
    }

    /// The sum for a lead whose used inputs' bins start at `at` (one [`LeafMasks::bin_start`]
    /// per used input, in order).
    #[inline]
    pub fn sum_of_bins(&self, at: &[u32]) -> f64 {
        assert_eq!(at.len(), self.inputs.len(), "one bin per used input");
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when this CPU has AVX2 (`LeafMasks::new` asked it).
            return unsafe { self.and_and_add_avx2(at) };
        }
        self.and_and_add(at)
    }

    /// The sums of several leads at once: `at` holds each lead's bin starts (one
    /// [`LeafMasks::bin_start`] per used input) one lead after the other, `out` gets one sum per
    /// lead, the same bits as [`LeafMasks::sum_of_bins`] of each. The leads go through the trees
    /// a chunk at a time, so that the chunk's masks stay in the nearest cache while every lead
    /// reads them, and the leads' additions (each lead's in tree order) run side by side instead
    /// of one lead's chain of 300 after another's. For scoring many rows of a table.
    pub fn sums_of_bins(&self, at: &[u32], out: &mut [f64]) {
        assert_eq!(at.len(), self.inputs.len() * out.len(), "one bin per used input and lead");
        let mut sums = vec![TreeSum::default(); out.len()];
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when this CPU has AVX2 (`LeafMasks::new` asked it).
            unsafe { self.add_leads_avx2(at, &mut sums) };
        } else {
            self.add_leads(at, &mut sums, |at, chunk| self.and_chunk(at, chunk));
        }
        #[cfg(not(target_arch = "x86_64"))]
        self.add_leads(at, &mut sums, |at, chunk| self.and_chunk(at, chunk));
        for (o, sum) in out.iter_mut().zip(&sums) {
            *o = sum.total();
        }
    }

    /// `and_and_add` with the chunk's masks in AVX2 registers.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn and_and_add_avx2(&self, at: &[u32]) -> f64 {
        // SAFETY: this function has AVX2.
        self.and_and_add_with(at, |at, chunk| unsafe { self.and_chunk_avx2(at, chunk) })
    }

    /// `add_leads` with the chunk's masks in AVX2 registers.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn add_leads_avx2(&self, at: &[u32], sums: &mut [TreeSum]) {
        // SAFETY: this function has AVX2.
        self.add_leads(at, sums, |at, chunk| unsafe { self.and_chunk_avx2(at, chunk) })
    }

    /// `and_chunk` in four AVX2 registers, written out: the compiler's own vectors of the loop
    /// spilled to the stack.
    ///
    /// # Safety
    /// Only from a function with AVX2 enabled, into which this one and its intrinsics inline.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn and_chunk_avx2(&self, at: &[u32], chunk: usize) -> [u32; CHUNK] {
        use std::arch::x86_64::{__m256i, _mm256_and_si256, _mm256_loadu_si256, _mm256_set1_epi32, _mm256_storeu_si256};
        // SAFETY (all intrinsics): the caller has AVX2; loads and stores stay inside the chunk's
        // 32 masks (k < CHUNK / 8) and allow any alignment.
        let mut leaves = [unsafe { _mm256_set1_epi32(-1) }; CHUNK / 8];
        for (bins, &at) in self.inputs.iter().zip(at.iter()) {
            let masks = self.block(bins, at, chunk);
            for (k, l) in leaves.iter_mut().enumerate() {
                *l = unsafe { _mm256_and_si256(*l, _mm256_loadu_si256(masks.as_ptr().add(8 * k).cast::<__m256i>())) };
            }
        }
        let mut bits = [0u32; CHUNK];
        for (k, l) in leaves.iter().enumerate() {
            unsafe { _mm256_storeu_si256(bits.as_mut_ptr().add(8 * k).cast::<__m256i>(), *l) };
        }
        bits
    }

    /// Per chunk of trees, the AND of the blocks of every used input's bin, then the leaf values
    /// the ANDed masks pick, added up.
    #[inline(always)]
    fn and_and_add(&self, at: &[u32]) -> f64 {
        self.and_and_add_with(at, |at, chunk| self.and_chunk(at, chunk))
    }

    /// `and_and_add` with `and_chunk` (or its AVX2 form) as the AND pass of a chunk; inlined
    /// into its caller, whose instructions the pass then uses.
    #[inline(always)]
    fn and_and_add_with(&self, at: &[u32], and_chunk: impl Fn(&[u32], usize) -> [u32; CHUNK]) -> f64 {
        let mut sum = TreeSum::default();
        for chunk in 0..self.chunks {
            self.add_leaves(&mut sum, chunk * CHUNK, &and_chunk(at, chunk));
        }
        sum.total()
    }

    /// `and_and_add_with` of each lead, a chunk of trees for every lead at a time.
    #[inline(always)]
    fn add_leads(&self, at: &[u32], sums: &mut [TreeSum], and_chunk: impl Fn(&[u32], usize) -> [u32; CHUNK]) {
        let inputs = self.inputs.len();
        for chunk in 0..self.chunks {
            for (lead, sum) in sums.iter_mut().enumerate() {
                self.add_leaves(sum, chunk * CHUNK, &and_chunk(&at[lead * inputs..(lead + 1) * inputs], chunk));
            }
        }
    }

    /// Per tree of chunk `chunk`, the AND of its masks in every used input's bin.
    #[inline(always)]
    fn and_chunk(&self, at: &[u32], chunk: usize) -> [u32; CHUNK] {
        let mut leaves = [u32::MAX; CHUNK];
        for (bins, &at) in self.inputs.iter().zip(at.iter()) {
            let masks = self.block(bins, at, chunk);
            for j in 0..CHUNK {
                leaves[j] &= masks[j];
            }
        }
        leaves
    }

    /// The masks of chunk `chunk` of the trees for the bin whose blocks start at `at`.
    #[inline(always)]
    fn block(&self, bins: &InputBins, at: u32, chunk: usize) -> &[u32; CHUNK] {
        let offset = bins.blocks[at as usize + chunk] as usize;
        self.masks[offset..][..CHUNK].try_into().expect("a block of CHUNK masks")
    }

    /// Adds to `sum` the leaf values of the chunk of trees from `start`; `leaves` holds each
    /// tree's ANDed mask. The chunk's padding trees (past the last) have all-ones masks and
    /// -0.0 in their first slot.
    #[inline(always)]
    fn add_leaves(&self, sum: &mut TreeSum, start: usize, leaves: &[u32; CHUNK]) {
        let values = &self.leaf_values[start * MAX_LEAVES..][..CHUNK * MAX_LEAVES];
        for (tree, l) in values.chunks_exact(MAX_LEAVES).zip(leaves) {
            // The lead's leaf keeps its bit in every mask, so `l` is never 0 (at most 31).
            sum.add(tree[l.trailing_zeros() as usize & (MAX_LEAVES - 1)]);
        }
    }

    /// Bytes the masks and leaf values take.
    pub fn bytes(&self) -> usize {
        self.masks.len() * 4
            + self.leaf_values.len() * 8
            + self.inputs.iter().map(|b| b.cuts.bytes() + b.blocks.len() * 4).sum::<usize>()
    }
}

/// Blocks of masks, each kept once however many bins and inputs share it.
struct MaskTable {
    stride: usize,
    masks: Vec<u32>,
    seen: HashMap<[u32; CHUNK], u32>,
}

impl MaskTable {
    /// Where the blocks for value `x` of the input that `splits` read start, one per chunk: per
    /// tree, the AND of the masks of its splits that send `x` right.
    fn row(&mut self, trees: &[Tree], splits: &[(usize, usize, u32)], x: f64) -> Option<Vec<u32>> {
        let mut row = vec![u32::MAX; self.stride];
        for &(t, i, mask) in splits {
            let n = &trees[t].nodes[i];
            if n.child_for(x) == n.right_child {
                row[t] &= mask;
            }
        }
        row.chunks_exact(CHUNK).map(|block| self.block(block.try_into().expect("a chunk"))).collect()
    }

    fn block(&mut self, block: [u32; CHUNK]) -> Option<u32> {
        if let Some(&at) = self.seen.get(&block) {
            return Some(at);
        }
        let at = u32::try_from(self.masks.len()).ok()?;
        if (self.masks.len() + CHUNK) * 4 > MAX_MASK_BYTES {
            return None;
        }
        self.masks.extend_from_slice(&block);
        self.seen.insert(block, at);
        Some(at)
    }
}

/// Numbers the leaves under node `i` left to right (appending their values to `leaves`) and sets
/// each split's mask: all ones but its left subtree's leaves.
fn number_leaves(tree: &Tree, i: usize, depth: usize, masks: &mut [u32], leaves: &mut Vec<f64>) -> Option<()> {
    let n = tree.nodes.get(i)?;
    if n.is_leaf {
        if leaves.len() == MAX_LEAVES {
            return None;
        }
        leaves.push(n.weight_value);
        return Some(());
    }
    // Children after their parent and a bounded depth: the walk ends (Tree::check asks both).
    if n.left_child <= i || n.right_child <= i || depth >= MAX_TREE_DEPTH {
        return None;
    }
    let first = leaves.len();
    number_leaves(tree, n.left_child, depth + 1, masks, leaves)?;
    let left = (1u64 << leaves.len()) - (1u64 << first);
    masks[i] = !(left as u32);
    number_leaves(tree, n.right_child, depth + 1, masks, leaves)
}

/// The values at which some split on one input changes its decision, sorted: a split decides
/// alike for all values in (a, b] between neighbouring cuts (and for NaN, kept apart).
fn cut_points(trees: &[Tree], splits: &[(usize, usize, u32)]) -> Option<Vec<f64>> {
    let mut cuts = Vec::new();
    // Category codes: the cast to an integer makes [c, c + 1) one code, (-1, 1) code 0, and
    // anything at or below -1 or past the largest bitset no category at all.
    let mut codes = 0usize;
    for &(t, i, _) in splits {
        let n = &trees[t].nodes[i];
        match &n.categories {
            Some(bits) => codes = codes.max(bits.len().checked_mul(32)?),
            None if n.split_value.is_nan() => return None,
            None => {
                cuts.push(n.split_value);
                if n.missing == MissingRule::Zero {
                    // LightGBM's zero band [-ZERO_THRESHOLD, ZERO_THRESHOLD].
                    cuts.extend([(-ZERO_THRESHOLD).next_down(), ZERO_THRESHOLD]);
                }
            }
        }
    }
    if codes > MAX_CUTS {
        return None;
    }
    if codes > 0 {
        cuts.push(-1.0);
        cuts.extend((1..=codes).map(|c| (c as f64).next_down()));
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    (cuts.len() <= MAX_CUTS).then_some(cuts)
}

#[cfg(test)]
#[path = "leaf_masks_tests.rs"]
mod tests;
