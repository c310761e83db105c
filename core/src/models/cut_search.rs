//! How many of an input's sorted cut points lie below a value: the bin a lead's number falls in
//! (`leaf_masks.rs`), found for every numeric input of every scored lead. A binary search over
//! a couple of hundred cuts is eight loads each waiting on the comparison before it (half the
//! time of reading a lead's fields in a `perf` profile of score()); here it is two steps of
//! sixteen independent comparisons each: the groups of sixteen cuts whose last cut is below the
//! value, then the cuts below it in the next group. Same answer as
//! `cuts.partition_point(|&c| c < x)` for every value, NaN included (no cut is below NaN).

/// Cuts compared at once in each step.
const GROUP: usize = 16;

/// Sorted cut points, laid out for [`CutSearch::below`].
#[derive(Debug, Clone)]
pub struct CutSearch {
    /// The cuts, then +inf up to a whole number of groups (+inf is below no value).
    cuts: Vec<f64>,
    /// The last cut of each group (+inf for a last group the padding fills), then +inf up to a
    /// whole number of groups.
    fences: Vec<f64>,
    len: usize,
}

impl CutSearch {
    /// `cuts` must be sorted ascending (by `<`; no NaN).
    pub fn new(cuts: &[f64]) -> CutSearch {
        debug_assert!(cuts.windows(2).all(|w| w[0] <= w[1]), "sorted cuts");
        let mut padded = cuts.to_vec();
        padded.resize(cuts.len().div_ceil(GROUP) * GROUP, f64::INFINITY);
        let mut fences: Vec<f64> = padded.chunks_exact(GROUP).map(|g| g[GROUP - 1]).collect();
        fences.resize(fences.len().div_ceil(GROUP).max(1) * GROUP, f64::INFINITY);
        CutSearch { cuts: padded, fences, len: cuts.len() }
    }

    /// How many cuts there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The cuts, ascending.
    #[cfg(test)]
    pub fn cuts(&self) -> &[f64] {
        &self.cuts[..self.len]
    }

    /// The number of cuts below `x`.
    #[inline(always)]
    pub fn below(&self, x: f64) -> usize {
        // Whole groups below x: all their cuts are (their last one is, and they are sorted).
        let groups = if self.fences.len() == GROUP {
            count_below(self.fences[..GROUP].try_into().expect("one group"), x)
        } else {
            self.fences.partition_point(|&f| f < x)
        };
        match self.cuts.get(groups * GROUP..(groups + 1) * GROUP) {
            // Past the group: the next fence is not below x, so neither is any later cut.
            Some(group) => groups * GROUP + count_below(group.try_into().expect("one group"), x),
            None => self.len,
        }
    }

    /// Bytes the cuts and fences take.
    pub fn bytes(&self) -> usize {
        (self.cuts.len() + self.fences.len()) * 8
    }
}

/// How many of sixteen values are below `x`: independent comparisons the compiler vectorizes.
#[inline(always)]
fn count_below(group: &[f64; GROUP], x: f64) -> usize {
    group.iter().map(|&c| usize::from(c < x)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_counts_what_a_binary_search_counts() {
        let mut rng = crate::data::SeededRng::new(7);
        let mut next = move || rng.next_u64();
        // Empty, under one group, whole groups, a partial last group, more than 16 groups (the
        // fences searched by halves), repeated cuts and both infinities among them.
        for len in [0usize, 1, 5, 15, 16, 17, 31, 32, 33, 255, 256, 257, 300, 1000] {
            let mut cuts: Vec<f64> = (0..len).map(|_| (next() % 200) as f64 / 4.0 - 20.0).collect();
            if len > 3 {
                (cuts[0], cuts[1]) = (f64::NEG_INFINITY, f64::INFINITY);
            }
            cuts.sort_by(f64::total_cmp);
            let search = CutSearch::new(&cuts);
            assert_eq!((search.len(), search.cuts()), (len, &cuts[..]));
            let mut probes = vec![f64::NAN, f64::NEG_INFINITY, f64::INFINITY, -0.0, 0.0, f64::MAX, f64::MIN];
            probes.extend(cuts.iter().flat_map(|&c| [c, c.next_down(), c.next_up()]));
            probes.extend((0..200).map(|_| (next() % 1000) as f64 / 17.0 - 30.0));
            for x in probes {
                assert_eq!(search.below(x), cuts.partition_point(|&c| c < x), "{len} cuts, x = {x}");
            }
        }
    }
}
