//! The report's funnel section: `funnel()`'s rows for a CRM source, as sales reads them (one
//! row per period and tier, rates as percentages, days and money rounded). Columns whose input
//! was not given (no MQL column, no cost, no feedback) are left out rather than shown empty.

use std::fmt::Write;

use crate::evaluation::FunnelRow;
use crate::report::svg_chart::{escape, format_number};

/// What the report shows of a funnel: where the rows came from and the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelSection {
    /// The source as the user named it (table, view or SELECT).
    pub source: String,
    /// 'day', 'week', 'month', 'quarter', 'year' or 'all'.
    pub period: String,
    /// The tier column, or how tiers were assigned.
    pub tiers_from: String,
    pub rows: Vec<FunnelRow>,
}

type Cell = fn(&FunnelRow) -> Option<String>;

fn percent(v: Option<f64>) -> Option<String> {
    v.map(|v| format!("{:.1}%", 100.0 * v))
}

fn count(v: Option<i64>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// The columns after period and tier: header and cell (`None`: no value).
const COLUMNS: [(&str, Cell); 10] = [
    ("leads", |r| Some(r.leads.to_string())),
    ("MQLs", |r| count(r.mqls)),
    ("SQLs", |r| count(r.sqls)),
    ("conversions", |r| Some(r.conversions.to_string())),
    ("conversion rate", |r| percent(r.conversion_rate)),
    ("MQL to SQL", |r| percent(r.mql_to_sql_rate)),
    ("median days to conversion", |r| r.median_days_to_conversion.map(|d| format!("{d:.1}"))),
    ("deal velocity per day", |r| r.deal_velocity.map(|v| format_number(v.round(), 0))),
    ("sales acceptance", |r| percent(r.sales_acceptance_rate)),
    ("cost per MQL", |r| r.cost_per_qualified_lead.map(|v| format!("{v:.2}"))),
];

/// The section's HTML; a note instead of a table when the source had no rows.
pub fn funnel_section(f: &FunnelSection) -> String {
    let mut out = String::from("<h2>Funnel</h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"note\">From <code>{}</code> per {} and tier ({}), as <code>funnel()</code> computes it.</p>",
        escape(&f.source),
        escape(&f.period),
        escape(&f.tiers_from)
    );
    if f.rows.is_empty() {
        out.push_str("<p class=\"note\">The source has no leads.</p>\n");
        return out;
    }
    let shown: Vec<&(&str, Cell)> = COLUMNS.iter().filter(|(_, cell)| f.rows.iter().any(|r| cell(r).is_some())).collect();
    out.push_str("<table class=\"funnel\"><thead><tr><th>period</th><th>tier</th>");
    for (name, _) in &shown {
        let _ = write!(out, "<th>{name}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in &f.rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><strong>{}</strong></td>",
            escape(r.period.as_deref().unwrap_or("all")),
            escape(r.tier.as_deref().unwrap_or("(none)"))
        );
        for (_, cell) in &shown {
            let _ = write!(out, "<td class=\"num\">{}</td>", escape(&cell(r).unwrap_or_default()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period: &str, tier: &str, leads: i64, conversions: i64) -> FunnelRow {
        FunnelRow {
            period: Some(period.into()),
            tier: Some(tier.into()),
            leads,
            conversions,
            conversion_rate: Some(conversions as f64 / leads as f64),
            ..Default::default()
        }
    }

    #[test]
    fn rows_show_the_columns_that_have_values() {
        let mut hot = row("2025-01-01", "hot", 200, 50);
        hot.mqls = Some(120);
        hot.cost_per_qualified_lead = Some(41.666);
        let cold = row("2025-01-01", "<cold>", 800, 8);
        let f = FunnelSection {
            source: "crm.leads".into(),
            period: "quarter".into(),
            tiers_from: "tier".into(),
            rows: vec![hot, cold],
        };
        let html = funnel_section(&f);
        assert!(
            html.contains("<th>leads</th><th>MQLs</th><th>conversions</th><th>conversion rate</th><th>cost per MQL</th></tr>"),
            "{html}"
        );
        assert!(!html.contains("SQLs") && !html.contains("sales acceptance"), "{html}");
        assert!(html.contains("<td><strong>hot</strong></td><td class=\"num\">200</td><td class=\"num\">120</td><td class=\"num\">50</td><td class=\"num\">25.0%</td><td class=\"num\">41.67</td>"), "{html}");
        // The cold row has no MQL count: an empty cell, and its name escaped.
        assert!(html.contains("<td><strong>&lt;cold&gt;</strong></td><td class=\"num\">800</td><td class=\"num\"></td><td class=\"num\">8</td><td class=\"num\">1.0%</td>"), "{html}");
        assert!(html.contains("From <code>crm.leads</code> per quarter"));
    }

    #[test]
    fn an_empty_source_says_so() {
        let f = FunnelSection { source: "s".into(), period: "all".into(), tiers_from: "t".into(), rows: vec![] };
        let html = funnel_section(&f);
        assert!(html.contains("The source has no leads.") && !html.contains("<table"));
    }
}
