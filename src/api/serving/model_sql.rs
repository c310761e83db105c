//! `model_sql(model_name)`: the deployed logistic model as one plain SQL expression
//! (`core::model_sql`), for portability and as a scoring baseline.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::core::models::Estimator;
use crate::errors::{core_ok, raise_with_hint};
use crate::executor::cache;

/// The calibrated probability of the deployed (or named, 'name@3') logistic model as a plain SQL
/// expression over the raw source columns: `SELECT <expression> FROM leads` gives score().
#[pg_extern(stable, parallel_safe, strict)]
fn model_sql(model_name: &str) -> String {
    let model = cache::get(model_name);
    if let Estimator::Gbm(_) = model.model.estimator {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!(
                "model_sql supports logistic models only; model \"{}@{}\" is gbm (gradient boosted trees)",
                model.row.name, model.row.version
            ),
            "score gbm models with lead_scoring.score(), or train a logistic version for a portable formula",
        );
    }
    core_ok(crate::core::serving::model_sql(&model.model))
}
