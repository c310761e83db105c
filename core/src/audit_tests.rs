//! Unit tests of `audit.rs`.

use super::*;
use crate::data::CategoricalBuilder;

fn text(values: &[Option<&str>]) -> ColumnData {
    let mut b = CategoricalBuilder::default();
    values.iter().for_each(|v| b.push(*v));
    b.finish()
}

#[test]
fn numeric_scorecard() {
    let mut v: Vec<Option<f64>> = (1..=20).map(|i| Some(i as f64)).collect();
    v.push(Some(100.0));
    v.push(None);
    let a = audit_column(&ColumnData::Numeric(v), None, &PreprocessOptions::default());
    assert_eq!((a.rows, a.nulls, a.distinct, a.outliers), (22, 1, 21, Some(1)));
    assert_eq!((a.min, a.max), (Some(1.0), Some(100.0)));
    assert!((a.mean.unwrap() - 310.0 / 21.0).abs() < 1e-12);
    assert!(!a.id_like, "a NULL means not an id");
    assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
}

#[test]
fn ids_placeholders_and_levels() {
    let ids: Vec<String> = (0..30).map(|i| format!("id{i}")).collect();
    let a = audit_column(&text(&ids.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>()), None, &PreprocessOptions::default());
    assert!(a.id_like);
    let col = text(&[Some("Select"), Some(""), None, Some("a"), Some("a")]);
    let labels = [Some(true), Some(false), None, Some(true), Some(false)];
    let a = audit_column(&col, Some(&labels), &PreprocessOptions::default());
    assert_eq!((a.nulls, a.placeholders, a.distinct), (1, 2, 3));
    let levels = a.conversion_by_level.unwrap();
    assert_eq!(levels[0], json!({"level": "a", "leads": 2, "conversion_rate": 0.5}));
}

#[test]
fn leakage_rules() {
    // A field filled in only for converted leads.
    let n = 200;
    let labels: Vec<Option<bool>> = (0..n).map(|i| Some(i % 4 == 0)).collect();
    let filled: Vec<Option<&str>> = (0..n).map(|i| if i % 4 == 0 && i % 8 != 4 { Some("Hot") } else { None }).collect();
    let a = audit_column(&text(&filled), Some(&labels), &PreprocessOptions::default());
    assert_eq!(a.leakage_suspect, Some(true), "{a:?}");
    assert!(a.reason.unwrap().contains("filled in for 50% of converted leads but 0%"));
    // A noisy real signal: AUC well below the bar, same fill rates.
    let signal: Vec<Option<f64>> = (0..n).map(|i| Some((i % 4 == 0) as u8 as f64 + (i % 7) as f64 / 3.0)).collect();
    let a = audit_column(&ColumnData::Numeric(signal), Some(&labels), &PreprocessOptions::default());
    assert_eq!(a.leakage_suspect, Some(false), "{a:?}");
    assert!(a.univariate_auc.unwrap() > 0.55 && a.univariate_auc.unwrap() < LEAKAGE_AUC);
    // A perfect separator.
    let perfect: Vec<Option<f64>> = labels.iter().map(|l| Some(l.unwrap() as u8 as f64 * 10.0 - 3.0)).collect();
    let a = audit_column(&ColumnData::Numeric(perfect), Some(&labels), &PreprocessOptions::default());
    assert_eq!(a.univariate_auc, Some(1.0));
    assert!(a.reason.unwrap().contains("univariate ROC AUC 1.000"));
    assert!(parse_leakage_policy(&json!("stop")).is_err());
    assert_eq!(parse_leakage_policy(&json!("error")).unwrap(), LeakagePolicy::Error);
}

