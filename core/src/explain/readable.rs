//! A lead's feature value as a rep reads it in a reason: "industry = Software",
//! "pricing_visits 3 to < 7", "engagement_velocity = 0.123", "created_at = 2026-03-01",
//! "company_size is missing". The raw value stays in the explanation next to it.

use crate::data::{format_timestamp, value_text, FeatureTransform, RawValue};

/// A number with three significant digits, integers as integers: 7 -> "7", 0.123456 -> "0.123",
/// 2.5 -> "2.5", 1234.56 -> "1235" (never fewer digits than the whole part has), -0.000123456 ->
/// "-0.000123", 1e20 -> "1.00e20".
pub fn readable_number(x: f64) -> String {
    if !x.is_finite() {
        return crate::error::sql_float(x);
    }
    if x.abs() >= 1e15 {
        return format!("{x:.2e}");
    }
    if x.fract() == 0.0 {
        return format!("{}", x as i64);
    }
    if x.abs() >= 100.0 {
        return format!("{}", x.round() as i64);
    }
    // Decimals that keep three significant digits, trailing zeros dropped.
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" {
        "0".to_string()
    } else {
        text
    }
}

/// The range of bin `bin` of `edges` in words: "< 1", "3 to < 7", ">= 7".
pub fn bin_range(edges: &[f64], bin: usize) -> String {
    if edges.is_empty() {
        return "all values".to_string();
    }
    if bin == 0 {
        format!("< {}", readable_number(edges[0]))
    } else if bin >= edges.len() {
        format!(">= {}", readable_number(edges[edges.len() - 1]))
    } else {
        format!("{} to < {}", readable_number(edges[bin - 1]), readable_number(edges[bin]))
    }
}

/// The condition a reason names for one feature of one lead.
pub fn condition(f: &FeatureTransform, value: &RawValue<'_>, missing_values: &[String]) -> String {
    let name = f.name();
    let Some(text) = value_text(value, missing_values) else {
        return format!("{name} is missing");
    };
    match (f, value) {
        (FeatureTransform::Binned { edges, .. }, RawValue::Number(x)) => {
            format!("{name} {}", bin_range(edges, crate::data::bin_of(*x, edges)))
        }
        (FeatureTransform::Date { .. }, RawValue::Number(t)) => format!("{name} = {}", format_timestamp(*t)),
        (FeatureTransform::Numeric { .. }, RawValue::Number(x)) => format!("{name} = {}", readable_number(*x)),
        // A number given as text (jsonb "7.25") reads as a number too.
        (FeatureTransform::Numeric { .. }, RawValue::Text(s)) => match s.trim().parse::<f64>() {
            Ok(x) => format!("{name} = {}", readable_number(x)),
            Err(_) => format!("{name} = {text}"),
        },
        _ => format!("{name} = {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{FeatureKind, Scaling};

    #[test]
    fn numbers_keep_three_significant_digits_and_integers_stay_integers() {
        let cases = [
            (7.0, "7"),
            (-3.0, "-3"),
            (0.0, "0"),
            (0.123456, "0.123"),
            (2.5, "2.5"),
            (2.0004, "2"),
            (12.3456, "12.3"),
            (99.96, "100"),
            (1234.56, "1235"),
            (-0.000123456, "-0.000123"),
            (0.1, "0.1"),
            (1e20, "1.00e20"),
            (-0.0000001, "-0.0000001"),
        ];
        for (x, want) in cases {
            assert_eq!(readable_number(x), want, "{x}");
        }
    }

    fn scaling() -> Scaling {
        Scaling { median: 0.0, mean: 0.0, scale: 1.0, indicator: false }
    }

    fn numeric(name: &str) -> FeatureTransform {
        FeatureTransform::Numeric { name: name.into(), log: false, scaling: scaling() }
    }

    #[test]
    fn bins_are_named_by_their_range() {
        let f = FeatureTransform::Binned { name: "pricing_visits".into(), edges: vec![1.0, 3.0, 7.0] };
        let at = |x: f64| condition(&f, &RawValue::Number(x), &[]);
        assert_eq!(at(0.0), "pricing_visits < 1");
        assert_eq!(at(3.0), "pricing_visits 3 to < 7");
        assert_eq!(at(5.5), "pricing_visits 3 to < 7");
        assert_eq!(at(7.0), "pricing_visits >= 7");
        assert_eq!(condition(&f, &RawValue::Null, &[]), "pricing_visits is missing");
        let fractional = FeatureTransform::Binned { name: "velocity".into(), edges: vec![0.333333, 1.666666] };
        assert_eq!(condition(&fractional, &RawValue::Number(1.0), &[]), "velocity 0.333 to < 1.67");
    }

    #[test]
    fn levels_numbers_dates_and_missing_values() {
        let industry = FeatureTransform::Categorical {
            name: "industry".into(),
            kind: FeatureKind::Categorical,
            levels: vec!["Software".into()],
        };
        assert_eq!(condition(&industry, &RawValue::Text("Software"), &[]), "industry = Software");
        assert_eq!(condition(&industry, &RawValue::Text("Retail"), &[]), "industry = Retail");
        assert_eq!(condition(&industry, &RawValue::Null, &[]), "industry is missing");
        assert_eq!(condition(&industry, &RawValue::Text("Select"), &["Select".to_string()]), "industry is missing");
        let velocity = numeric("engagement_velocity");
        assert_eq!(condition(&velocity, &RawValue::Number(0.4567891), &[]), "engagement_velocity = 0.457");
        assert_eq!(condition(&velocity, &RawValue::Number(12.0), &[]), "engagement_velocity = 12");
        assert_eq!(condition(&velocity, &RawValue::Text("3.14159"), &[]), "engagement_velocity = 3.14");
        assert_eq!(condition(&velocity, &RawValue::Null, &[]), "engagement_velocity is missing");
        let created = FeatureTransform::Date { name: "created_at".into(), as_of: 0.0, scaling: scaling() };
        assert_eq!(condition(&created, &RawValue::Number(1_772_323_200.0), &[]), "created_at = 2026-03-01");
    }
}
