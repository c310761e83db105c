//! `funnel()`: the numbers sales tracks, per tier and period, from a CRM table or view:
//! conversion rate, MQL -> SQL rate, time to conversion, deal velocity, sales acceptance from
//! reps' `flag()` feedback and the cost per qualified lead. One grouped query counts; the
//! core's `funnel_rates` divides.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde_json::Value;

use crate::catalog::feedback::latest_feedback_join;
use crate::core::data::{ColumnClass, SourceColumn};
use crate::core::error::sql_float;
use crate::core::evaluation::{funnel_rates, FunnelCounts, FunnelRow};
use crate::errors::{invalid, quote_ident, raise_with_hint, required};
use crate::executor::source::{describe, find_column, resolve_source, Source};

const PERIODS: [&str; 6] = ["day", "week", "month", "quarter", "year", "all"];
const KEYS: [&str; 8] =
    ["created_column", "outcome", "converted_at_column", "mql_column", "sql_column", "value_column", "feedback_model", "key"];

fn text_option(o: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(v) => invalid(format!("options.{key} must be a non-empty string, got {v}")),
    }
}

/// The column `name` of the source, checked to be of one of the classes.
fn column<'a>(
    cols: &'a [SourceColumn],
    name: &str,
    role: &str,
    src: &Source,
    classes: &[ColumnClass],
    wanted: &str,
) -> &'a SourceColumn {
    let c = find_column(cols, name, role, src);
    let ok = classes.iter().any(|k| std::mem::discriminant(k) == std::mem::discriminant(&c.class));
    if !ok {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!("column \"{}\" ({role}) has type {}, not {wanted}", c.name, c.type_name),
            "name a column of that type, or a view's column that converts it",
        );
    }
    c
}

/// A reached-stage condition: a boolean column is true, any other (a timestamp) is set.
fn reached(c: &SourceColumn) -> String {
    let q = format!("s.{}", quote_ident(&c.name));
    if c.class == ColumnClass::Boolean {
        format!("{q} IS TRUE")
    } else {
        format!("{q} IS NOT NULL")
    }
}

/// Funnel numbers of `source` (table, view or SELECT) per `period` of the created column
/// ('day', 'week', 'month', 'quarter', 'year' or 'all') and per value of the `tier` column
/// (NULL: one group). `cost_per_lead` gives the cost per qualified (MQL) lead. Options name the
/// columns: created_column (default created_at), outcome (boolean, default converted),
/// converted_at_column, mql_column, sql_column (timestamps or booleans), value_column, and
/// feedback_model with key for the sales acceptance rate from `flag()`.
#[pg_extern(stable, parallel_unsafe)]
fn funnel(
    source: Option<&str>,
    tier: default!(Option<&str>, "NULL"),
    period: default!(Option<&str>, "'month'"),
    cost_per_lead: default!(Option<f64>, "NULL"),
    options: default!(Option<pgrx::JsonB>, "'{}'"),
) -> TableIterator<
    'static,
    (
        name!(period, Option<pgrx::datum::Date>),
        name!(tier, Option<String>),
        name!(leads, i64),
        name!(mqls, Option<i64>),
        name!(sqls, Option<i64>),
        name!(conversions, i64),
        name!(conversion_rate, Option<f64>),
        name!(mql_to_sql_rate, Option<f64>),
        name!(median_days_to_conversion, Option<f64>),
        name!(deal_velocity, Option<f64>),
        name!(sales_acceptance_rate, Option<f64>),
        name!(cost_per_qualified_lead, Option<f64>),
    ),
> {
    let src = resolve_source(required(source, "source"));
    let options = required(options, "options").0;
    let rows = funnel_rows(&src, tier, required(period, "period"), cost_per_lead, &options);
    TableIterator::new(rows.into_iter().map(|(day, r)| {
        (
            day,
            r.tier,
            r.leads,
            r.mqls,
            r.sqls,
            r.conversions,
            r.conversion_rate,
            r.mql_to_sql_rate,
            r.median_days_to_conversion,
            r.deal_velocity,
            r.sales_acceptance_rate,
            r.cost_per_qualified_lead,
        )
    }))
}

