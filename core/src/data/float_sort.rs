//! Sorting a million doubles is on train()'s path several times (drift references, the
//! leakage guard's AUC, quantiles): sorting order-preserving integer keys instead is faster.

/// The integer whose unsigned order is `f64::total_cmp`'s order (the same bit trick).
#[inline]
pub fn total_order_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// The double whose [`total_order_key`] is `k`.
#[inline]
pub fn from_total_order_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Sorts in the order of `f64::total_cmp` (NaN last, -0.0 before 0.0): the same result as
/// `v.sort_by(f64::total_cmp)`, about three times faster on a million values, because plain
/// integers sort without a comparison closure (measured against an 8-16 bit LSD radix sort,
/// which was slower still: its scatter passes miss the cache).
pub fn sort_floats(v: &mut [f64]) {
    let mut keys: Vec<u64> = v.iter().map(|&x| total_order_key(x)).collect();
    keys.sort_unstable();
    for (x, k) in v.iter_mut().zip(keys) {
        *x = from_total_order_key(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_total_cmp() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 5, 50_000] {
            let v: Vec<f64> = (0..n)
                .map(|_| match next() % 8 {
                    0 => -0.0,
                    1 => 0.0,
                    2 => f64::NEG_INFINITY,
                    3 => (next() % 7) as f64,    // ties
                    4 => f64::from_bits(next()), // any bit pattern, NaNs and subnormals included
                    _ => ((next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1e6,
                })
                .collect();
            let mut expected = v.clone();
            expected.sort_by(f64::total_cmp);
            let mut got = v;
            sort_floats(&mut got);
            let bits = |s: &[f64]| s.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&expected), "n = {n}");
        }
    }

    #[test]
    fn keys_keep_the_order() {
        let ordered = [f64::NEG_INFINITY, -1.5, -0.0, 0.0, 1e-300, 2.0, f64::INFINITY];
        let keys: Vec<u64> = ordered.iter().map(|&x| total_order_key(x)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(ordered.iter().all(|&x| from_total_order_key(total_order_key(x)).to_bits() == x.to_bits()));
    }
}
