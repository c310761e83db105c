//! `lead_scoring.backtest(model, source, time_column, period)`: the model's metrics per period
//! of history, so a decay over time is visible.

use pgrx::prelude::*;

use crate::api::evaluation::evaluate::score_rows;
use crate::core::data::ColumnClass;
use crate::core::data::SplitKey;
use crate::core::monitoring::group_metrics;
use crate::errors::{bad_data, invalid, quote_ident, required};
use crate::executor::source::{describe, find_column, resolve_source, Source};
use crate::pg::read_only::read_only;

/// More periods than this is almost certainly a wrong unit ('1 second' over years).
const MAX_PERIODS: i64 = 10_000;
/// Column the wrapped source adds for each row's period.
const PERIOD_COLUMN: &str = "lead_scoring_period_start";

type BacktestRow =
    (TimestampWithTimeZone, i64, i64, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>);

/// Period starts (and their epochs) covering the time column: from the earliest time truncated
/// to the month (when the period has months or years) or to the day, in steps of `period`.
fn periods(src: &Source, time: &str, period: Interval) -> Vec<(TimestampWithTimeZone, f64, f64)> {
    let t = format!("{}::timestamptz", quote_ident(time));
    let positive =
        Spi::get_one_with_args::<bool>("SELECT $1::interval > interval '0'", &[period.into()]).ok().flatten().unwrap_or(false);
    if !positive {
        invalid("period must be a positive interval, such as '1 month' or '7 days'");
    }
    // A period past any real time range would only overflow timestamp arithmetic below, with a
    // message that does not say which argument is wrong.
    let too_long = Spi::get_one_with_args::<bool>("SELECT $1::interval > interval '1000 years'", &[period.into()])
        .ok()
        .flatten()
        .unwrap_or(true);
    if too_long {
        invalid("period must be at most 1000 years, such as '1 month' or '1 year'");
    }
    let bounds = format!(
        "SELECT date_trunc(CASE WHEN extract(year FROM $1::interval) * 12 + extract(month FROM $1::interval) <> 0
                                THEN 'month' ELSE 'day' END, min({t})) AS lo,
                max({t}) AS hi
           FROM {}",
        src.from_sql
    );
    // Both queries read the source: read-only, as every source query (crate::pg::read_only).
    let count = read_only(|| {
        Spi::get_one_with_args::<i64>(
            &format!("SELECT ceil(extract(epoch FROM hi - lo) / extract(epoch FROM $1::interval))::int8 + 1 FROM ({bounds}) b"),
            &[period.into()],
        )
    })
    .unwrap_or_else(|e| invalid(format!("cannot read source {}: {e}", src.display)));
    match count {
        None => bad_data(format!("source {} has no rows with a non-NULL \"{time}\"", src.display)),
        Some(n) if n > MAX_PERIODS => invalid(format!(
            "period gives about {n} periods over the source's time range; at most {MAX_PERIODS} are allowed, use a longer period"
        )),
        Some(_) => {}
    }
    read_only(|| {
        Spi::connect(|client| {
            let t = client.select(
                &format!(
                    "SELECT g, extract(epoch FROM g)::float8, extract(epoch FROM g + $1::interval)::float8
                   FROM ({bounds}) b, generate_series(b.lo, b.hi, $1::interval) g ORDER BY g"
                ),
                None,
                &[period.into()],
            )?;
            t.map(|r| {
                Ok((
                    r.get::<TimestampWithTimeZone>(1)?.expect("a period start"),
                    r.get::<f64>(2)?.unwrap_or_default(),
                    r.get::<f64>(3)?.unwrap_or_default(),
                ))
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
    })
    .unwrap_or_else(|e| invalid(format!("cannot compute periods of source {}: {e}", src.display)))
}

/// The source with each row's period start added (rows whose time is NULL or outside every
/// period drop out). Period starts and ends go in as epochs, which float8 text round-trips
/// exactly: absolute instants, so the join means the same wherever it runs (on Citus, the
/// workers' sessions have their own TimeZone, in which `start + '1 month'` could differ).
fn with_periods(src: &Source, time: &str, starts: &[(TimestampWithTimeZone, f64, f64)]) -> Source {
    let epochs =
        |f: fn(&(TimestampWithTimeZone, f64, f64)) -> f64| starts.iter().map(|s| f(s).to_string()).collect::<Vec<_>>().join(",");
    let (start_epochs, end_epochs) = (epochs(|s| s.1), epochs(|s| s.2));
    let t = format!("s.{}::timestamptz", quote_ident(time));
    let from_sql = format!(
        "(SELECT s.*, p.{PERIOD_COLUMN}
            FROM (SELECT * FROM {from}) s
            JOIN (SELECT to_timestamp(b) AS {PERIOD_COLUMN}, to_timestamp(e) AS period_end
                    FROM ROWS FROM (pg_catalog.unnest('{{{start_epochs}}}'::float8[]), pg_catalog.unnest('{{{end_epochs}}}'::float8[])) AS p(b, e)) p
              ON {t} >= p.{PERIOD_COLUMN} AND {t} < p.period_end) AS lead_scoring_backtest",
        from = src.from_sql
    );
    Source { from_sql, display: src.display.clone(), relation: src.relation.clone() }
}

/// Metrics of `model_name` (its deployed version, or 'name@3') on the labelled rows of
/// `source`, per `period` of `time_column` (a date or timestamp): leads, conversions,
/// conversion rate, ROC AUC, PR AUC, precision/recall/F1 at the model's threshold and the
/// expected calibration error. Periods with one class get NULL AUCs; empty periods are listed
/// with 0 leads.
#[pg_extern(stable, parallel_unsafe)]
fn backtest(
    model_name: Option<&str>,
    source: Option<&str>,
    time_column: Option<&str>,
    period: Option<Interval>,
) -> TableIterator<
    'static,
    (
        name!(period_start, TimestampWithTimeZone),
        name!(leads, i64),
        name!(conversions, i64),
        name!(conversion_rate, Option<f64>),
        name!(roc_auc, Option<f64>),
        name!(pr_auc, Option<f64>),
        name!(precision, Option<f64>),
        name!(recall, Option<f64>),
        name!(f1, Option<f64>),
        name!(calibration_error, Option<f64>),
    ),
> {
    let name = required(model_name, "model_name");
    let source = required(source, "source");
    let time = required(time_column, "time_column");
    let period = required(period, "period");
    let model = crate::executor::cache::get(name);
    model.require_classification("backtest()");
    let src = resolve_source(source);
    let columns = describe(&src);
    let time_col = find_column(&columns, time, "time", &src);
    if time_col.class != ColumnClass::Temporal {
        invalid(format!("time column \"{time}\" has type {}; it must be a date or timestamp", time_col.type_name));
    }
    let starts = periods(&src, time, period);
    let wrapped = with_periods(&src, time, &starts);
    let scored = score_rows(model.clone(), &wrapped, true, Some(PERIOD_COLUMN));
    let SplitKey::Time(keys) = &scored.split_key else { unreachable!("a time key was asked for") };

    let index: std::collections::HashMap<u64, usize> = starts.iter().enumerate().map(|(i, s)| (s.1.to_bits(), i)).collect();
    let mut groups: Vec<(Vec<f64>, Vec<bool>)> = vec![(Vec::new(), Vec::new()); starts.len()];
    for (i, key) in keys.iter().enumerate() {
        if let Some(&k) = key.and_then(|k| index.get(&k.to_bits())) {
            groups[k].0.push(scored.scores[i]);
            groups[k].1.push(scored.labels[i]);
        }
    }
    let rows: Vec<BacktestRow> = starts
        .iter()
        .zip(groups)
        .map(|(start, (scores, labels))| {
            let m = group_metrics(&scores, &labels, model.row.threshold);
            (
                start.0,
                m.leads as i64,
                m.conversions as i64,
                m.conversion_rate,
                m.roc_auc,
                m.pr_auc,
                m.precision,
                m.recall,
                m.f1,
                m.calibration_error,
            )
        })
        .collect();
    TableIterator::new(rows)
}