#[test]
fn leakage_reason_agrees_with_the_full_audit() {
    let n = 500;
    let labels: Vec<Option<bool>> = (0..n).map(|i| if i % 50 == 7 { None } else { Some(i % 3 == 0) }).collect();
    let opts = PreprocessOptions::default();
    let columns = [
        // filled in mostly for converted leads
        text(&(0..n).map(|i| (i % 3 == 0 && i % 5 != 0).then_some("Hot")).collect::<Vec<_>>()),
        // a real but weak signal, with placeholders and a rare level
        text(
            &(0..n)
                .map(|i| Some(["a", "b", "Select", "c"][(i * 7 + i / 3) % 4]).filter(|_| i != 11).or(Some("rare")))
                .collect::<Vec<_>>(),
        ),
        ColumnData::Numeric((0..n).map(|i| Some((i % 3 == 0) as u8 as f64 * 20.0 + (i % 11) as f64)).collect()),
        ColumnData::Numeric((0..n).map(|i| Some(i as f64)).collect()), // an id
        ColumnData::Numeric((0..n).map(|i| (i % 4 != 0).then_some((i % 13) as f64 * 0.5)).collect()),
        // an id that separates the classes (ids are never suspects)
        ColumnData::Numeric((0..n).map(|i| Some(if i % 3 == 0 { 1000.0 + i as f64 } else { i as f64 })).collect()),
        // the same but with 0 written once as -0.0: two equal values, so not an id
        ColumnData::Numeric(
            (0..n)
                .map(|i| {
                    Some(if i % 3 == 0 {
                        1000.0 + i as f64
                    } else if i < 3 {
                        [-0.0, 0.0][i - 1]
                    } else {
                        i as f64
                    })
                })
                .collect(),
        ),
    ];
    for c in &columns {
        let full = audit_column(c, Some(&labels), &opts);
        let reason = leakage_reason(c, &labels, &opts);
        assert_eq!(reason.is_some(), full.leakage_suspect == Some(true), "{full:?}");
        assert_eq!(reason, full.reason.filter(|_| full.leakage_suspect == Some(true)));
    }
    assert!(leakage_reason(&columns[0], &labels, &opts).is_some());
    assert!(leakage_reason(&columns[2], &labels, &opts).is_some(), "AUC 1 separator");
    assert!(leakage_reason(&columns[3], &labels, &opts).is_none(), "ids are not suspects");
    assert!(leakage_reason(&columns[5], &labels, &opts).is_none(), "a separating id is not a suspect");
    assert!(leakage_reason(&columns[6], &labels, &opts).is_some(), "-0.0 and 0.0 are one value");
}

#[test]
fn leakage_reasons_on_threads_keep_column_order() {
    let n = 120_000;
    let labels: Vec<Option<bool>> = (0..n).map(|i| Some(i % 3 == 0)).collect();
    let column = |name: &str, data: ColumnData| Column { name: name.into(), kind: crate::data::FeatureKind::Numeric, data };
    let columns = vec![
        column("noise", ColumnData::Numeric((0..n).map(|i| Some(((i * 7919) % 101) as f64)).collect())),
        column("leak", ColumnData::Numeric((0..n).map(|i| Some((i % 3 == 0) as u8 as f64)).collect())),
        column("weak", ColumnData::Numeric((0..n).map(|i| Some((i % 3 == 0) as u8 as f64 + (i % 5) as f64)).collect())),
    ];
    let opts = PreprocessOptions::default();
    let got = leakage_reasons(&columns, &labels, &opts).unwrap();
    let one_by_one: Vec<Option<String>> = columns.iter().map(|c| leakage_reason(&c.data, &labels, &opts)).collect();
    assert_eq!(got, one_by_one);
    assert_eq!(got.iter().map(Option::is_some).collect::<Vec<_>>(), [false, true, false]);
}

#[test]
fn encoded_auc_from_level_counts_equals_the_per_row_auc() {
    let labels: Vec<Option<bool>> = (0..300).map(|i| if i % 17 == 0 { None } else { Some((i * 13) % 7 < 3) }).collect();
    // Levels with equal conversion rates (1/2 and 2/4) must count as one threshold.
    let keys: Vec<i64> = (0..300).map(|i| [0, 1, 2, 3, -1, -2][(i * 5) % 6]).collect();
    let mut rate: FxHashMap<i64, (f64, f64)> = FxHashMap::default();
    for (k, l) in keys.iter().zip(&labels) {
        if let Some(l) = l {
            let e = rate.entry(*k).or_default();
            e.0 += *l as u8 as f64;
            e.1 += 1.0;
        }
    }
    let (s, l): (Vec<f64>, Vec<bool>) =
        keys.iter().zip(&labels).filter_map(|(k, l)| Some((rate[k].0 / rate[k].1, (*l)?))).unzip();
    assert_eq!(encoded_auc(&keys, &labels), roc_auc(&s, &l));
    let mut tied = vec![(0.5, 1, 1), (0.5, 2, 2), (1.0, 3, 0), (0.0, 0, 4)];
    let (s, l): (Vec<f64>, Vec<bool>) = tied
        .iter()
        .flat_map(|&(sc, p, n)| std::iter::repeat_n((sc, true), p as usize).chain(std::iter::repeat_n((sc, false), n as usize)))
        .unzip();
    assert_eq!(roc_auc_of_groups(&mut tied), roc_auc(&s, &l));
    assert_eq!(roc_auc_of_groups(&mut [(0.3, 4, 0)]), None);
}

