//! The state of the ranking metric aggregates (`roc_auc`, `pr_auc`, `ks_statistic`): the count of
//! positive and negative rows per distinct score. That is all the three metrics read (they
//! treat tied scores as one threshold), it is exact, and two states merge into the state of the
//! union of their rows, so a sharded table can be aggregated per shard and combined.
//!
//! The state is a byte buffer the server keeps (and copies, and sends between nodes) as one value:
//!
//! ```text
//! sorted: u64 | unsorted: u64 | compact at: u64 | entries: (score key: u64, positives: u32, negatives: u32) ...
//! ```
//!
//! The first `sorted` entries are in ascending order of score, one per distinct score (a count
//! past `u32::MAX` continues in the next entry with the same score); the next `unsorted` entries
//! are rows appended as they came (one row each), and the rest of the buffer is room for more.
//! Appending a row writes 16 bytes in place; when the buffer is full, [`ScoreCounts::make_room`]
//! sorts the appended rows into the sorted part, and only when that frees less than half of
//! the room does the caller move the state to a buffer twice as large (after such a compaction,
//! scores rarely repeat, so the next one waits until the buffer is 4 times larger: `compact at`). Scores are stored as
//! order-preserving integers ([`order_key`]: -0.0 and 0.0 are one score, as `==` has them);
//! they must be finite.

use super::metrics::{area_under_points, average_precision_of_points, ks_of_points, order_key};
use crate::error::{CoreError, CoreResult, ErrorKind};

/// Bytes before the first entry: the two counts and the capacity to compact at.
pub const HEADER_BYTES: usize = 24;
/// Bytes per entry.
pub const ENTRY_BYTES: usize = 16;

/// `(score key, positives, negatives)`, one per distinct score, in ascending order of score.
pub type Counts = Vec<(u64, u64, u64)>;

/// A state buffer, read and written in place.
pub struct ScoreCounts<'a> {
    bytes: &'a mut [u8],
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn write_entry(b: &mut [u8], index: usize, key: u64, pos: u32, neg: u32) {
    let at = HEADER_BYTES + index * ENTRY_BYTES;
    b[at..at + 8].copy_from_slice(&key.to_le_bytes());
    b[at + 8..at + 12].copy_from_slice(&pos.to_le_bytes());
    b[at + 12..at + 16].copy_from_slice(&neg.to_le_bytes());
}

fn read_entry(b: &[u8], index: usize) -> (u64, u64, u64) {
    let at = HEADER_BYTES + index * ENTRY_BYTES;
    (read_u64(b, at), u64::from(read_u32(b, at + 8)), u64::from(read_u32(b, at + 12)))
}

/// The buffer length that holds `entries` entries.
pub fn bytes_for(entries: usize) -> usize {
    HEADER_BYTES + entries * ENTRY_BYTES
}

impl<'a> ScoreCounts<'a> {
    /// An empty state in `bytes` (at least [`HEADER_BYTES`] long).
    pub fn init(bytes: &'a mut [u8]) -> Self {
        bytes[..HEADER_BYTES].fill(0);
        ScoreCounts { bytes }
    }

    /// A state written before, checked: its counts must fit the buffer.
    pub fn open(bytes: &'a mut [u8]) -> CoreResult<Self> {
        check_layout(bytes)?;
        Ok(ScoreCounts { bytes })
    }

    fn sorted(&self) -> usize {
        read_u64(self.bytes, 0) as usize
    }

    fn unsorted(&self) -> usize {
        read_u64(self.bytes, 8) as usize
    }

    fn set_counts(&mut self, sorted: usize, unsorted: usize) {
        self.bytes[0..8].copy_from_slice(&(sorted as u64).to_le_bytes());
        self.bytes[8..16].copy_from_slice(&(unsorted as u64).to_le_bytes());
    }

    /// Entries the buffer has room for.
    pub fn capacity(&self) -> usize {
        (self.bytes.len() - HEADER_BYTES) / ENTRY_BYTES
    }

    /// Entries in use; the bytes past `bytes_for(used())` are free room.
    pub fn used(&self) -> usize {
        self.sorted() + self.unsorted()
    }

    /// Appends one row (a finite score); false, changing nothing, when the buffer is full.
    #[inline]
    pub fn push(&mut self, score: f64, positive: bool) -> bool {
        let (sorted, unsorted) = (self.sorted(), self.unsorted());
        if sorted + unsorted == self.capacity() {
            return false;
        }
        write_entry(self.bytes, sorted + unsorted, order_key(score), positive as u32, !positive as u32);
        self.bytes[8..16].copy_from_slice(&(unsorted as u64 + 1).to_le_bytes());
        true
    }

