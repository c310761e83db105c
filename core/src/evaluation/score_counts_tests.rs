//! Unit tests of `score_counts.rs`: a state built row by row, compacted, merged and read back
//! gives the ranking metrics of the rows bit for bit.

use super::*;
use crate::data::total_order_key;
use crate::evaluation::metrics::{average_precision, ks_statistic, roc_auc};

/// Rows with many ties (scores on a grid of `levels`), -0.0 among them, from a fixed seed.
fn rows(n: usize, levels: u64, seed: u64) -> (Vec<f64>, Vec<bool>) {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let scores: Vec<f64> = (0..n)
        .map(|_| match next() % levels {
            0 => -0.0,
            v => v as f64 / levels as f64 - 0.25,
        })
        .collect();
    let labels = scores.iter().map(|&s| (next() % 1000) as f64 / 1000.0 < s + 0.3).collect();
    (scores, labels)
}

/// A state grown as the aggregate grows it.
fn state_of_rows(scores: &[f64], labels: &[bool], first_capacity: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; bytes_for(first_capacity)];
    ScoreCounts::init(&mut bytes);
    for (&s, &y) in scores.iter().zip(labels) {
        let mut state = ScoreCounts::open(&mut bytes).unwrap();
        if state.push(s, y) {
            continue;
        }
        if let Some(capacity) = state.make_room() {
            let mut larger = vec![0u8; bytes_for(capacity)];
            state.move_to(&mut larger);
            bytes = larger;
        }
        assert!(ScoreCounts::open(&mut bytes).unwrap().push(s, y));
    }
    bytes
}

fn metrics_of(counts: &[(u64, u64, u64)]) -> [Option<f64>; 3] {
    [
        roc_auc_of_counts(descending(counts)),
        average_precision_of_counts(descending(counts)),
        ks_statistic_of_counts(descending(counts)),
    ]
}

fn metrics_of_rows(scores: &[f64], labels: &[bool]) -> [Option<f64>; 3] {
    [roc_auc(scores, labels), average_precision(scores, labels), ks_statistic(scores, labels)]
}

#[test]
fn counts_give_the_metrics_of_the_rows_bit_for_bit() {
    for (n, levels) in [(1, 10), (7, 3), (5_000, 40), (5_000, 1 << 40), (20_000, 997)] {
        let (scores, labels) = rows(n, levels, n as u64 * levels);
        let state = state_of_rows(&scores, &labels, 4);
        let counts = counts_of_state(&state).unwrap();
        assert_eq!(
            metrics_of(&counts).map(|m| m.map(f64::to_bits)),
            metrics_of_rows(&scores, &labels).map(|m| m.map(f64::to_bits))
        );
        assert_eq!(counts.iter().map(|c| c.1 + c.2).sum::<u64>(), n as u64);
        assert!(counts.windows(2).all(|w| w[0].0 < w[1].0), "one entry per distinct score, ascending");
    }
}

#[test]
fn few_distinct_scores_keep_the_state_small() {
    let (scores, labels) = rows(100_000, 50, 7);
    let state = state_of_rows(&scores, &labels, 16);
    assert!(state.len() <= bytes_for(256), "{} bytes for 50 distinct scores", state.len());
}

#[test]
fn merged_states_equal_the_state_of_all_rows() {
    let (scores, labels) = rows(9_000, 300, 11);
    let whole = counts_of_state(&state_of_rows(&scores, &labels, 8)).unwrap();
    let mut merged = Vec::new();
    for part in 0..3 {
        let (lo, hi) = (part * 3_000, part * 3_000 + 3_000);
        let state = state_of_rows(&scores[lo..hi], &labels[lo..hi], 8);
        let counts = counts_of_state(&state).unwrap();
        // Through a fresh state, as the text form of a state does.
        let copied = counts_of_state(&state_of_counts(&counts, 0)).unwrap();
        assert_eq!(copied, counts);
        merged = merge_counts(&merged, &copied);
    }
    assert_eq!(merged, whole);
    assert_eq!(metrics_of(&merged).map(|m| m.map(f64::to_bits)), metrics_of_rows(&scores, &labels).map(|m| m.map(f64::to_bits)));
}

#[test]
fn states_appended_in_place_merge_like_their_counts() {
    let (scores, labels) = rows(6_000, 500, 5);
    let whole = counts_of_state(&state_of_rows(&scores, &labels, 8)).unwrap();
    let mut combined = state_of_counts(&[], 6_000);
    for part in 0..3 {
        let (lo, hi) = (part * 2_000, part * 2_000 + 2_000);
        let state = state_of_rows(&scores[lo..hi], &labels[lo..hi], 8);
        assert!(ScoreCounts::open(&mut combined).unwrap().append_state(&state));
    }
    assert_eq!(counts_of_state(&combined).unwrap(), whole);
    // Without room it changes nothing.
    let mut small = state_of_counts(&[(1, 1, 0)], 0);
    let before = small.clone();
    assert!(!ScoreCounts::open(&mut small).unwrap().append_state(&combined));
    assert_eq!(small, before);
}

#[test]
fn a_count_past_u32_continues_in_another_entry() {
    let key = total_order_key(0.5);
    let counts = vec![(total_order_key(0.1), 1, 2), (key, u64::from(u32::MAX) * 2 + 5, 3)];
    assert_eq!(entries_for(&counts), 4);
    let state = state_of_counts(&counts, 0);
    assert_eq!(state.len(), bytes_for(4));
    assert_eq!(counts_of_state(&state).unwrap(), counts);
}

#[test]
fn corrupt_states_are_errors() {
    let (scores, labels) = rows(100, 10, 3);
    let mut state = state_of_rows(&scores, &labels, 4);
    assert!(counts_of_state(&state[..state.len() - 3]).is_err());
    state[0..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(counts_of_state(&state).is_err());
    let mut unordered = state_of_counts(&[(1, 1, 0), (2, 0, 1)], 0);
    unordered[HEADER_BYTES..HEADER_BYTES + 8].copy_from_slice(&3u64.to_le_bytes());
    assert_eq!(counts_of_state(&unordered).unwrap_err().kind, ErrorKind::CorruptArtifact);
}
