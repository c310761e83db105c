//! Limits through SQL: the memory limit (setting and option), capped text levels, and artifacts
//! whose body was edited with a valid checksum, which must be an ERROR and never a crash.
//! tests/crash/server_survives.sh runs the original crash reproductions against a whole server.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::core::models::GbmModel;
    use crate::core::models::{decode_model, encode_model};
    use crate::core::models::{Estimator, LeadModel};
    use crate::tests::fixtures::make_leads;

    /// 6,000 leads with a text column of 2,000 companies, each seen three times (1,986 of them in
    /// the training part).
    fn companies() {
        Spi::run(
            "CREATE TABLE companies AS SELECT g AS id, 'company ' || (g % 2000) AS company, (g % 7) AS n,
                    ((g % 2000) % 10 < 3) AS converted FROM generate_series(1, 6000) g",
        )
        .unwrap();
    }

    #[pg_test(
        error = "this call would need 181 MB for the logistic fit's Newton system of 1988 inputs (most inputs from \"company\" 1987, \"n\" 1; options.max_levels caps a text column's inputs), more than the memory limit of 100 MB (the limit is lead_scoring.max_memory; in train(), options.max_memory overrides it)"
    )]
    fn memory_setting_refuses_a_fit_past_it() {
        companies();
        Spi::run("SET lead_scoring.max_memory = '100MB'").unwrap();
        Spi::run("SELECT lead_scoring.train('c', 'companies', 'converted', options => '{\"exclude\": [\"id\"], \"min_level_count\": 1, \"max_levels\": 5000, \"leakage\": \"ignore\"}')").unwrap();
    }

    #[pg_test]
    fn memory_option_overrides_the_setting_and_is_recorded() {
        make_leads("leads", 1000);
        Spi::run("SET lead_scoring.max_memory = '1MB'").unwrap();
        Spi::run("SELECT lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"], \"max_memory\": \"256MB\"}')").unwrap();
        let recorded = Spi::get_one::<String>(
            "SELECT training->'effective_options'->>'max_memory' FROM lead_scoring.models WHERE name = 'm'",
        );
        assert_eq!(recorded, Ok(Some("256 MB".to_string())));
        assert_eq!(Spi::get_one::<String>("SHOW lead_scoring.max_memory"), Ok(Some("1MB".to_string())));
    }

    #[pg_test(
        error = "this call would need 1.5 MB for the first 10000 rows of wide read into memory, more than the memory limit of 1.0 MB (the limit is lead_scoring.max_memory; in train(), options.max_memory overrides it); audit fewer rows or columns (a query source with a WHERE clause or TABLESAMPLE)"
    )]
    fn audit_reads_within_the_memory_setting() {
        Spi::run("CREATE TABLE wide AS SELECT g AS id, md5(g::text) AS email, (g % 3 = 0) AS converted FROM generate_series(1, 50000) g").unwrap();
        Spi::run("SET lead_scoring.max_memory = '1MB'").unwrap();
        Spi::run("SELECT * FROM lead_scoring.audit('wide', 'converted')").unwrap();
    }

    #[pg_test(
        error = "this call would need 1.1 MB for 131072 (score, label) pairs, which lift, the curves and precision_at_top keep until the end of a group, more than the memory limit of 1.0 MB (the limit is lead_scoring.max_memory; in train(), options.max_memory overrides it)"
    )]
    fn pair_keeping_aggregates_stay_within_the_memory_setting() {
        Spi::run("SET lead_scoring.max_memory = '1MB'").unwrap();
        Spi::run("SELECT lead_scoring.lift((g / 200000.0)::float8, g % 2 = 0) FROM generate_series(1, 200000) g").unwrap();
    }

    #[pg_test(
        error = "this call would need 1.0 MB for the count of rows per distinct score that roc_auc, pr_auc and ks_statistic keep for a group (65536 rows), more than the memory limit of 1.0 MB (the limit is lead_scoring.max_memory; in train(), options.max_memory overrides it)"
    )]
    fn ranking_aggregates_stay_within_the_memory_setting() {
        Spi::run("SET lead_scoring.max_memory = '1MB'").unwrap();
        // Many rows but few distinct scores fit: the state holds one entry per score.
        let few =
            Spi::get_one::<f64>("SELECT lead_scoring.roc_auc((g % 1000)::float8, g % 3 = 0) FROM generate_series(1, 500000) g");
        assert!(few.unwrap().is_some());
        Spi::run("SELECT lead_scoring.roc_auc((g / 200000.0)::float8, g % 2 = 0) FROM generate_series(1, 200000) g").unwrap();
    }

    #[pg_test]
    fn max_levels_caps_a_text_column_and_records_it() {
        companies();
        Spi::run("SELECT lead_scoring.train('c', 'companies', 'converted', options => '{\"exclude\": [\"id\"], \"min_level_count\": 1, \"max_levels\": 50, \"leakage\": \"ignore\"}')").unwrap();
        let capped = Spi::get_one::<pgrx::JsonB>("SELECT training->'capped_levels' FROM lead_scoring.models WHERE name = 'c'")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(capped, serde_json::json!([{"feature": "company", "frequent_levels": 1986, "kept_levels": 50}]));
        let levels =
            Spi::get_one::<i64>("SELECT jsonb_array_length(features->0->'levels') FROM lead_scoring.models WHERE name = 'c'");
        assert_eq!(levels, Ok(Some(50)));
        // Every company scores: the 1,950 not kept through "(other)".
        let scored = Spi::get_one::<i64>("SELECT count(lead_scoring.score('c', l)) FROM companies l");
        assert_eq!(scored, Ok(Some(6000)));
    }

    /// Replaces model `name`'s version 1 artifact by `model`, encoded with a valid checksum.
    fn store_artifact(name: &str, model: &LeadModel) {
        Spi::run_with_args(
            "UPDATE lead_scoring.models SET artifact = $1 WHERE name = $2 AND version = 1",
            &[encode_model(model, name, 1).into(), name.into()],
        )
        .unwrap();
    }

    fn stored_model(name: &str) -> LeadModel {
        let bytes = Spi::get_one_with_args::<Vec<u8>>("SELECT artifact FROM lead_scoring.models WHERE name = $1", &[name.into()]);
        decode_model(&bytes.unwrap().unwrap()).unwrap()
    }

    // 4 inputs: the leads' numbers, and each text column as one input of level codes.
    #[pg_test(
        error = "model \"g@1\": model artifact is corrupt: tree 0: node 0 splits input 999999 at 0.5 (the model has 4 inputs)"
    )]
    fn an_edited_tree_is_an_error_not_a_crash() {
        make_leads("leads", 1000);
        Spi::run("SELECT lead_scoring.train('g', 'leads', 'converted', algorithm => 'gbm', options => '{\"exclude\": [\"id\"], \"trees\": 10}')").unwrap();
        let model = stored_model("g");
        let Estimator::Gbm(booster) = &model.estimator else { panic!("a gbm model") };
        // Tree 0 replaced by a stump on an input the model does not have.
        let text = booster.model_text();
        let (start, end) = (text.find("Tree=0\n").unwrap(), text.find("Tree=1\n").unwrap());
        let stump = "Tree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=999999\nsplit_gain=1\nthreshold=0.5\ndecision_type=2\n\
                     left_child=-1\nright_child=-2\nleaf_value=0.1 -0.1\nleaf_weight=1 1\nleaf_count=1 1\ninternal_value=0\n\
                     internal_weight=2\ninternal_count=2\nis_linear=0\nshrinkage=1\n\n\n";
        let booster = GbmModel::from_model_text(format!("{}{stump}{}", &text[..start], &text[end..])).unwrap();
        store_artifact("g", &LeadModel { estimator: Estimator::Gbm(booster), ..model });
        Spi::run("SELECT lead_scoring.score('g', l) FROM leads l").unwrap();
    }

    #[pg_test(error = "model \"m@1\": model artifact is corrupt: 10 coefficients for 11 inputs")]
    fn a_logistic_artifact_with_a_coefficient_missing_is_an_error() {
        make_leads("leads", 1000);
        Spi::run("SELECT lead_scoring.train('m', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')").unwrap();
        let mut model = stored_model("m");
        if let Estimator::Logistic(fit) = &mut model.estimator {
            fit.coefficients.pop();
        }
        store_artifact("m", &model);
        Spi::run("SELECT lead_scoring.explain('m', l) FROM leads l LIMIT 1").unwrap();
    }
}
