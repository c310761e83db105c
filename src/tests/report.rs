//! report(): the HTML page of a model, its charts, the card, escaping, the latest monitoring
//! run, errors.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    fn report(model: &str) -> String {
        Spi::get_one_with_args::<String>("SELECT lead_scoring.report($1)", &[model.into()]).unwrap().unwrap()
    }

    #[pg_test]
    fn report_has_every_chart_the_card_and_the_tiers() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        let html = report("m");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<svg").count(), 5, "ROC, PR, calibration, lift, importance");
        assert!(html.contains("<h2>Model card: m (version 1, deployed)</h2>"));
        assert!(html.contains("<h3>Known limitations</h3>"));
        assert!(
            html.contains("No monitoring run yet")
                && html.contains("lead_scoring.monitor(&#39;m&#39;, &#39;&lt;source&gt;&#39;)")
        );
        // The ROC chart is drawn from the stored validation predictions: its AUC is the stored validation AUC.
        let auc =
            Spi::get_one::<f64>("SELECT (metrics->'validation'->>'roc_auc')::float8 FROM lead_scoring.models WHERE name = 'm'")
                .unwrap()
                .unwrap();
        let shown = format!("ROC curve (validation, AUC {})", crate::core::report::format_number(auc, 3));
        assert!(html.contains(&shown), "missing {shown}");
        // Every tier of the model is a row; the most important feature is in the chart.
        let tiers = Spi::get_one::<pgrx::JsonB>("SELECT tiers FROM lead_scoring.models WHERE name = 'm'").unwrap().unwrap().0;
        for t in tiers.as_array().unwrap() {
            assert!(html.contains(&format!("<td><strong>{}</strong></td>", t["name"].as_str().unwrap())));
        }
        let top = Spi::get_one::<String>("SELECT feature FROM lead_scoring.feature_importance('m') LIMIT 1").unwrap().unwrap();
        assert!(html.contains(&format!(">{top}</text>")));
        // A version by number works too, deployed or not.
        assert!(report("m@1").contains("Lead scoring report: m (version 1)"));
    }

    #[pg_test]
    fn hostile_names_are_escaped() {
        make_leads("leads", 1000);
        Spi::run(r#"ALTER TABLE leads RENAME COLUMN source TO "<Source> & 'x'""#).unwrap();
        Spi::run(r#"SELECT lead_scoring.train('<b>"m" & ''y''</b>', 'leads', 'converted', options => '{"exclude": ["id"]}')"#)
            .unwrap();
        let html = report(r#"<b>"m" & 'y'</b>"#);
        assert!(!html.contains(r#"<b>"m""#) && !html.contains("<Source>"));
        assert!(html.contains("Lead scoring report: &lt;b&gt;&quot;m&quot; &amp; &#39;y&#39;&lt;/b&gt; (version 1)"));
        assert!(html.contains("&lt;Source&gt; &amp; &#39;x&#39;"));
    }

    #[pg_test]
    fn latest_monitoring_run_is_shown_when_the_table_has_one() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        // monitor() writes lead_scoring.monitoring; here a row is written by hand (the table is
        // created if this build does not have it yet).
        Spi::run(
            "CREATE TABLE IF NOT EXISTS lead_scoring.monitoring (id bigserial PRIMARY KEY, model_name text, version int, source text,
                 checked_at timestamptz, rows bigint, positives bigint, metrics jsonb, baseline jsonb, drift jsonb, status text,
                 recommendation text, checked_by name DEFAULT current_user)",
        )
        .unwrap();
        Spi::run(
            r#"INSERT INTO lead_scoring.monitoring (model_name, version, source, checked_at, rows, positives, metrics, baseline, drift, status, recommendation)
               VALUES ('m', 1, 'public.leads', '2026-01-01', 900, 200, '{"roc_auc": 0.7}', '{"roc_auc": 0.8}',
                       '[{"feature": "visits", "psi": 0.1, "status": "warn", "detail": "old run"}]', 'warn', 'older run'),
                      ('m', 1, 'public.leads', '2026-02-01', 1000, 250, '{"roc_auc": 0.71}', '{"roc_auc": 0.8}',
                       '[{"feature": "visits", "psi": 0.31, "status": "alert", "detail": "mean up"},
                         {"feature": "score", "psi": 0.02, "status": "ok", "detail": ""}]', 'alert', 'Retrain: visits drifted.'),
                      ('other', 1, 'x', '2026-03-01', 1, 1, '{}', '{}', '[]', 'ok', 'another model')"#,
        )
        .unwrap();
        let html = report("m");
        assert_eq!(html.matches("<svg").count(), 6);
        assert!(html.contains("Retrain: visits drifted.") && !html.contains("older run") && !html.contains("another model"));
        assert!(html.contains("<td>visits</td><td class=\"num\">0.31</td>"));
        assert!(html.contains("<tr><td>roc_auc</td><td class=\"num\">0.71</td><td class=\"num\">0.8</td></tr>"));
        assert!(!html.contains("No monitoring run yet"));
    }

    #[pg_test(error = "model_name must not be NULL")]
    fn report_null_model() {
        Spi::run("SELECT lead_scoring.report(NULL)").unwrap();
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn report_unknown_model() {
        Spi::run("SELECT lead_scoring.report('nope')").unwrap();
    }

    #[pg_test(error = "model \"m\" has no version 7")]
    fn report_unknown_version() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.report('m@7')").unwrap();
    }
}
