//! The input slot of each text value, found by one [`LevelTable`] probe per text column instead
//! of comparing the value with every placeholder and every kept level: scoring reads every text
//! column of every lead, and that linear scan with `memcmp` was about a fifth of gbm scoring.
//! Built from the fitted transform on its first use and kept with it (a loaded model is cached
//! per backend, so once per model load); it is derived data, never stored in an artifact.

use std::sync::OnceLock;

use super::transform::{FeatureTransform, MISSING_LEVEL};
use crate::data::LevelTable;

/// Per feature (in feature order): for a text feature, the slot of each kept level and
/// placeholder; None for other features.
#[derive(Default)]
pub struct LevelIndex(OnceLock<Vec<Option<LevelTable<usize>>>>);

impl LevelIndex {
    /// The tables, built on the first call from `features` and `placeholders`.
    #[inline]
    pub(super) fn tables(&self, features: &[FeatureTransform], placeholders: &[String]) -> &[Option<LevelTable<usize>>] {
        self.0.get_or_init(|| features.iter().map(|f| text_levels(f).map(|levels| table(levels, placeholders))).collect())
    }
}

fn text_levels(feature: &FeatureTransform) -> Option<&[String]> {
    match feature {
        FeatureTransform::Categorical { levels, .. } | FeatureTransform::TextCodes { levels, .. } => Some(levels),
        _ => None,
    }
}

/// The slot the linear scan gives: the first position of the value among `levels`, and for a
/// placeholder the position of "(missing)" (placeholders are checked before the levels).
/// A level given twice keeps the last slot inserted, so levels go in from the last to the
/// first and the placeholders after them. Values not in the table are "(other)".
fn table(levels: &[String], placeholders: &[String]) -> LevelTable<usize> {
    let missing = levels.iter().position(|l| l == MISSING_LEVEL).unwrap_or(levels.len());
    let kept = levels.iter().enumerate().rev().map(|(i, l)| (l.as_str(), i));
    LevelTable::new(kept.chain(placeholders.iter().map(|m| (m.as_str(), missing))))
}

/// A copy starts without tables: they are rebuilt from the copy's own transform, which its
/// owner may have changed.
impl Clone for LevelIndex {
    fn clone(&self) -> Self {
        LevelIndex::default()
    }
}

/// Derived from the transform it belongs to, so it never makes two transforms differ.
impl PartialEq for LevelIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for LevelIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "LevelIndex(built)" } else { "LevelIndex(not built)" })
    }
}

#[cfg(test)]
mod tests {
    use crate::data::{FeatureKind, FeatureTransform, Preprocessor, RawValue, MISSING_LEVEL};

    /// A small deterministic generator (xorshift64*), so a failure repeats.
    struct Draws(u64);
    impl Draws {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
        }
    }

    /// Values a text column may hold: empty, placeholders, "(missing)" itself, non-ASCII,
    /// numbers as text, every length around the 4-, 8- and 16-byte words of the probe, and
    /// long values that differ only in their middle bytes.
    fn pool() -> Vec<String> {
        let mut pool: Vec<String> =
            ["", "Select", MISSING_LEVEL, "Google", "google", "Zürich", "Zurich", "日本語のリード元", "15", "15.5", "-3", "ß"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        for n in 1..=20 {
            pool.push("x".repeat(n));
            pool.push(format!("{}y", "x".repeat(n)));
        }
        for middle in ["a", "b", "ä"] {
            pool.push(format!("Landing Page {middle} Submission of the form"));
        }
        pool
    }

    fn text_feature(levels: Vec<String>, codes: bool) -> FeatureTransform {
        let (name, kind) = ("source".to_string(), FeatureKind::Categorical);
        if codes {
            FeatureTransform::TextCodes { name, kind, levels }
        } else {
            FeatureTransform::Categorical { name, kind, levels }
        }
    }

    #[test]
    fn one_probe_finds_the_slot_the_linear_scan_finds() {
        let pool = pool();
        let mut draws = Draws(0x9E37_79B9_7F4A_7C15);
        for round in 0..400 {
            // Random kept levels (sometimes repeated, sometimes with "(missing)"), random placeholders.
            let levels: Vec<String> = (0..draws.below(12)).map(|_| pool[draws.below(pool.len())].clone()).collect();
            let placeholders: Vec<String> = (0..draws.below(3)).map(|_| pool[draws.below(pool.len())].clone()).collect();
            let p = Preprocessor {
                features: vec![
                    FeatureTransform::Numeric {
                        name: "visits".into(),
                        log: false,
                        scaling: crate::data::Scaling { median: 0.0, mean: 0.0, scale: 1.0, indicator: false },
                    },
                    text_feature(levels.clone(), round % 2 == 0),
                ],
                missing_values: placeholders,
                impute_numeric: true,
                interactions: Vec::new(),
                level_index: Default::default(),
            };
            let mut values: Vec<RawValue<'_>> = pool.iter().map(|s| RawValue::Text(s)).collect();
            values.extend([RawValue::Null, RawValue::Number(15.0), RawValue::Number(15.5), RawValue::Number(-3.0)]);
            for value in values {
                assert_eq!(
                    p.level_slot(1, value),
                    p.scanned_level_slot(&levels, value),
                    "{value:?} in {levels:?}, {:?}",
                    p.missing_values
                );
            }
        }
    }
}
