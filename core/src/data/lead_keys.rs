//! Which part of the split each lead was in, kept with a trained version so that
//! `split_of(model, key)` can answer later and `compare()` can tell when it compares leads a model
//! was trained on. A lead is known by a 64-bit hash of its key's text form: per part a sorted array
//! of hashes, 8 bytes a lead (8 MB for a million leads), exact up to a 64-bit collision (for a
//! million leads the chance that an unseen key matches one is about 5 in 10^14).

use crate::core_err;
use crate::data::split::Part;
use crate::CoreResult;

/// The hash of a lead key's text form (`key::text`): FNV-1a over the bytes, then SplitMix64's
/// finalizer so that near keys ("1001", "1002") spread over the whole range. Stable forever: the
/// stored hashes of old versions must keep matching.
pub fn lead_key_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// The sorted key hashes of each part.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartKeys {
    /// Indexed like `Part::ALL`: train, validation, test.
    parts: [Vec<u64>; 3],
}

const MAGIC: &[u8; 4] = b"LSK1";

fn index(part: Part) -> usize {
    match part {
        Part::Train => 0,
        Part::Validation => 1,
        Part::Test => 2,
    }
}

impl PartKeys {
    /// From one key hash and one part per training row (rows without a key are not given).
    pub fn from_rows(hashes: &[u64], parts: &[Part]) -> CoreResult<PartKeys> {
        if hashes.len() != parts.len() {
            return Err(core_err!(Internal, "{} lead keys for {} rows", hashes.len(), parts.len()));
        }
        let mut keys = PartKeys::default();
        for (&h, &p) in hashes.iter().zip(parts) {
            keys.parts[index(p)].push(h);
        }
        for list in &mut keys.parts {
            list.sort_unstable();
            list.dedup();
        }
        Ok(keys)
    }

    /// The part a key was in; None for a key the version never saw. A key that appeared in two
    /// parts (duplicate key values in the source) answers the first of train, validation, test.
    pub fn part_of(&self, hash: u64) -> Option<Part> {
        Part::ALL.into_iter().find(|&p| self.parts[index(p)].binary_search(&hash).is_ok())
    }

    /// Distinct keys in a part.
    pub fn count(&self, part: Part) -> usize {
        self.parts[index(part)].len()
    }

    /// Keys found in more than one part (the source's key column was not unique).
    pub fn shared(&self) -> usize {
        let [train, validation, test] = &self.parts;
        let in_both = |a: &[u64], b: &[u64]| a.iter().filter(|h| b.binary_search(h).is_ok()).count();
        in_both(train, validation) + in_both(train, test) + in_both(validation, test)
    }

    /// "LSK1", three little-endian u64 counts, then the hashes of train, validation and test.
    pub fn encode(&self) -> Vec<u8> {
        let total: usize = self.parts.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(4 + 24 + 8 * total);
        out.extend_from_slice(MAGIC);
        for list in &self.parts {
            out.extend_from_slice(&(list.len() as u64).to_le_bytes());
        }
        for list in &self.parts {
            for h in list {
                out.extend_from_slice(&h.to_le_bytes());
            }
        }
        out
    }

    /// Reads `encode`'s bytes; anything else (a hand-edited catalog) is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> CoreResult<PartKeys> {
        let bad = |why: &str| core_err!(InvalidData, "the stored lead keys of this version are unreadable ({why})");
        if bytes.len() < 28 || &bytes[..4] != MAGIC {
            return Err(bad("no LSK1 header"));
        }
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let counts = [word(4), word(12), word(20)];
        let total = counts.iter().try_fold(0u64, |a, &c| a.checked_add(c)).ok_or_else(|| bad("counts overflow"))?;
        if total.checked_mul(8).and_then(|b| b.checked_add(28)) != Some(bytes.len() as u64) {
            return Err(bad("length does not match the counts"));
        }
        let mut keys = PartKeys::default();
        let mut at = 28;
        for (list, &count) in keys.parts.iter_mut().zip(&counts) {
            list.reserve(count as usize);
            for _ in 0..count {
                list.push(word(at));
                at += 8;
            }
            if !list.is_sorted() {
                return Err(bad("hashes not sorted"));
            }
        }
        Ok(keys)
    }
}

/// The first and last value of the split's time column in each part, for a time split's record.
pub fn part_time_ranges(times: &[Option<f64>], parts: &[Part]) -> [Option<(f64, f64)>; 3] {
    let mut ranges = [None; 3];
    for (t, &p) in times.iter().zip(parts) {
        if let Some(t) = *t {
            let r: &mut Option<(f64, f64)> = &mut ranges[index(p)];
            *r = Some(r.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
        }
    }
    ranges
}

#[cfg(test)]
#[path = "lead_keys_tests.rs"]
mod tests;
