//! Train / validation / test splits. Every method is deterministic for a given seed, so a
//! model can be retrained on exactly the same rows, and the split is recorded in the model.

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::data::values::NULL_CODE;
use crate::CoreResult;

/// The part of the data a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Part {
    Train,
    Validation,
    Test,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Train, Part::Validation, Part::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Validation => "validation",
            Part::Test => "test",
        }
    }
}

/// How rows are assigned to parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SplitMethod {
    /// Random within each class, so every part keeps the base rate.
    Stratified,
    /// Plain random.
    Random,
    /// Oldest rows train, newer validation, newest test (by the named column).
    Time { column: String },
    /// All rows of one group (for example one company) in the same part.
    Group { column: String },
    /// The named column says 'train', 'validation' or 'test' for each row.
    Column { column: String },
}

/// A split method with its fractions and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSpec {
    pub method: SplitMethod,
    pub train_fraction: f64,
    pub validation_fraction: f64,
    pub seed: u64,
}

impl Default for SplitSpec {
    fn default() -> Self {
        SplitSpec { method: SplitMethod::Stratified, train_fraction: 0.8, validation_fraction: 0.1, seed: 42 }
    }
}

impl SplitSpec {
    /// The column the split reads besides the label, if any.
    pub fn key_column(&self) -> Option<&str> {
        match &self.method {
            SplitMethod::Time { column } | SplitMethod::Group { column } | SplitMethod::Column { column } => Some(column),
            _ => None,
        }
    }

    pub fn method_name(&self) -> &'static str {
        match self.method {
            SplitMethod::Stratified => "stratified",
            SplitMethod::Random => "random",
            SplitMethod::Time { .. } => "time",
            SplitMethod::Group { .. } => "group",
            SplitMethod::Column { .. } => "column",
        }
    }
}

/// Per-row values of the split's key column, read alongside the features.
#[derive(Debug, Clone, PartialEq)]
pub enum SplitKey {
    None,
    /// Time as a sortable number (for example epoch seconds); NULL is an error.
    Time(Vec<Option<f64>>),
    /// Group identity as text; a NULL group makes the row a group of its own.
    Group(TextKey),
    /// 'train' / 'validation' / 'test' per row.
    Column(TextKey),
}

/// A text key column, dictionary-encoded: a million rows of a few thousand companies cost four
/// bytes a row, not a String a row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextKey {
    pub dictionary: Vec<String>,
    /// Index into `dictionary` per row; NULL_CODE for NULL.
    pub codes: Vec<u32>,
}

impl TextKey {
    /// Encodes a column given as one optional string per row.
    pub fn from_values<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> TextKey {
        let mut builder = crate::data::values::CategoricalBuilder::default();
        for v in values {
            builder.push(v);
        }
        TextKey::from_builder(builder)
    }

    /// The key a reader built value by value.
    pub fn from_builder(builder: crate::data::values::CategoricalBuilder) -> TextKey {
        let (dictionary, codes) = builder.finish_codes();
        TextKey { dictionary, codes }
    }

    fn value(&self, row: usize) -> Option<&str> {
        let code = self.codes[row];
        (code != NULL_CODE).then(|| self.dictionary[code as usize].as_str())
    }
}

