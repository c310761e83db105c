//! The training rows put in an order that depends only on their content, so that a seeded
//! random or stratified split, and everything after it (cross-validation folds, resampling,
//! tree subsampling, the order of every sum), is the same however the source returns its rows:
//! a view without ORDER BY whose plan changed, or a table whose rows an UPDATE (such as
//! `rescore()`) moved. Rows are ordered by a hash of their values; rows with equal values are
//! interchangeable, so their relative order does not matter.

use crate::data::split::{SplitKey, TextKey};
use crate::data::training_data::TrainingData;
use crate::data::values::{ColumnData, NULL_CODE};

/// A hash of the training rows as a set (their order does not count), from the row hashes
/// [`put_in_content_order`] sorts by: the input of [`content_fingerprint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSetHash(u64);

impl RowSetHash {
    /// The hash of a row set that an aggregate summarized as its row count and the sum (modulo
    /// 2^64) of one hash per row: the rows in any order give the same value. Not equal to the
    /// hash of the same rows read into the backend, which folds other row hashes.
    pub fn of_row_hash_sum(rows: u64, row_hash_sum: u64) -> RowSetHash {
        RowSetHash(mix(mix(rows) ^ row_hash_sum))
    }
}

/// Reorders the rows of `data` (columns, labels, targets and split key alike) by their content, and
/// returns the hash of the rows as a set that the ordering computed on the way.
pub fn put_in_content_order(data: &mut TrainingData) -> RowSetHash {
    put_in_content_order_with::<u64>(data, &mut Vec::new())
}

/// `put_in_content_order`, moving `lead_keys` (one per row, or empty) along with the rows. The
/// keys take no part in the order, so recording them never changes a split.
pub fn put_in_content_order_with<K: Copy>(data: &mut TrainingData, lead_keys: &mut Vec<K>) -> RowSetHash {
    let hashes = row_hashes(data);
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    // By hash, then by index for equal rows.
    order.sort_unstable_by_key(|&i| (hashes[i], i));
    // Folded in ascending hash order, so the same rows in any order give the same value.
    let rows = RowSetHash(order.iter().fold(mix(hashes.len() as u64), |h, &i| mix(h ^ hashes[i])));
    if order.iter().enumerate().all(|(pos, &row)| pos == row) {
        return rows;
    }
    for column in &mut data.columns {
        match &mut column.data {
            ColumnData::Numeric(values) => permute(values, &order),
            ColumnData::Categorical { codes, .. } => permute(codes, &order),
        }
    }
    permute(&mut data.labels, &order);
    if data.targets.len() == order.len() {
        permute(&mut data.targets, &order);
    }
    if lead_keys.len() == order.len() {
        permute(lead_keys, &order);
    }
    match &mut data.split_key {
        SplitKey::None => {}
        SplitKey::Time(times) => permute(times, &order),
        SplitKey::Group(key) | SplitKey::Column(key) => permute(&mut key.codes, &order),
    }
    rows
}

/// A fingerprint of the training rows (`rows`, as a set), the names of the columns kept in
/// `data` and `context` (the label, the algorithm asked for): equal for two reads of an
/// unchanged source, different when a value, a row, a column or the context differs (up to a
/// 64-bit hash collision). `options.skip_unchanged` compares it with the latest version's.
pub fn content_fingerprint(rows: RowSetHash, data: &TrainingData, context: &str) -> String {
    let mut h = mix(text_hash(context.as_bytes()) ^ rows.0);
    for column in &data.columns {
        h = mix(h ^ text_hash(column.name.as_bytes()));
    }
    format!("{h:016x}")
}

/// One hash per row of its values, label and split key.
fn row_hashes(data: &TrainingData) -> Vec<u64> {
    let n = data.labels.len();
    let mut hashes = vec![0x243F_6A88_85A3_08D3u64; n];
    for column in &data.columns {
        match &column.data {
            ColumnData::Numeric(values) => add_numbers(&mut hashes, values),
            ColumnData::Categorical { dictionary, codes } => add_texts(&mut hashes, dictionary, codes),
        }
    }
    for (h, &label) in hashes.iter_mut().zip(&data.labels) {
        *h = mix(*h ^ (label as u64 + 1));
    }
    add_numbers(&mut hashes, &data.targets.iter().map(|&t| Some(t)).collect::<Vec<_>>());
    match &data.split_key {
        SplitKey::None => {}
        SplitKey::Time(times) => add_numbers(&mut hashes, times),
        SplitKey::Group(TextKey { dictionary, codes }) | SplitKey::Column(TextKey { dictionary, codes }) => {
            add_texts(&mut hashes, dictionary, codes)
        }
    }
    hashes
}

fn add_numbers(hashes: &mut [u64], values: &[Option<f64>]) {
    for (h, x) in hashes.iter_mut().zip(values) {
        // -0.0 and 0.0 are the same value; NULL is neither.
        let bits = x.map_or(0x9E37_79B9_7F4A_7C15, |x| if x == 0.0 { 0 } else { x.to_bits() });
        *h = mix(*h ^ bits);
    }
}

fn add_texts(hashes: &mut [u64], dictionary: &[String], codes: &[u32]) {
    // A text is hashed by its bytes (its code depends on which row came first).
    let entries: Vec<u64> = dictionary.iter().map(|s| text_hash(s.as_bytes())).collect();
    for (h, &code) in hashes.iter_mut().zip(codes) {
        let v = if code == NULL_CODE { 0x6A09_E667_F3BC_C908 } else { entries[code as usize] };
        *h = mix(*h ^ v);
    }
}

