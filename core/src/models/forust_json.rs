//! Boosted trees trained before LightGBM (forust-ml, artifact formats 2 and 3) keep scoring and
//! explaining bit for bit as they did, without the forust crate: its JSON is read into the
//! project's own [`Tree`]s. forust sends NaN to a split's missing branch and `x < value` left;
//! `x < value` is `x <= next_down(value)` for every number, so the split keeps LightGBM's `<=`
//! form with the next smaller threshold. Leaf values and hessian sums (TreeSHAP's covers) are
//! f32 in forust's JSON, read as f64 exactly as forust widened them.

use serde::Deserialize;

use crate::models::trees::{MissingRule, Node, Tree, MAX_TREES};

#[derive(Deserialize)]
struct ForustBooster {
    base_score: f64,
    trees: Vec<ForustTree>,
    /// The trees early stopping kept (the first ones); None = all.
    #[serde(default)]
    prediction_iteration: Option<usize>,
    /// The value forust treated as missing: null (NaN) in every model lead_scoring trained.
    #[serde(default)]
    missing: Option<f64>,
}

#[derive(Deserialize)]
struct ForustTree {
    nodes: Vec<ForustNode>,
}

#[derive(Deserialize)]
struct ForustNode {
    weight_value: f32,
    hessian_sum: f32,
    split_value: f64,
    split_feature: usize,
    missing_node: usize,
    left_child: usize,
    right_child: usize,
    is_leaf: bool,
}

/// The base score and the trees used for prediction of a forust booster's JSON.
pub fn parse_forust_json(json: &str) -> Result<(f64, Vec<Tree>), String> {
    let booster: ForustBooster = serde_json::from_str(json).map_err(|e| format!("forust's JSON does not read: {e}"))?;
    if booster.missing.is_some_and(|m| !m.is_nan()) {
        return Err("the forust booster treats a number as missing, which this build does not score".into());
    }
    if booster.trees.len() > MAX_TREES {
        return Err(format!("the booster has {} trees, more than {MAX_TREES}", booster.trees.len()));
    }
    let used = booster.prediction_iteration.unwrap_or(booster.trees.len()).min(booster.trees.len());
    let trees = booster.trees.into_iter().take(used).map(|t| Tree { nodes: t.nodes.into_iter().map(node).collect() }).collect();
    Ok((booster.base_score, trees))
}

fn node(n: ForustNode) -> Node {
    Node {
        is_leaf: n.is_leaf,
        weight_value: n.weight_value as f64,
        cover: n.hessian_sum as f64,
        split_feature: n.split_feature,
        split_value: n.split_value.next_down(),
        missing: MissingRule::NaN,
        left_child: n.left_child,
        right_child: n.right_child,
        missing_node: n.missing_node,
        categories: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A forust booster as its JSON: base 0.25, one stump on input 0 at 0.5 whose missing
    /// branch is its own leaf, and a second tree that early stopping dropped.
    const BOOSTER: &str = r#"{"base_score": 0.25, "prediction_iteration": 1, "missing": null, "trees": [
        {"nodes": [
            {"num": 0, "weight_value": 0.0, "hessian_sum": 8.0, "depth": 0, "split_value": 0.5, "split_feature": 0,
             "split_gain": 1.0, "missing_node": 3, "left_child": 1, "right_child": 2, "is_leaf": false},
            {"num": 1, "weight_value": 0.1, "hessian_sum": 3.0, "depth": 1, "split_value": 0.0, "split_feature": 0,
             "split_gain": 0.0, "missing_node": 0, "left_child": 0, "right_child": 0, "is_leaf": true},
            {"num": 2, "weight_value": -0.2, "hessian_sum": 1.0, "depth": 1, "split_value": 0.0, "split_feature": 0,
             "split_gain": 0.0, "missing_node": 0, "left_child": 0, "right_child": 0, "is_leaf": true},
            {"num": 3, "weight_value": 0.3, "hessian_sum": 4.0, "depth": 1, "split_value": 0.0, "split_feature": 0,
             "split_gain": 0.0, "missing_node": 0, "left_child": 0, "right_child": 0, "is_leaf": true}]},
        {"nodes": [{"num": 0, "weight_value": 9.0, "hessian_sum": 8.0, "depth": 0, "split_value": 0.0,
             "split_feature": 0, "split_gain": 0.0, "missing_node": 0, "left_child": 0, "right_child": 0, "is_leaf": true}]}
    ]}"#;

    #[test]
    fn a_forust_booster_scores_as_forust_did() {
        let (base, trees) = parse_forust_json(BOOSTER).unwrap();
        assert_eq!((base, trees.len()), (0.25, 1));
        trees[0].check(1).unwrap();
        // x < 0.5 left (0.5 itself goes right), NaN to the missing leaf; f32 leaves widened.
        for (x, leaf) in [(0.4999999, 0.1f32), (0.5, -0.2), (0.7, -0.2), (f64::NAN, 0.3), (f64::NEG_INFINITY, 0.1)] {
            assert_eq!(trees[0].predict(&[x]), leaf as f64, "x = {x}");
        }
        assert_eq!(trees[0].nodes[3].cover, 4.0);
        assert!(parse_forust_json(&BOOSTER.replace("\"missing\": null", "\"missing\": 0.0")).is_err());
        assert!(parse_forust_json("{}").unwrap_err().starts_with("forust's JSON does not read"));
    }
}
