//! The synthetic leads the tree timing examples share: 9 continuous numbers and 10 category
//! codes, shaped like bench/make_leads.py's leads as gbm training sees them.

use lead_scoring_core::data::SeededRng;
use lead_scoring_core::models::GbmData;

const NUMERIC: usize = 9;
const CODES: usize = 10;

/// `n` synthetic leads: continuous numbers (10% missing; LightGBM cuts each into 255 bins), category codes with 3 to 48 levels, and a label
/// from a mix of both.
pub fn leads(n: usize, seed: u64) -> GbmData {
    let mut rng = SeededRng::new(seed);
    let mut u = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let (mut x, mut y) = (Vec::with_capacity(n * (NUMERIC + CODES)), Vec::with_capacity(n));
    for _ in 0..n {
        let mut z = 0.0;
        for j in 0..NUMERIC {
            let v = if u() < 0.1 { f64::NAN } else { u() * 10.0 * (j + 1) as f64 };
            z += if v.is_nan() { 0.3 } else { ((v / (j + 1) as f64) - 5.0) * 0.1 * if j % 2 == 0 { 1.0 } else { -1.0 } };
            x.push(v);
        }
        for j in 0..CODES {
            let code = (u() * (3 + 5 * j) as f64).floor();
            z += ((code * 7.0 + j as f64) % 5.0 - 2.0) * 0.15;
            x.push(code);
        }
        y.push(u() < 1.0 / (1.0 + (-z).exp()));
    }
    let categorical = (NUMERIC..NUMERIC + CODES).collect();
    GbmData { x, rows: n, cols: NUMERIC + CODES, y, weights: vec![1.0; n], categorical, targets: None }
}
