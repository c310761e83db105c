//! Reads LightGBM's model text (what `LGBM_BoosterSaveModelToString` writes) into the project's
//! own [`Tree`]s: numerical splits with LightGBM's missing-value rules, leaf values as stored
//! (shrinkage already applied), and the training row counts as covers (what LightGBM's own
//! TreeSHAP weighs branches by), and categorical splits with their category bitsets. Anything
//! this reader does not run (linear trees, another objective) is an error, never a silently
//! different model.

use std::collections::HashMap;

use crate::models::trees::{MissingRule, Node, Tree, MAX_TREES, MAX_TREE_DEPTH};

/// LightGBM's `decision_type` bits.
const CATEGORICAL_MASK: i64 = 1;
const DEFAULT_LEFT_MASK: i64 = 2;

/// The trees of a binary log-loss or squared-error ("regression") model text, in boosting
/// order, and whether it is the regression (the trees' sum is then the value, not log-odds).
pub fn parse_model_text(text: &str) -> Result<(Vec<Tree>, bool), String> {
    let (header, body) = text.split_once("\nTree=").map_or((text, ""), |(h, b)| (h, b));
    let header = key_values(header);
    let regression = match header.get("objective").copied() {
        Some(o) if binary_log_loss(o) => false,
        Some("regression") => true,
        Some(o) => return Err(format!("the model's objective is \"{o}\", not binary log loss or squared error")),
        None => return Err("the model text names no objective".into()),
    };
    if header.contains_key("average_output") {
        return Err("the model averages its trees (random forest mode), which this build does not score".into());
    }
    let body = body.split("\nend of trees").next().unwrap_or("");
    let mut trees = Vec::new();
    if body.trim().is_empty() {
        return Ok((trees, regression));
    }
    // Each block starts after "Tree=" with the tree's number.
    for (t, block) in body.split("\nTree=").enumerate() {
        if t >= MAX_TREES {
            return Err(format!("the model has more than {MAX_TREES} trees"));
        }
        trees.push(parse_tree(block).map_err(|e| format!("tree {t}: {e}"))?);
    }
    Ok((trees, regression))
}

/// "binary sigmoid:1": log-odds in, the logistic function out (as scoring applies it).
fn binary_log_loss(objective: &str) -> bool {
    let mut words = objective.split_whitespace();
    words.next() == Some("binary") && words.any(|w| w.strip_prefix("sigmoid:").and_then(|s| s.parse::<f64>().ok()) == Some(1.0))
}

fn key_values(block: &str) -> HashMap<&str, &str> {
    block.lines().filter_map(|l| l.split_once('=')).collect()
}

fn numbers<T: std::str::FromStr>(kv: &HashMap<&str, &str>, key: &str, count: usize) -> Result<Vec<T>, String> {
    let text = kv.get(key).copied().unwrap_or("");
    let values: Vec<T> = text
        .split_whitespace()
        .map(|w| w.parse::<T>().map_err(|_| format!("{key} holds \"{w}\", not a number")))
        .collect::<Result<_, _>>()?;
    if values.len() != count {
        return Err(format!("{key} has {} values, expected {count}", values.len()));
    }
    Ok(values)
}

fn parse_tree(block: &str) -> Result<Tree, String> {
    let kv = key_values(block);
    let leaves: usize = kv.get("num_leaves").and_then(|v| v.trim().parse().ok()).ok_or("no num_leaves")?;
    if leaves == 0 || leaves > 1 << 24 {
        return Err(format!("{leaves} leaves"));
    }
    if kv.get("is_linear").is_some_and(|v| v.trim() != "0") {
        return Err("it is a linear tree, which this build does not score".into());
    }
    let leaf_value: Vec<f64> = numbers(&kv, "leaf_value", leaves)?;
    if leaves == 1 {
        let count = numbers::<f64>(&kv, "leaf_count", 1).map(|c| c[0]).unwrap_or(0.0);
        return Ok(Tree { nodes: vec![Node::leaf(leaf_value[0], count)] });
    }
    let splits = leaves - 1;
    let categorical: usize = kv.get("num_cat").map_or(Ok(0), |v| v.trim().parse()).map_err(|_| "num_cat is not a count")?;
    if categorical > splits {
        return Err(format!("{categorical} categorical splits of {splits}"));
    }
    let (boundaries, bits) = if categorical > 0 {
        let boundaries: Vec<usize> = numbers(&kv, "cat_boundaries", categorical + 1)?;
        if boundaries[0] != 0 || boundaries.windows(2).any(|w| w[0] > w[1]) {
            return Err("cat_boundaries are not ascending from 0".into());
        }
        let bits: Vec<u32> = numbers(&kv, "cat_threshold", boundaries[categorical])?;
        (boundaries, bits)
    } else {
        (vec![0], Vec::new())
    };
    let tables = Splits {
        feature: numbers(&kv, "split_feature", splits)?,
        threshold: numbers(&kv, "threshold", splits)?,
        decision: numbers(&kv, "decision_type", splits)?,
        left: numbers(&kv, "left_child", splits)?,
        right: numbers(&kv, "right_child", splits)?,
        internal_count: numbers(&kv, "internal_count", splits)?,
        leaf_count: numbers(&kv, "leaf_count", leaves)?,
        leaf_value,
        cat_boundaries: boundaries,
        cat_bits: bits,
    };
    let mut tree = Tree { nodes: Vec::with_capacity(2 * leaves - 1) };
    let mut seen = vec![false; splits + leaves];
    tables.add(&mut tree, 0, 0, &mut seen)?;
    if tree.nodes.len() != 2 * leaves - 1 {
        return Err(format!("{} of its {} nodes are reachable from the root", tree.nodes.len(), 2 * leaves - 1));
    }
    Ok(tree)
}