    /// Called when [`push`](Self::push) found the buffer full: compacts it unless the last
    /// compaction found few repeated scores; returns the capacity of the larger buffer to move
    /// the state to ([`move_to`](Self::move_to)) when less than half the room is free.
    pub fn make_room(&mut self) -> Option<usize> {
        let capacity = self.capacity();
        if capacity as u64 >= read_u64(self.bytes, 16) {
            self.compact();
            if capacity - self.used() >= capacity / 2 {
                return None;
            }
            let next = (capacity as u64).saturating_mul(4);
            self.bytes[16..24].copy_from_slice(&next.to_le_bytes());
        }
        Some(capacity.saturating_mul(2))
    }

    /// Sorts the appended rows into the sorted part, merging equal scores.
    pub fn compact(&mut self) {
        if self.unsorted() == 0 {
            return;
        }
        let counts = self.counts();
        // One entry per distinct score (or more for a count past u32::MAX, which needs more
        // rows than entries): never more entries than before.
        let written = write_counts(self.bytes, &counts);
        self.set_counts(written, 0);
    }

    /// The counts per distinct score, ascending; the state itself is not changed.
    pub fn counts(&self) -> Counts {
        counts_of(self.bytes, self.sorted(), self.unsorted())
    }

    /// Appends the entries of `other` (a checked state, see [`check_layout`]) to the appended
    /// part, as a combine function merges another state in place; false, changing nothing,
    /// without room for them. The next compaction sorts them in.
    pub fn append_state(&mut self, other: &[u8]) -> bool {
        let (used, more) = (self.used(), read_u64(other, 0) as usize + read_u64(other, 8) as usize);
        if more > self.capacity() - used {
            return false;
        }
        let (from, to) = (HEADER_BYTES, bytes_for(used));
        self.bytes[to..to + more * ENTRY_BYTES].copy_from_slice(&other[from..from + more * ENTRY_BYTES]);
        let unsorted = self.unsorted() + more;
        self.set_counts(self.sorted(), unsorted);
        true
    }

    /// Copies this state's entries into `bytes`, a larger buffer, which then holds the same state.
    pub fn move_to(&self, bytes: &mut [u8]) {
        let end = bytes_for(self.used());
        bytes[..end].copy_from_slice(&self.bytes[..end]);
    }
}

/// Checks the two counts against the buffer's length.
pub fn check_layout(bytes: &[u8]) -> CoreResult<()> {
    let corrupt = || CoreError::new(ErrorKind::CorruptArtifact, "corrupt score_counts value");
    if bytes.len() < HEADER_BYTES || !(bytes.len() - HEADER_BYTES).is_multiple_of(ENTRY_BYTES) {
        return Err(corrupt());
    }
    let (sorted, unsorted) = (read_u64(bytes, 0), read_u64(bytes, 8));
    let room = ((bytes.len() - HEADER_BYTES) / ENTRY_BYTES) as u64;
    if sorted > room || unsorted > room - sorted {
        return Err(corrupt());
    }
    Ok(())
}

/// The counts of a state read only (a final function's argument), checked.
pub fn counts_of_state(bytes: &[u8]) -> CoreResult<Counts> {
    check_layout(bytes)?;
    let (sorted, unsorted) = (read_u64(bytes, 0) as usize, read_u64(bytes, 8) as usize);
    if (1..sorted).any(|i| read_entry(bytes, i - 1).0 > read_entry(bytes, i).0) {
        return Err(CoreError::new(ErrorKind::CorruptArtifact, "corrupt score_counts value: the sorted scores are out of order"));
    }
    Ok(counts_of(bytes, sorted, unsorted))
}

fn counts_of(bytes: &[u8], sorted: usize, unsorted: usize) -> Counts {
    // Appended rows are one positive or one negative each: their keys sort as plain integers,
    // one class apart (several times faster than sorting entries), then merge by key.
    let (mut positives, mut negatives, mut others) = (Vec::new(), Vec::with_capacity(unsorted), Vec::new());
    for i in sorted..sorted + unsorted {
        match read_entry(bytes, i) {
            (key, 1, 0) => positives.push(key),
            (key, 0, 1) => negatives.push(key),
            other => others.push(other),
        }
    }
    positives.sort_unstable();
    negatives.sort_unstable();
    others.sort_unstable_by_key(|e| e.0);
    let mut appended: Counts = Vec::with_capacity(unsorted);
    let (mut i, mut j) = (0, 0);
    while i < positives.len() || j < negatives.len() {
        let key = match (positives.get(i), negatives.get(j)) {
            (Some(&p), Some(&n)) => p.min(n),
            (Some(&p), None) => p,
            (None, Some(&n)) => n,
            (None, None) => unreachable!(),
        };
        let (i0, j0) = (i, j);
        while positives.get(i) == Some(&key) {
            i += 1;
        }
        while negatives.get(j) == Some(&key) {
            j += 1;
        }
        appended.push((key, (i - i0) as u64, (j - j0) as u64));
    }
    if !others.is_empty() {
        appended = merge_counts(&appended, &coalesced(others));
    }
    let mut out: Counts = Vec::with_capacity(sorted + appended.len());
    let mut add = |(key, pos, neg): (u64, u64, u64)| match out.last_mut() {
        Some(last) if last.0 == key => {
            last.1 += pos;
            last.2 += neg;
        }
        _ => out.push((key, pos, neg)),
    };
    let mut next = appended.into_iter().peekable();
    for i in 0..sorted {
        let entry = read_entry(bytes, i);
        while let Some(a) = next.next_if(|a| a.0 < entry.0) {
            add(a);
        }
        add(entry);
    }
    next.for_each(add);
    out
}