/// SplitMix64: tiny, fast, and stable forever, so a seed means the same split in every release.
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        SeededRng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Assigns each row to a part. `labels` has one entry per row.
pub fn assign_parts(spec: &SplitSpec, labels: &[bool], key: &SplitKey) -> CoreResult<Vec<Part>> {
    validate_fractions(spec)?;
    let n = labels.len();
    let mut parts = vec![Part::Train; n];
    match (&spec.method, key) {
        (SplitMethod::Stratified, _) => {
            for class in [false, true] {
                let mut idx: Vec<usize> = (0..n).filter(|&i| labels[i] == class).collect();
                let mut rng = SeededRng::new(spec.seed.wrapping_add(class as u64));
                rng.shuffle(&mut idx);
                cut_in_order(spec, &idx, &mut parts);
            }
        }
        (SplitMethod::Random, _) => {
            let mut idx: Vec<usize> = (0..n).collect();
            SeededRng::new(spec.seed).shuffle(&mut idx);
            cut_in_order(spec, &idx, &mut parts);
        }
        (SplitMethod::Time { column }, SplitKey::Time(times)) => {
            let mut keyed = Vec::with_capacity(n);
            for (i, t) in times.iter().enumerate() {
                let t = t.ok_or_else(|| {
                    core_err!(InvalidData, "time split column \"{column}\" is NULL in a row; fill it or filter those rows out")
                })?;
                keyed.push((t, i));
            }
            // Stable on the row order for equal times, so the split is deterministic.
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let idx: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
            cut_in_order(spec, &idx, &mut parts);
        }
        (SplitMethod::Group { .. }, SplitKey::Group(groups)) => assign_groups(spec, groups, &mut parts),
        (SplitMethod::Column { column }, SplitKey::Column(values)) => {
            // Each distinct value is read once.
            let named: Vec<Option<Part>> = values.dictionary.iter().map(|v| part_named(v)).collect();
            for (i, &code) in values.codes.iter().enumerate() {
                parts[i] = match named.get(code as usize).copied().flatten() {
                    Some(part) => part,
                    None => {
                        return Err(core_err!(
                            InvalidData,
                            "split column \"{column}\" must hold 'train', 'validation' or 'test' in every row, found {}",
                            values.value(i).map_or("NULL".to_string(), |s| format!("'{}'", s.trim().to_ascii_lowercase()))
                        ))
                    }
                };
            }
        }
        (method, _) => return Err(core_err!(Internal, "split method {method:?} was given no key column values")),
    }
    Ok(parts)
}

/// The part a split column's value names (case and surrounding blanks ignored).
fn part_named(value: &str) -> Option<Part> {
    match value.trim().to_ascii_lowercase().as_str() {
        "train" => Some(Part::Train),
        "validation" | "valid" => Some(Part::Validation),
        "test" => Some(Part::Test),
        _ => None,
    }
}

fn validate_fractions(spec: &SplitSpec) -> CoreResult<()> {
    let (t, v) = (spec.train_fraction, spec.validation_fraction);
    if !(t > 0.0 && v > 0.0 && t + v < 1.0) {
        return Err(core_err!(
            InvalidArgument,
            "split fractions must be positive and leave room for a test part (train {t}, validation {v})"
        ));
    }
    Ok(())
}

/// Number of rows that go to train and validation out of `n`, rounding to the nearest row.
fn cut_points(spec: &SplitSpec, n: usize) -> (usize, usize) {
    let train = (spec.train_fraction * n as f64).round() as usize;
    let validation = ((spec.train_fraction + spec.validation_fraction) * n as f64).round() as usize;
    (train.min(n), validation.min(n))
}

/// First share of `order` to train, the next to validation, the rest to test.
fn cut_in_order(spec: &SplitSpec, order: &[usize], parts: &mut [Part]) {
    let (train_end, validation_end) = cut_points(spec, order.len());
    for (pos, &row) in order.iter().enumerate() {
        parts[row] = if pos < train_end {
            Part::Train
        } else if pos < validation_end {
            Part::Validation
        } else {
            Part::Test
        };
    }
}