/// One tree's arrays as LightGBM stores them: split i's children are split j (j >= 0) or leaf
/// !j (j < 0).
struct Splits {
    feature: Vec<i64>,
    threshold: Vec<f64>,
    decision: Vec<i64>,
    left: Vec<i64>,
    right: Vec<i64>,
    internal_count: Vec<f64>,
    leaf_count: Vec<f64>,
    leaf_value: Vec<f64>,
    /// Categorical split k's bitset is `cat_bits[cat_boundaries[k]..cat_boundaries[k + 1]]`;
    /// a categorical split's threshold is its k.
    cat_boundaries: Vec<usize>,
    cat_bits: Vec<u32>,
}

impl Splits {
    /// Appends LightGBM node `id` and its subtree in preorder (children after their parent);
    /// returns its index. `seen` refuses a node reached twice (a cycle or a shared child).
    fn add(&self, tree: &mut Tree, id: i64, depth: usize, seen: &mut [bool]) -> Result<usize, String> {
        if depth > MAX_TREE_DEPTH {
            return Err(format!("it is deeper than {MAX_TREE_DEPTH} levels"));
        }
        let (splits, leaves) = (self.feature.len(), self.leaf_value.len());
        let slot = match id {
            0.. if (id as usize) < splits => id as usize,
            ..0 if ((!id) as usize) < leaves => splits + (!id) as usize,
            _ => return Err(format!("a child index {id} is out of range")),
        };
        if std::mem::replace(&mut seen[slot], true) {
            return Err(format!("node {id} is reached twice"));
        }
        let at = tree.nodes.len();
        if id < 0 {
            let leaf = (!id) as usize;
            tree.nodes.push(Node::leaf(self.leaf_value[leaf], self.leaf_count[leaf]));
            return Ok(at);
        }
        let i = id as usize;
        let decision = self.decision[i];
        let categories = if decision & CATEGORICAL_MASK != 0 {
            let k = self.threshold[i];
            let (from, to) = match (k >= 0.0 && k.fract() == 0.0).then_some(k as usize) {
                Some(k) if k + 1 < self.cat_boundaries.len() => (self.cat_boundaries[k], self.cat_boundaries[k + 1]),
                _ => return Err(format!("split {i} names category set {k}, which the tree does not have")),
            };
            Some(self.cat_bits[from..to].into())
        } else {
            None
        };
        let missing = match (decision >> 2) & 3 {
            0 => MissingRule::None,
            1 => MissingRule::Zero,
            2 => MissingRule::NaN,
            other => return Err(format!("split {i} has missing type {other}")),
        };
        let feature = usize::try_from(self.feature[i]).map_err(|_| format!("split {i} reads input {}", self.feature[i]))?;
        tree.nodes.push(Node {
            is_leaf: false,
            weight_value: 0.0,
            cover: self.internal_count[i],
            split_feature: feature,
            split_value: self.threshold[i],
            missing,
            left_child: 0,
            right_child: 0,
            missing_node: 0,
            categories,
        });
        let left = self.add(tree, self.left[i], depth + 1, seen)?;
        let right = self.add(tree, self.right[i], depth + 1, seen)?;
        let n = &mut tree.nodes[at];
        n.left_child = left;
        n.right_child = right;
        n.missing_node = if decision & DEFAULT_LEFT_MASK != 0 { left } else { right };
        Ok(at)
    }
}