#[test]
fn vif_of_collinear_columns() {
    let a: Vec<Option<f64>> = (0..50).map(|i| Some(i as f64)).collect();
    let b: Vec<Option<f64>> = (0..50).map(|i| Some(((i * 37) % 50) as f64)).collect();
    let c: Vec<Option<f64>> = (0..50).map(|i| Some(2.0 * i as f64 + ((i * 37) % 50) as f64)).collect();
    let k: Vec<Option<f64>> = vec![Some(1.0); 50];
    let r = feature_report(&[a.clone(), b.clone(), k.clone()], &crate::resources::NeverCancel).unwrap();
    assert_eq!(r.vif[2], None);
    assert_eq!(r.correlations[0][2], None);
    let r01 = r.correlations[0][1].unwrap();
    assert!((r.vif[0].unwrap() - 1.0 / (1.0 - r01 * r01)).abs() < 1e-9);
    let r = feature_report(&[a, b, c], &crate::resources::NeverCancel).unwrap();
    assert!(r.vif.iter().all(|v| v.unwrap().is_infinite()), "{:?}", r.vif);
}

#[test]
fn bucket_bounds_rule_out_only_columns_whose_exact_auc_is_below_the_rule() {
    let mut rng = crate::data::SeededRng::new(17);
    let n = 30_000;
    let labels: Vec<Option<bool>> = (0..n).map(|i| if i % 97 == 0 { None } else { Some(rng.below(3) == 0) }).collect();
    let exact = |values: &[Option<f64>]| {
        let (s, l): (Vec<f64>, Vec<bool>) = values.iter().zip(&labels).filter_map(|(x, l)| Some(((*x)?, (*l)?))).unzip();
        roc_auc(&s, &l).map(|x| x.max(1.0 - x))
    };
    let label = |i: usize| labels[i] == Some(true);
    let columns: Vec<(&str, Vec<Option<f64>>)> = vec![
        ("counts", (0..n).map(|i| Some((rng.below(6) + label(i) as usize) as f64)).collect()),
        ("noise", (0..n).map(|i| (i % 10 != 0).then(|| rng.below(1 << 20) as f64 / 7.0 - 3000.0)).collect()),
        ("narrow range", (0..n).map(|i| Some(1000.0 + rng.below(1000) as f64 / 1e4 + label(i) as u8 as f64 / 1e4)).collect()),
        ("separating", (0..n).map(|i| Some(rng.below(100) as f64 + if label(i) { 80.0 } else { 0.0 })).collect()),
        // AUC 0.9 only with its tied pairs counted half: the pairs within a bucket matter.
        ("ties near the rule", (0..n).map(|i| Some((label(i) && rng.below(5) != 0) as u8 as f64)).collect()),
        ("signed zeros", (0..n).map(|i| Some(if label(i) { 0.0 } else { -0.0 })).collect()),
        ("with NaN", (0..n).map(|i| Some(if i == 5 { f64::NAN } else { i as f64 })).collect()),
    ];
    for (name, values) in &columns {
        let auc = exact(values);
        let may = may_separate(values, &labels);
        if !may {
            assert!(auc.is_none_or(|a| a < LEAKAGE_AUC), "{name}: AUC {auc:?} ruled out");
        }
        // Which columns the buckets decide without a sort.
        let expected = matches!(*name, "separating" | "narrow range" | "ties near the rule" | "signed zeros" | "with NaN");
        assert_eq!(may, expected, "{name}: AUC {auc:?}");
    }
    assert!(exact(&columns[3].1).unwrap() >= LEAKAGE_AUC && exact(&columns[4].1).unwrap() >= LEAKAGE_AUC);
}
