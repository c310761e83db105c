//! The aggregate engine reads a bounded sample of the rows (options.sample_rows) and computes
//! what must hold for all rows by aggregates: the preprocessing (so the coefficients are the
//! memory engine's), the counts per part and every part's metrics.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use serde_json::Value;

    use crate::tests::real_data::tests::{load_x_education, LEAKING};

    fn options(extra: &str) -> String {
        let mut ex: Vec<&str> = LEAKING.to_vec();
        ex.extend(["Prospect ID", "Lead Number", "file_row"]);
        format!(
            r#"{{"split": {{"method": "column", "column": "part"}}, "tol": 1e-10, "exclude": {}{extra}}}"#,
            serde_json::to_string(&ex).unwrap()
        )
    }

    fn train(model: &str, options: &str) {
        Spi::run(&format!(
            "SELECT * FROM lead_scoring.train('{model}', 'x_education.leads_split', 'Converted', options => '{options}')"
        ))
        .unwrap();
    }

    fn stored(model: &str, column: &str) -> Value {
        Spi::get_one::<pgrx::JsonB>(&format!(
            "SELECT {column} FROM lead_scoring.models WHERE name = '{model}' ORDER BY version DESC LIMIT 1"
        ))
        .unwrap()
        .unwrap()
        .0
    }

    fn coefficients(model: &str) -> Vec<f64> {
        coefficients_of(
            model,
            Spi::get_one::<i32>(&format!("SELECT max(version) FROM lead_scoring.models WHERE name = '{model}'"))
                .unwrap()
                .unwrap(),
        )
    }

    /// The intercept and coefficients of one version, and its calibration (isotonic: from the sample).
    fn coefficients_of(model: &str, version: i32) -> Vec<f64> {
        let artifact = Spi::get_one::<Vec<u8>>(&format!(
            "SELECT artifact FROM lead_scoring.models WHERE name = '{model}' AND version = {version}"
        ))
        .unwrap()
        .unwrap();
        let decoded = crate::core::models::decode_model(&artifact).unwrap();
        let calibration = match decoded.calibration {
            crate::core::models::Calibration::Isotonic { x, y } => [x, y].concat(),
            _ => Vec::new(),
        };
        match decoded.estimator {
            crate::core::models::Estimator::Logistic(fit) => [vec![fit.intercept], fit.coefficients, calibration].concat(),
            _ => panic!("not logistic"),
        }
    }

    fn number(v: &Value) -> f64 {
        v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
    }

    #[pg_test]
    fn a_sample_of_the_rows_gives_the_memory_engines_coefficients_and_metrics_of_all_rows() {
        load_x_education();
        train("x_memory", &options(r#", "engine": "memory""#));
        train("x_sampled", &options(r#", "engine": "aggregate", "sample_rows": 2000"#));
        let training = stored("x_sampled", "training");
        let sample = &training["sample"];
        let (sampled, total) = (sample["rows_sampled"].as_u64().unwrap(), sample["rows_total"].as_u64().unwrap());
        assert!(sampled <= 2000 && sampled > 1000, "{sample}");
        assert_eq!(total, 9237, "{sample}");
        assert_eq!(training["rows"], 9237);
        assert_eq!(training["parts"], stored("x_memory", "training")["parts"]);
        assert!(sample["from_sample"].as_array().unwrap().contains(&"calibration".into()), "{sample}");
        // The memory engine reads every row and says nothing of a sample.
        assert!(stored("x_memory", "training").get("sample").is_none());

        // The preprocessing of all training rows: the memory engine's coefficients.
        let (a, m) = (coefficients("x_sampled"), coefficients("x_memory"));
        assert!(a.len() == m.len() && a.len() > 50, "{} vs {} inputs", a.len(), m.len());
        for (i, (x, y)) in a.iter().zip(&m).enumerate() {
            assert!((x - y).abs() < 1e-6, "coefficient {i}: sampled {x} vs memory {y}");
        }

        // Each part's stored metrics are those of score() over all its rows.
        let threshold = number(&stored("x_sampled", "to_jsonb(threshold)"));
        let metrics = stored("x_sampled", "metrics");
        let memory = stored("x_memory", "metrics");
        for part in ["train", "validation", "test"] {
            let all = Spi::get_one::<pgrx::JsonB>(&format!(
                r#"SELECT jsonb_build_object('rows', count(*), 'roc_auc', lead_scoring.roc_auc(s, y), 'pr_auc', lead_scoring.pr_auc(s, y),
                          'log_loss', lead_scoring.log_loss(s, y), 'brier', lead_scoring.brier(s, y),
                          'confusion', lead_scoring.confusion(s, y, {threshold}::float8))
                     FROM (SELECT lead_scoring.score('x_sampled', l) AS s, "Converted"::int8 AS y
                             FROM x_education.leads_split l WHERE part = '{part}') AS scored"#
            ))
            .unwrap()
            .unwrap()
            .0;
            let m = &metrics[part];
            assert_eq!(m["rows"], all["rows"], "{part}");
            for key in ["roc_auc", "pr_auc", "log_loss", "brier"] {
                let (stored, measured) = (number(&m[key]), number(&all[key]));
                assert!((stored - measured).abs() < 1e-12, "{part} {key}: stored {stored}, over all rows {measured}");
                // The memory engine's model, fitted on the same preprocessing, measures the same.
                let mem = number(&memory[part][key]);
                assert!((stored - mem).abs() < 1e-6, "{part} {key}: aggregate {stored}, memory {mem}");
            }
            for key in ["tp", "fp", "tn", "fn"] {
                assert_eq!(m["confusion"][key], all["confusion"][key], "{part} {key}: {m} vs {all}");
            }
        }
    }

    #[pg_test]
    fn the_same_rows_give_the_same_sample_and_model() {
        load_x_education();
        let opts = options(r#", "engine": "aggregate", "sample_rows": 1500, "calibration": "isotonic""#);
        train("x_again", &opts);
        train("x_again", &opts);
        // The artifact names its version: compare what was fitted and chosen.
        let same = Spi::get_one::<bool>(
            "SELECT count(DISTINCT threshold) = 1 AND count(DISTINCT tiers::text) = 1 AND count(DISTINCT metrics::text) = 1
                    AND count(DISTINCT validation_predictions) = 1 AND count(*) = 2
               FROM lead_scoring.models WHERE name = 'x_again'",
        )
        .unwrap();
        assert_eq!(same, Some(true), "the two trainings chose differently");
        assert_eq!(coefficients_of("x_again", 1), coefficients_of("x_again", 2));
        // skip_unchanged sees the same rows through the aggregate fingerprint.
        let skip = options(r#", "engine": "aggregate", "sample_rows": 1500, "calibration": "isotonic", "skip_unchanged": true"#);
        train("x_again", &skip);
        train("x_again", &skip);
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.models WHERE name = 'x_again'").unwrap(), Some(3));
        Spi::run("UPDATE x_education.leads SET \"TotalVisits\" = \"TotalVisits\" + 1 WHERE file_row % 97 = 0").unwrap();
        train("x_again", &skip);
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.models WHERE name = 'x_again'").unwrap(), Some(4));
    }

    #[pg_test]
    fn a_sample_larger_than_the_rows_reads_them_all() {
        load_x_education();
        train("x_whole", &options(r#", "engine": "aggregate""#));
        let sample = &stored("x_whole", "training")["sample"];
        assert_eq!(sample["rows_sampled"], sample["rows_total"], "{sample}");
        assert_eq!(sample["sample_rows"], 100_000, "{sample}");
    }
}
