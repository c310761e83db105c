//! report(): the HTML page of a model, its charts, the card, escaping, the latest monitoring
//! run, errors.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{error_of, make_leads, train_default};

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

    /// The rows of the report's Funnel table: (period, tier, leads, conversions).
    fn funnel_table(html: &str) -> Vec<(String, String, i64, i64)> {
        let table = html.split("<table class=\"funnel\">").nth(1).expect("a funnel table").split("</table>").next().unwrap();
        let text = |cell: &str| {
            let mut out = String::new();
            let mut in_tag = false;
            for ch in cell.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => out.push(c),
                    _ => {}
                }
            }
            out
        };
        table
            .split("<tr>")
            .skip(2) // before the header, the header
            .map(|row| {
                let cells: Vec<String> = row.split("</td>").map(text).collect();
                (cells[0].clone(), cells[1].clone(), cells[2].parse().unwrap(), cells[3].parse().unwrap())
            })
            .collect()
    }

    #[pg_test]
    fn report_funnel_counts_equal_funnel_over_the_models_tiers() {
        make_leads("leads", 2000);
        train_default("m", "leads");
        // Without a tier column: the leads tiered by the reported version, as tier() does.
        let html = Spi::get_one::<String>(
            r#"SELECT lead_scoring.report('m@1', funnel => '{"source": "leads", "period": "month", "cost_per_lead": 10}')"#,
        )
        .unwrap()
        .unwrap();
        assert!(html.contains("<h2>Funnel</h2>") && html.contains("tiers of m@1"), "no funnel section");
        let shown = funnel_table(&html);
        let expected: Vec<(String, String, i64, i64)> = Spi::connect(|c| {
            c.select(
                "SELECT period::text, tier, leads, conversions FROM lead_scoring.funnel(
                        'SELECT *, lead_scoring.tier(''m'', l) AS t FROM leads l', 't', 'month')",
                None,
                &[],
            )
            .unwrap()
            .map(|r| {
                (r.get(1).unwrap().unwrap(), r.get(2).unwrap().unwrap(), r.get(3).unwrap().unwrap(), r.get(4).unwrap().unwrap())
            })
            .collect()
        });
        assert!(expected.len() >= 6, "{expected:?}");
        assert_eq!(shown, expected);
        // No MQL column: no cost per MQL, even with a cost.
        assert!(!html.contains("<th>cost per MQL</th>") && html.contains("<th>conversion rate</th>"));
        // With a tier column of the source, one group per value.
        let by_source = Spi::get_one::<String>(
            r#"SELECT lead_scoring.report('m', funnel => '{"source": "SELECT * FROM leads", "tier": "source", "period": "all"}')"#,
        )
        .unwrap()
        .unwrap();
        let rows = funnel_table(&by_source);
        assert_eq!(rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["Google", "Olark Chat", "Reference", "Select"]);
        assert_eq!(rows.iter().map(|r| r.2).sum::<i64>(), 2000);
        assert!(rows.iter().all(|r| r.0 == "all"));
    }

    #[pg_test]
    fn report_funnel_errors() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        let cases = [
            (r#"[1]"#, "22023: funnel must be a JSON object"),
            (r#"{"period": "month"}"#, "22023: funnel.source is required"),
            (r#"{"source": "leads", "tiers": "x"}"#, "22023: unknown funnel key \"tiers\""),
            (r#"{"source": "leads", "tier": "nope"}"#, "nope"),
            (r#"{"source": "no_such_table"}"#, "42P01: source \"no_such_table\" does not exist"),
            (r#"{"source": "leads", "period": "fortnight"}"#, "22023: period must be one of"),
            (r#"{"source": "leads", "cost_per_lead": "ten"}"#, "22023: funnel.cost_per_lead must be a number"),
            (
                r#"{"source": "leads", "options": {"mql_column": "source"}}"#,
                "42804: column \"source\" (mql_column) has type text",
            ),
        ];
        for (funnel, message) in cases {
            let sql = format!("SELECT lead_scoring.report('m', funnel => '{funnel}')");
            let err = error_of(&sql);
            assert!(err.contains(message), "{funnel}: {err}");
        }
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
