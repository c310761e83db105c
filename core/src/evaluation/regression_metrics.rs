//! How good a predicted value (a deal value, say) is: the metrics of a regression model per part.

use serde::{Deserialize, Serialize};

/// The metrics of one part of a regression.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegressionMetrics {
    pub rows: u64,
    /// Root mean squared error, in the label's unit.
    pub rmse: Option<f64>,
    /// Mean absolute error, in the label's unit.
    pub mae: Option<f64>,
    /// Coefficient of determination `1 - SSE / SST` (SST around this part's own mean); `None`
    /// when the label is constant on the part (SST = 0) or the part is empty.
    pub r2: Option<f64>,
    pub mean_label: Option<f64>,
    pub median_label: Option<f64>,
    pub mean_prediction: Option<f64>,
}

/// The middle value (the mean of the two middle ones for an even count); `None` when empty.
pub fn median_of(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 })
}

/// Metrics of `predictions` against `labels` (same length, finite values).
pub fn regression_metrics(predictions: &[f64], labels: &[f64]) -> RegressionMetrics {
    assert_eq!(predictions.len(), labels.len(), "one prediction per label");
    let n = labels.len();
    if n == 0 {
        return RegressionMetrics {
            rows: 0,
            rmse: None,
            mae: None,
            r2: None,
            mean_label: None,
            median_label: None,
            mean_prediction: None,
        };
    }
    let nf = n as f64;
    let mean = labels.iter().sum::<f64>() / nf;
    let sse: f64 = predictions.iter().zip(labels).map(|(p, y)| (y - p).powi(2)).sum();
    let sst: f64 = labels.iter().map(|y| (y - mean).powi(2)).sum();
    RegressionMetrics {
        rows: n as u64,
        rmse: Some((sse / nf).sqrt()),
        mae: Some(predictions.iter().zip(labels).map(|(p, y)| (y - p).abs()).sum::<f64>() / nf),
        r2: (sst > 0.0).then(|| 1.0 - sse / sst),
        mean_label: Some(mean),
        median_label: median_of(labels),
        mean_prediction: Some(predictions.iter().sum::<f64>() / nf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_equal_hand_computed_values() {
        // Errors 1, -2, 0, 3: SSE 14, |e| 6; labels mean 5, SST = 4 + 1 + 1 + 4 = 10.
        let labels = [3.0, 4.0, 6.0, 7.0];
        let predictions = [2.0, 6.0, 6.0, 4.0];
        let m = regression_metrics(&predictions, &labels);
        assert_eq!(m.rows, 4);
        assert!((m.rmse.unwrap() - (14.0f64 / 4.0).sqrt()).abs() < 1e-15);
        assert!((m.mae.unwrap() - 1.5).abs() < 1e-15);
        assert!((m.r2.unwrap() - (1.0 - 14.0 / 10.0)).abs() < 1e-15);
        assert_eq!((m.mean_label, m.median_label, m.mean_prediction), (Some(5.0), Some(5.0), Some(4.5)));
    }

    #[test]
    fn perfect_constant_and_empty_parts() {
        let m = regression_metrics(&[1.0, 2.0, 9.0], &[1.0, 2.0, 9.0]);
        assert_eq!((m.rmse, m.mae, m.r2, m.median_label), (Some(0.0), Some(0.0), Some(1.0), Some(2.0)));
        // A constant label has no variance to explain: R² is undefined.
        assert_eq!(regression_metrics(&[1.0, 3.0], &[2.0, 2.0]).r2, None);
        assert_eq!(regression_metrics(&[], &[]).rmse, None);
        assert_eq!(median_of(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
