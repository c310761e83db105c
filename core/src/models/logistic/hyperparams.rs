//! The logistic fit's hyperparameters as a linfa estimator: [`LogisticParams`] is built and then
//! checked into [`ValidLogisticParams`] through [`linfa::ParamGuard`], the split linfa-logistic
//! uses, so `LogisticParams::new().alpha(0.5).fit(&dataset)` rejects bad options before fitting.

use linfa::ParamGuard;

use super::params::{LogisticError, LogisticOptions};

/// Checked hyperparameters of a weighted logistic fit: what `Fit` runs with.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValidLogisticParams {
    pub(super) options: LogisticOptions,
}

impl ValidLogisticParams {
    /// The options [`super::fit_logistic`] is called with.
    pub fn options(&self) -> &LogisticOptions {
        &self.options
    }
}

/// Hyperparameters of a weighted logistic fit, unchecked; the defaults are
/// [`LogisticOptions::default`] (alpha 1, 100 Newton iterations, step tolerance 1e-8).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LogisticParams(ValidLogisticParams);

impl LogisticParams {
    pub fn new() -> Self {
        Self::default()
    }

    /// L2 penalty on the coefficients, intercept excluded (scikit-learn's `1 / C`; the same
    /// number as linfa-logistic's `alpha`).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.0.options.alpha = alpha;
        self
    }

    /// Maximum number of Newton iterations.
    pub fn max_iterations(mut self, max_iter: usize) -> Self {
        self.0.options.max_iter = max_iter;
        self
    }

    /// Converged once every component of the Newton step is below this in absolute value.
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.0.options.tol = tol;
        self
    }
}

impl From<LogisticOptions> for LogisticParams {
    fn from(options: LogisticOptions) -> Self {
        LogisticParams(ValidLogisticParams { options })
    }
}

impl ParamGuard for LogisticParams {
    type Checked = ValidLogisticParams;
    type Error = LogisticError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        self.0.options.check()?;
        Ok(&self.0)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}