/// Sorted entries with equal scores added up.
fn coalesced(sorted: Vec<(u64, u64, u64)>) -> Counts {
    let mut out: Counts = Vec::with_capacity(sorted.len());
    for (key, pos, neg) in sorted {
        match out.last_mut() {
            Some(last) if last.0 == key => {
                last.1 += pos;
                last.2 += neg;
            }
            _ => out.push((key, pos, neg)),
        }
    }
    out
}

/// The union of two states' counts.
pub fn merge_counts(a: &[(u64, u64, u64)], b: &[(u64, u64, u64)]) -> Counts {
    let mut out: Counts = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = if j == b.len() || (i < a.len() && a[i].0 < b[j].0) {
            i += 1;
            a[i - 1]
        } else if i == a.len() || b[j].0 < a[i].0 {
            j += 1;
            b[j - 1]
        } else {
            i += 1;
            j += 1;
            (a[i - 1].0, a[i - 1].1 + b[j - 1].1, a[i - 1].2 + b[j - 1].2)
        };
        out.push(next);
    }
    out
}

/// Entries `counts` takes (one per score, more for a count past `u32::MAX`).
pub fn entries_for(counts: &[(u64, u64, u64)]) -> usize {
    let max = u64::from(u32::MAX);
    counts.iter().map(|&(_, p, n)| (p.max(n).div_ceil(max)).max(1) as usize).sum()
}

/// Writes `counts` as the sorted part of `bytes` (room for [`entries_for`] entries) and returns
/// how many entries that took; the caller sets the header.
fn write_counts(bytes: &mut [u8], counts: &[(u64, u64, u64)]) -> usize {
    let max = u64::from(u32::MAX);
    let mut index = 0;
    for &(key, mut pos, mut neg) in counts {
        loop {
            let (p, n) = (pos.min(max), neg.min(max));
            write_entry(bytes, index, key, p as u32, n as u32);
            index += 1;
            (pos, neg) = (pos - p, neg - n);
            if pos == 0 && neg == 0 {
                break;
            }
        }
    }
    index
}

/// A new state buffer holding `counts`, with room for `spare` more rows.
pub fn state_of_counts(counts: &[(u64, u64, u64)], spare: usize) -> Vec<u8> {
    let entries = entries_for(counts);
    let mut bytes = vec![0u8; bytes_for(entries + spare)];
    let written = write_counts(&mut bytes, counts);
    let mut state = ScoreCounts { bytes: &mut bytes };
    state.set_counts(written, 0);
    bytes
}

/// The cumulative `(tp, fp)` of `(positives, negatives)` per distinct score (highest score
/// first), and the totals: the curve without storing its points.
fn cumulative_counts(counts: impl Iterator<Item = (u64, u64)> + Clone) -> (impl Iterator<Item = (u64, u64)>, u64, u64) {
    let (pos, neg) = counts.clone().fold((0, 0), |(p, n), (dp, dn)| (p + dp, n + dn));
    let points = counts.scan((0u64, 0u64), |acc, (p, n)| {
        *acc = (acc.0 + p, acc.1 + n);
        Some(*acc)
    });
    (points, pos, neg)
}

/// [`roc_auc`](super::roc_auc) from the count of positives and negatives per distinct score, highest score
/// first (the state of the `roc_auc` aggregate): the same value, bit for bit.
pub fn roc_auc_of_counts(counts: impl Iterator<Item = (u64, u64)> + Clone) -> Option<f64> {
    let (points, pos, neg) = cumulative_counts(counts);
    area_under_points(points, pos, neg)
}

/// [`average_precision`](super::average_precision) from counts per distinct score, highest first: the same value, bit for bit.
pub fn average_precision_of_counts(counts: impl Iterator<Item = (u64, u64)> + Clone) -> Option<f64> {
    let (points, pos, _) = cumulative_counts(counts);
    average_precision_of_points(points, pos)
}

/// [`ks_statistic`](super::ks_statistic) from counts per distinct score, highest first: the same value, bit for bit.
pub fn ks_statistic_of_counts(counts: impl Iterator<Item = (u64, u64)> + Clone) -> Option<f64> {
    let (points, pos, neg) = cumulative_counts(counts);
    ks_of_points(points, pos, neg)
}

/// The positives and negatives per distinct score, highest score first: what the ranking
/// metrics above read.
pub fn descending(counts: &[(u64, u64, u64)]) -> impl Iterator<Item = (u64, u64)> + Clone + '_ {
    counts.iter().rev().map(|&(_, p, n)| (p, n))
}

#[cfg(test)]
#[path = "score_counts_tests.rs"]
mod tests;
