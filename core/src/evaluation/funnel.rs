//! The numbers sales tracks per tier and period (`funnel()`), from counts and sums one grouped
//! query gives: rates, deal velocity and the cost per qualified lead.

/// One group's counts and sums.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunnelCounts {
    pub leads: u64,
    pub mqls: u64,
    pub sqls: u64,
    /// Leads that reached both MQL and SQL.
    pub mqls_to_sql: u64,
    pub conversions: u64,
    /// Mean days from creation to conversion of the conversions with both dates.
    pub mean_days_to_conversion: Option<f64>,
    /// Deal value of the conversions.
    pub won_value: Option<f64>,
    /// Leads reps flagged with `flag()`, and those flagged as good.
    pub flagged: u64,
    pub accepted: u64,
}

/// The rates of one group; `None` where the denominator is 0 or an input is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelRates {
    pub conversion_rate: Option<f64>,
    pub mql_to_sql_rate: Option<f64>,
    /// Sales velocity, value won per day: opportunities x win rate x mean deal value / mean
    /// sales cycle, which with the SQLs as opportunities is won value / mean days to conversion.
    pub deal_velocity: Option<f64>,
    pub sales_acceptance_rate: Option<f64>,
    /// `cost_per_lead x leads / MQLs`: what each qualified lead cost.
    pub cost_per_qualified_lead: Option<f64>,
}

/// One row of `funnel()`: a period and tier with its counts and rates (`None` where the input
/// that makes a number was not given, or its denominator is 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunnelRow {
    /// The period's first day as `YYYY-MM-DD`; `None` for period 'all'.
    pub period: Option<String>,
    pub tier: Option<String>,
    pub leads: i64,
    pub mqls: Option<i64>,
    pub sqls: Option<i64>,
    pub conversions: i64,
    pub conversion_rate: Option<f64>,
    pub mql_to_sql_rate: Option<f64>,
    pub median_days_to_conversion: Option<f64>,
    pub deal_velocity: Option<f64>,
    pub sales_acceptance_rate: Option<f64>,
    pub cost_per_qualified_lead: Option<f64>,
}

fn ratio(a: f64, b: u64) -> Option<f64> {
    (b > 0).then(|| a / b as f64)
}

/// The rates of `c`, with `cost_per_lead` when given.
pub fn funnel_rates(c: &FunnelCounts, cost_per_lead: Option<f64>) -> FunnelRates {
    FunnelRates {
        conversion_rate: ratio(c.conversions as f64, c.leads),
        mql_to_sql_rate: ratio(c.mqls_to_sql as f64, c.mqls),
        deal_velocity: match (c.won_value, c.mean_days_to_conversion) {
            (Some(v), Some(d)) if d > 0.0 => Some(v / d),
            _ => None,
        },
        sales_acceptance_rate: ratio(c.accepted as f64, c.flagged),
        cost_per_qualified_lead: cost_per_lead.and_then(|cost| ratio(cost * c.leads as f64, c.mqls)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_of_a_group() {
        let c = FunnelCounts {
            leads: 200,
            mqls: 50,
            sqls: 20,
            mqls_to_sql: 20,
            conversions: 10,
            mean_days_to_conversion: Some(40.0),
            won_value: Some(200_000.0),
            flagged: 8,
            accepted: 6,
        };
        let r = funnel_rates(&c, Some(25.0));
        assert_eq!(r.conversion_rate, Some(0.05));
        assert_eq!(r.mql_to_sql_rate, Some(0.4));
        assert_eq!(r.deal_velocity, Some(5_000.0));
        assert_eq!(r.sales_acceptance_rate, Some(0.75));
        assert_eq!(r.cost_per_qualified_lead, Some(100.0));
    }

    #[test]
    fn empty_denominators_and_missing_inputs_give_none() {
        let r = funnel_rates(&FunnelCounts { leads: 10, ..Default::default() }, None);
        assert_eq!(r.conversion_rate, Some(0.0));
        assert_eq!(
            (r.mql_to_sql_rate, r.deal_velocity, r.sales_acceptance_rate, r.cost_per_qualified_lead),
            (None, None, None, None)
        );
        let r = funnel_rates(&FunnelCounts::default(), Some(10.0));
        assert_eq!((r.conversion_rate, r.cost_per_qualified_lead), (None, None));
    }
}