/// FNV-1a over the bytes, then mixed: fixed here (not a library's hasher) so that the order,
/// and with it a seed's split, stays the same in every release.
fn text_hash(bytes: &[u8]) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    for &b in bytes {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(h)
}

/// SplitMix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn permute<T: Copy>(values: &mut Vec<T>, order: &[usize]) {
    *values = order.iter().map(|&i| values[i]).collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::values::{CategoricalBuilder, Column, FeatureKind};

    fn data(rows: &[(Option<f64>, Option<&str>, bool)]) -> TrainingData {
        let mut text = CategoricalBuilder::default();
        for r in rows {
            text.push(r.1);
        }
        TrainingData {
            columns: vec![
                Column {
                    name: "visits".into(),
                    kind: FeatureKind::Numeric,
                    data: ColumnData::Numeric(rows.iter().map(|r| r.0).collect()),
                },
                Column { name: "source".into(), kind: FeatureKind::Categorical, data: text.finish() },
            ],
            labels: rows.iter().map(|r| r.2).collect(),
            targets: Vec::new(),
            split_key: SplitKey::Group(TextKey::from_values(rows.iter().map(|r| r.1))),
        }
    }

    /// The rows as values, in the data's order.
    /// (visits, source, label, split key) of one row.
    type Row = (Option<f64>, Option<String>, bool, Option<String>);

    fn rows(d: &TrainingData) -> Vec<Row> {
        let ColumnData::Numeric(visits) = &d.columns[0].data else { unreachable!() };
        let ColumnData::Categorical { dictionary, codes } = &d.columns[1].data else { unreachable!() };
        let SplitKey::Group(group) = &d.split_key else { unreachable!() };
        let text = |dict: &[String], c: u32| (c != NULL_CODE).then(|| dict[c as usize].clone());
        (0..d.labels.len())
            .map(|i| (visits[i], text(dictionary, codes[i]), d.labels[i], text(&group.dictionary, group.codes[i])))
            .collect()
    }

    #[test]
    fn any_order_of_the_same_rows_ends_in_the_same_order() {
        let base: Vec<(Option<f64>, Option<&str>, bool)> = (0..60)
            .map(|i| {
                (if i % 7 == 0 { None } else { Some((i % 11) as f64) }, [Some("Web"), None, Some("Referral")][i % 3], i % 4 == 0)
            })
            .collect();
        let mut a = data(&base);
        put_in_content_order(&mut a);
        let mut reversed = base.clone();
        reversed.reverse();
        let mut b = data(&reversed);
        put_in_content_order(&mut b);
        let mut rotated = base.clone();
        rotated.rotate_left(17);
        let mut c = data(&rotated);
        put_in_content_order(&mut c);
        assert_eq!(rows(&a), rows(&b));
        assert_eq!(rows(&a), rows(&c));
        // The same rows, only reordered: a multiset check.
        let mut sorted_a = rows(&a);
        let mut sorted_base = rows(&data(&base));
        sorted_a.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
        sorted_base.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
        assert_eq!(sorted_a, sorted_base);
        assert_ne!(rows(&a), rows(&data(&base)), "60 rows are not already in hash order");
    }

    #[test]
    fn the_fingerprint_is_of_the_rows_as_a_set() {
        let base: Vec<(Option<f64>, Option<&str>, bool)> =
            (0..40).map(|i| (Some((i % 9) as f64), [Some("Web"), None][i % 2], i % 3 == 0)).collect();
        let print = |rows: &[(Option<f64>, Option<&str>, bool)], context: &str| {
            let mut d = data(rows);
            content_fingerprint(put_in_content_order(&mut d), &d, context)
        };
        let mut reversed = base.clone();
        reversed.reverse();
        assert_eq!(print(&base, "converted logistic"), print(&reversed, "converted logistic"));
        let mut changed = base.clone();
        changed[5].0 = Some(100.0);
        assert_ne!(print(&base, "converted logistic"), print(&changed, "converted logistic"));
        assert_ne!(print(&base, "converted logistic"), print(&base[1..], "converted logistic"));
        let mut relabelled = base.clone();
        relabelled[0].2 = !relabelled[0].2;
        assert_ne!(print(&base, "converted logistic"), print(&relabelled, "converted logistic"));
        assert_ne!(print(&base, "converted logistic"), print(&base, "converted gbm"));
        let mut renamed = data(&base);
        renamed.columns[0].name = "pages".into();
        let rows = put_in_content_order(&mut renamed);
        assert_ne!(print(&base, "converted logistic"), content_fingerprint(rows, &renamed, "converted logistic"));
    }

    #[test]
    fn zero_and_negative_zero_are_one_value_and_null_is_neither() {
        let hashes = |values: &[Option<f64>]| {
            let mut h = vec![7u64; values.len()];
            add_numbers(&mut h, values);
            h
        };
        let h = hashes(&[Some(0.0), Some(-0.0), None, Some(1.0)]);
        assert_eq!(h[0], h[1]);
        assert!(h[2] != h[0] && h[3] != h[0] && h[3] != h[2]);
        let mut t = vec![7u64; 3];
        add_texts(&mut t, &["a".to_string(), "b".to_string()], &[0, 1, NULL_CODE]);
        assert!(t[0] != t[1] && t[1] != t[2] && t[0] != t[2]);
    }
}