/// [`funnel`]'s rows (with each period's first day as a date too), for `funnel()` and `report()`.
pub(crate) fn funnel_rows(
    src: &Source,
    tier: Option<&str>,
    period: &str,
    cost_per_lead: Option<f64>,
    options: &Value,
) -> Vec<(Option<pgrx::datum::Date>, FunnelRow)> {
    let period = period.trim().to_lowercase();
    if !PERIODS.contains(&period.as_str()) {
        invalid(format!("period must be one of {}, got \"{period}\"", PERIODS.join(", ")));
    }
    if let Some(c) = cost_per_lead {
        if !(c.is_finite() && c >= 0.0) {
            invalid(format!("cost_per_lead must be a finite amount of at least 0, got {}", sql_float(c)));
        }
    }
    let Some(o) = options.as_object() else { invalid(format!("options must be a JSON object, got {options}")) };
    if let Some(unknown) = o.keys().find(|k| !KEYS.contains(&k.as_str())) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("unknown funnel option \"{unknown}\""),
            format!("the options are {}", KEYS.join(", ")),
        );
    }
    let cols = describe(src);
    let time = [ColumnClass::Temporal];
    let created = column(
        &cols,
        &text_option(o, "created_column").unwrap_or("created_at".into()),
        "created_column",
        src,
        &time,
        "a date or timestamp",
    );
    let outcome = column(
        &cols,
        &text_option(o, "outcome").unwrap_or("converted".into()),
        "outcome",
        src,
        &[ColumnClass::Boolean],
        "boolean",
    );
    let stage = [ColumnClass::Temporal, ColumnClass::Boolean];
    let mql = text_option(o, "mql_column").map(|c| column(&cols, &c, "mql_column", src, &stage, "a timestamp or boolean"));
    let sql = text_option(o, "sql_column").map(|c| column(&cols, &c, "sql_column", src, &stage, "a timestamp or boolean"));
    let converted_at = text_option(o, "converted_at_column")
        .map(|c| column(&cols, &c, "converted_at_column", src, &time, "a date or timestamp"));
    let value = text_option(o, "value_column")
        .map(|c| column(&cols, &c, "value_column", src, &[ColumnClass::Numeric { integer: false }], "numeric"));
    let tier_col = tier.map(|t| find_column(&cols, t, "tier", src));
    let feedback = match (text_option(o, "feedback_model"), text_option(o, "key")) {
        (Some(model), Some(key)) => Some((model, find_column(&cols, &key, "key", src).name.clone())),
        (None, None) => None,
        _ => invalid(
            "options.feedback_model and options.key go together (the sales acceptance rate reads flag() feedback by lead key)",
        ),
    };

    let q = |c: &SourceColumn| format!("s.{}", quote_ident(&c.name));
    let period_sql = if period == "all" {
        "NULL::date".to_string()
    } else {
        format!("pg_catalog.date_trunc('{period}', {}::timestamptz)::date", q(created))
    };
    let days_sql = match converted_at {
        Some(c) => format!(
            "pg_catalog.date_part('epoch', {}::timestamptz OPERATOR(pg_catalog.-) {}::timestamptz) OPERATOR(pg_catalog./) 86400",
            q(c),
            q(created)
        ),
        None => "NULL::float8".to_string(),
    };
    let count_if = |cond: Option<String>| cond.map(|c| format!("count(*) FILTER (WHERE {c})")).unwrap_or("NULL::bigint".into());
    let won = format!("{} IS TRUE", q(outcome));
    let (join, flagged, accepted) = match &feedback {
        Some((model, key)) => (
            latest_feedback_join(model, &format!("s.{}", quote_ident(key)), "fb"),
            "count(fb.correct_label)".to_string(),
            "count(*) FILTER (WHERE fb.correct_label)".to_string(),
        ),
        None => (String::new(), "0::bigint".into(), "0::bigint".into()),
    };
    let query = format!(
        "SELECT {period_sql} AS period, {tier_sql} AS tier, count(*), {mqls}, {sqls}, {mql_sql},
                count(*) FILTER (WHERE {won}),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY {days_sql}) FILTER (WHERE {won}),
                avg({days_sql}) FILTER (WHERE {won}),
                {value_sum}, {flagged}, {accepted}, pg_catalog.to_char({period_sql}, 'YYYY-MM-DD')
           FROM (SELECT * FROM {from}) AS s {join}
          GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST",
        tier_sql = tier_col.map(|c| format!("{}::text", q(c))).unwrap_or("NULL::text".into()),
        mqls = count_if(mql.map(reached)),
        sqls = count_if(sql.map(reached)),
        mql_sql = count_if(mql.zip(sql).map(|(m, s)| format!("{} AND {}", reached(m), reached(s)))),
        value_sum = value.map(|v| format!("sum({}::float8) FILTER (WHERE {won})", q(v))).unwrap_or("NULL::float8".into()),
        from = src.from_sql,
    );
    crate::pg::read_only::read_only(|| {
        Spi::connect(|client| {
            let mut out = Vec::new();
            for r in client.select(&query, None, &[])? {
                let n = |i: usize| -> Result<Option<i64>, pgrx::spi::Error> { r.get::<i64>(i) };
                let counts = FunnelCounts {
                    leads: n(3)?.unwrap_or(0) as u64,
                    mqls: n(4)?.unwrap_or(0) as u64,
                    sqls: n(5)?.unwrap_or(0) as u64,
                    mqls_to_sql: n(6)?.unwrap_or(0) as u64,
                    conversions: n(7)?.unwrap_or(0) as u64,
                    mean_days_to_conversion: r.get::<f64>(9)?,
                    won_value: r.get::<f64>(10)?,
                    flagged: n(11)?.unwrap_or(0) as u64,
                    accepted: n(12)?.unwrap_or(0) as u64,
                };
                let rates = funnel_rates(&counts, cost_per_lead);
                let row = FunnelRow {
                    period: r.get::<String>(13)?,
                    tier: r.get::<String>(2)?,
                    leads: counts.leads as i64,
                    mqls: n(4)?,
                    sqls: n(5)?,
                    conversions: counts.conversions as i64,
                    conversion_rate: rates.conversion_rate,
                    mql_to_sql_rate: if mql.is_some() && sql.is_some() { rates.mql_to_sql_rate } else { None },
                    median_days_to_conversion: r.get::<f64>(8)?,
                    deal_velocity: rates.deal_velocity,
                    sales_acceptance_rate: if feedback.is_some() { rates.sales_acceptance_rate } else { None },
                    cost_per_qualified_lead: if mql.is_some() { rates.cost_per_qualified_lead } else { None },
                };
                out.push((r.get::<pgrx::datum::Date>(1)?, row));
            }
            Ok::<_, pgrx::spi::Error>(out)
        })
    })
    .unwrap_or_else(|e| invalid(format!("cannot read the funnel of {}: {e}", src.display)))
}
