//! Quantile binning: a numeric column cut at its training quantiles into bins that the model
//! sees one-hot, so a linear model can learn a non-monotone effect (a "sweet spot" company
//! size, say) without the analyst choosing cut points.

/// Cut points splitting `sorted` (ascending, finite) into about `bins` equally filled bins.
/// Repeated values can merge bins, so fewer may come back; never an empty bin at the ends.
pub fn quantile_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let n = sorted.len();
    let mut edges: Vec<f64> = Vec::with_capacity(bins.saturating_sub(1));
    if n == 0 {
        return edges;
    }
    for k in 1..bins {
        // The edge is the first value of the k-th bin: bin i holds values in [edge i-1, edge i).
        let edge = sorted[(k * n / bins).min(n - 1)];
        if edge > sorted[0] && edges.last().is_none_or(|&last| edge > last) {
            edges.push(edge);
        }
    }
    edges
}

/// The bin of `x`: 0 for x below the first edge, `edges.len()` for x at or above the last.
pub fn bin_of(x: f64, edges: &[f64]) -> usize {
    edges.partition_point(|&e| e <= x)
}

/// Readable bin names: "< 10", "10 to < 25", ">= 25".
pub fn bin_labels(edges: &[f64]) -> Vec<String> {
    if edges.is_empty() {
        return vec!["all values".to_string()];
    }
    let mut labels = Vec::with_capacity(edges.len() + 1);
    labels.push(format!("< {}", edges[0]));
    for w in edges.windows(2) {
        labels.push(format!("{} to < {}", w[0], w[1]));
    }
    labels.push(format!(">= {}", edges[edges.len() - 1]));
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_split_evenly_and_bins_follow_them() {
        let v: Vec<f64> = (0..100).map(f64::from).collect();
        let edges = quantile_edges(&v, 4);
        assert_eq!(edges, vec![25.0, 50.0, 75.0]);
        let counts = v.iter().fold([0; 4], |mut c, &x| {
            c[bin_of(x, &edges)] += 1;
            c
        });
        assert_eq!(counts, [25, 25, 25, 25]);
        assert_eq!(bin_of(-5.0, &edges), 0);
        assert_eq!(bin_of(1e9, &edges), 3);
        assert_eq!(bin_labels(&edges), vec!["< 25", "25 to < 50", "50 to < 75", ">= 75"]);
    }

    #[test]
    fn repeated_values_merge_bins_and_constants_give_one_bin() {
        let mut v = vec![0.0; 80];
        v.extend((1..=20).map(f64::from));
        let edges = quantile_edges(&v, 10);
        assert_eq!(edges, vec![1.0, 11.0]);
        assert!(quantile_edges(&[3.0; 10], 5).is_empty());
        assert_eq!(bin_labels(&[]), vec!["all values"]);
    }
}