/// Shuffles the groups, then fills train, validation and test with whole groups in turn.
fn assign_groups(spec: &SplitSpec, groups: &TextKey, parts: &mut [Part]) {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups.dictionary.len()];
    let mut singletons = Vec::new();
    for (i, &code) in groups.codes.iter().enumerate() {
        match members.get_mut(code as usize) {
            Some(m) => m.push(i),
            None => singletons.push(vec![i]), // NULL_CODE
        }
    }
    // Groups in the order of their names (then the NULL rows), so the shuffle does not depend
    // on which group's row came first.
    let mut by_name: Vec<usize> = (0..members.len()).collect();
    by_name.sort_by(|&a, &b| groups.dictionary[a].cmp(&groups.dictionary[b]));
    let mut all: Vec<Vec<usize>> = by_name.into_iter().map(|g| std::mem::take(&mut members[g])).chain(singletons).collect();
    SeededRng::new(spec.seed).shuffle(&mut all);
    let (train_end, validation_end) = cut_points(spec, groups.codes.len());
    let mut placed = 0usize;
    for group in all {
        let part = if placed < train_end {
            Part::Train
        } else if placed < validation_end {
            Part::Validation
        } else {
            Part::Test
        };
        placed += group.len();
        for row in group {
            parts[row] = part;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(parts: &[Part], labels: &[bool], part: Part, class: bool) -> usize {
        parts.iter().zip(labels).filter(|(p, l)| **p == part && **l == class).count()
    }

    fn labels(n: usize, every: usize) -> Vec<bool> {
        (0..n).map(|i| i % every == 0).collect()
    }

    #[test]
    fn stratified_keeps_the_base_rate_and_is_deterministic() {
        let y = labels(1000, 5); // 200 positives
        let spec = SplitSpec::default();
        let a = assign_parts(&spec, &y, &SplitKey::None).unwrap();
        let b = assign_parts(&spec, &y, &SplitKey::None).unwrap();
        assert_eq!(a, b);
        assert_eq!(count(&a, &y, Part::Train, true), 160);
        assert_eq!(count(&a, &y, Part::Validation, true), 20);
        assert_eq!(count(&a, &y, Part::Test, true), 20);
        assert_eq!(count(&a, &y, Part::Train, false), 640);
        let other = assign_parts(&SplitSpec { seed: 7, ..SplitSpec::default() }, &y, &SplitKey::None).unwrap();
        assert_ne!(a, other, "a different seed gives a different split");
    }

    #[test]
    fn random_split_has_the_requested_sizes() {
        let y = labels(1000, 3);
        let spec = SplitSpec { method: SplitMethod::Random, ..SplitSpec::default() };
        let p = assign_parts(&spec, &y, &SplitKey::None).unwrap();
        assert_eq!(p.iter().filter(|&&x| x == Part::Train).count(), 800);
        assert_eq!(p.iter().filter(|&&x| x == Part::Test).count(), 100);
    }

    #[test]
    fn time_split_puts_the_newest_rows_in_test() {
        let n = 100;
        let y = labels(n, 4);
        let times: Vec<Option<f64>> = (0..n).map(|i| Some((n - i) as f64)).collect(); // row 0 is newest
        let spec = SplitSpec { method: SplitMethod::Time { column: "t".into() }, ..SplitSpec::default() };
        let p = assign_parts(&spec, &y, &SplitKey::Time(times)).unwrap();
        assert!(p[..10].iter().all(|&x| x == Part::Test));
        assert!(p[10..20].iter().all(|&x| x == Part::Validation));
        assert!(p[20..].iter().all(|&x| x == Part::Train));
        let err = assign_parts(&spec, &y, &SplitKey::Time(vec![None; n])).unwrap_err();
        assert!(err.message.contains("NULL"));
    }

    #[test]
    fn group_split_never_splits_a_group() {
        let n = 500;
        let y = labels(n, 3);
        let groups: Vec<Option<String>> = (0..n).map(|i| Some(format!("company{}", i % 37))).collect();
        let spec = SplitSpec { method: SplitMethod::Group { column: "company".into() }, ..SplitSpec::default() };
        let p = assign_parts(&spec, &y, &SplitKey::Group(TextKey::from_values(groups.iter().map(|g| g.as_deref())))).unwrap();
        let mut seen: std::collections::HashMap<&str, Part> = Default::default();
        for (g, part) in groups.iter().zip(&p) {
            assert_eq!(*seen.entry(g.as_deref().unwrap()).or_insert(*part), *part);
        }
        assert!(Part::ALL.iter().all(|part| p.contains(part)));
    }

    #[test]
    fn column_split_follows_the_column_and_rejects_other_values() {
        let y = vec![true, false, true];
        let spec = SplitSpec { method: SplitMethod::Column { column: "s".into() }, ..SplitSpec::default() };
        let key = SplitKey::Column(TextKey::from_values([Some("train"), Some(" Validation"), Some("test")]));
        assert_eq!(assign_parts(&spec, &y, &key).unwrap(), vec![Part::Train, Part::Validation, Part::Test]);
        let bad = SplitKey::Column(TextKey::from_values([Some("train"), Some("holdout"), None]));
        assert!(assign_parts(&spec, &y, &bad).unwrap_err().message.contains("'holdout'"));
        let null = SplitKey::Column(TextKey::from_values([Some("train"), None, Some("holdout")]));
        assert!(assign_parts(&spec, &y, &null).unwrap_err().message.contains("found NULL"));
    }

    #[test]
    fn fractions_are_validated() {
        let spec = SplitSpec { train_fraction: 0.95, validation_fraction: 0.1, ..SplitSpec::default() };
        assert!(assign_parts(&spec, &[true], &SplitKey::None).is_err());
    }
}
