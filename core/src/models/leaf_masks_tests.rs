//! Unit tests of `leaf_masks.rs`: random models scored bit for bit as `Tree::predict` sums.

use super::*;
use crate::data::SeededRng;
use crate::models::trees::Node;

/// Values near every place a split changes its mind: thresholds, the zero band, whole numbers.
const VALUES: [f64; 22] = [
    0.0,
    -0.0,
    1e-36,
    -1e-36,
    1e-30,
    -1e-30,
    0.5,
    -0.5,
    1.0,
    -1.0,
    2.0,
    2.5,
    3.0,
    7.0,
    31.0,
    32.0,
    40.0,
    1000.0,
    -3.0,
    0.25,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

fn value(rng: &mut SeededRng) -> f64 {
    let v = VALUES[rng.below(VALUES.len())];
    match rng.below(5) {
        0 => v.next_up(),
        1 => v.next_down(),
        _ => v,
    }
}

/// A split node on a random input: numeric with each missing rule and default side, or a
/// category set of one to three words.
fn random_split(rng: &mut SeededRng, inputs: usize, left: usize, right: usize) -> Node {
    let default_left = rng.below(2) == 0;
    let categories = (rng.below(4) == 0)
        .then(|| (0..1 + rng.below(3)).map(|_| rng.next_u64() as u32 & rng.next_u64() as u32).collect::<Box<[u32]>>());
    let threshold = value(rng);
    Node {
        is_leaf: false,
        split_feature: rng.below(inputs),
        split_value: if threshold.is_finite() { threshold } else { 0.0 },
        missing: [MissingRule::None, MissingRule::Zero, MissingRule::NaN][rng.below(3)],
        left_child: left,
        right_child: right,
        missing_node: if default_left { left } else { right },
        categories,
        ..Node::leaf(0.0, 1.0)
    }
}

/// A tree grown leaf-wise: up to `leaves` leaves, each split on a random leaf (or on the newest
/// one, for deep chains), so children always come after their parent.
fn random_tree(rng: &mut SeededRng, inputs: usize, leaves: usize, deep: bool) -> Tree {
    let mut nodes = vec![Node::leaf(0.0, 1.0)];
    let mut open = vec![0usize];
    while open.len() < leaves {
        let pick = if deep { open.len() - 1 } else { rng.below(open.len()) };
        let at = open.swap_remove(pick);
        let (l, r) = (nodes.len(), nodes.len() + 1);
        nodes[at] = random_split(rng, inputs, l, r);
        nodes.push(Node::leaf(0.0, 1.0));
        nodes.push(Node::leaf(0.0, 1.0));
        open.extend([l, r]);
    }
    for n in nodes.iter_mut().filter(|n| n.is_leaf) {
        // Leaf values of very different sizes: the order of the sum shows in the last bits.
        n.weight_value = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * [1e-3, 1.0, 1e3][rng.below(3)] - 0.3;
    }
    Tree { nodes }
}

fn random_model(seed: u64, trees: usize, inputs: usize) -> Vec<Tree> {
    let mut rng = SeededRng::new(seed);
    (0..trees)
        .map(|_| {
            let (leaves, deep) = ([1, 2, 3, 8, 31, 32][rng.below(6)], rng.below(4) == 0);
            random_tree(&mut rng, inputs, leaves, deep)
        })
        .collect()
}

/// The node walk's sum, in the canonical order every path adds in.
fn walked(trees: &[Tree], row: &[f64]) -> f64 {
    crate::models::walked_sum(trees, row)
}

#[test]
fn random_models_score_bit_for_bit_as_the_tree_walk() {
    for seed in 0..20 {
        let inputs = 1 + seed as usize % 6;
        let trees = random_model(seed, 1 + 7 * seed as usize, inputs);
        for t in &trees {
            t.check(inputs).expect("a valid tree");
        }
        let masks = LeafMasks::new(&trees).expect("masks for trees of up to 32 leaves");
        let mut rng = SeededRng::new(1000 + seed);
        for _ in 0..2000 {
            let row: Vec<f64> = (0..inputs).map(|_| if rng.below(8) == 0 { f64::NAN } else { value(&mut rng) }).collect();
            let reference = walked(&trees, &row).to_bits();
            assert_eq!(masks.sum(&row).to_bits(), reference, "seed {seed}, row {row:?}");
            assert_eq!(masks.sum_portable(&row).to_bits(), reference, "seed {seed}, row {row:?}");
        }
    }
}

#[test]
fn leads_summed_together_score_bit_for_bit_as_each_alone() {
    for seed in 0..12 {
        let inputs = 1 + seed as usize % 5;
        let trees = random_model(100 + seed, 5 + 13 * seed as usize, inputs);
        let masks = LeafMasks::new(&trees).expect("masks for trees of up to 32 leaves");
        let used: Vec<usize> = masks.used_inputs().collect();
        let mut rng = SeededRng::new(2000 + seed);
        for leads in [0, 1, 7, 64, 131] {
            let rows: Vec<Vec<f64>> = (0..leads)
                .map(|_| (0..inputs).map(|_| if rng.below(8) == 0 { f64::NAN } else { value(&mut rng) }).collect())
                .collect();
            let at: Vec<u32> =
                rows.iter().flat_map(|row| used.iter().enumerate().map(|(k, &i)| masks.bin_start(k, row[i]))).collect();
            for masks in [&masks, &masks.clone().portable()] {
                let mut sums = vec![f64::NAN; leads];
                masks.sums_of_bins(&at, &mut sums);
                for (row, sum) in rows.iter().zip(&sums) {
                    assert_eq!(sum.to_bits(), walked(&trees, row).to_bits(), "seed {seed}, {leads} leads, row {row:?}");
                }
            }
        }
    }
    // No split reads an input: every lead takes each tree's only leaf.
    let trees = vec![Tree { nodes: vec![Node::leaf(0.25, 1.0)] }, Tree { nodes: vec![Node::leaf(-0.0, 1.0)] }];
    let masks = LeafMasks::new(&trees).unwrap();
    for masks in [&masks, &masks.clone().portable()] {
        let mut sums = [f64::NAN; 3];
        masks.sums_of_bins(&[], &mut sums);
        assert_eq!(sums.map(f64::to_bits), [walked(&trees, &[]).to_bits(); 3]);
    }
}

#[test]
fn a_sum_of_negative_zeros_keeps_its_sign_and_no_trees_sum_to_the_same() {
    let trees = vec![Tree { nodes: vec![Node::leaf(-0.0, 1.0)] }; 3];
    let masks = LeafMasks::new(&trees).unwrap();
    assert_eq!(masks.sum(&[]).to_bits(), walked(&trees, &[]).to_bits());
    assert_eq!(LeafMasks::new(&[]).unwrap().sum(&[1.0]).to_bits(), walked(&[], &[1.0]).to_bits());
}

#[test]
fn trees_it_cannot_hold_get_none() {
    let mut rng = SeededRng::new(7);
    let wide = random_tree(&mut rng, 2, 33, false);
    assert!(LeafMasks::new(&[wide]).is_none());
    let mut third_branch = random_tree(&mut rng, 2, 2, false);
    third_branch.nodes[0].missing_node = 3;
    assert!(LeafMasks::new(&[third_branch]).is_none());
    let mut huge_set = random_tree(&mut rng, 2, 2, false);
    huge_set.nodes[0].categories = Some(vec![1; MAX_CUTS / 32 + 1].into_boxed_slice());
    assert!(LeafMasks::new(&[huge_set]).is_none());
    // Many trees, each with a threshold of its own on one input: bins times trees past the
    // building budget (the same trees, fewer, are fine).
    let mut stump = random_tree(&mut rng, 1, 2, false);
    stump.nodes[0].categories = None;
    let stumps = |n: usize| -> Vec<Tree> {
        (0..n)
            .map(|t| {
                let mut s = stump.clone();
                s.nodes[0].split_value = t as f64;
                s
            })
            .collect()
    };
    assert!(LeafMasks::new(&stumps(1000)).is_some());
    assert!(LeafMasks::new(&stumps(9000)).is_none());
}

#[test]
fn bins_with_the_same_masks_are_merged() {
    // Two trees splitting input 0 at 1.0 and 2.0 and a category set {0} on input 1: three bins
    // on input 0, and on input 1 only "code 0" and "anything else" (-1, 1) and the rest.
    let mut rng = SeededRng::new(3);
    let mut a = random_tree(&mut rng, 1, 2, false);
    a.nodes[0] = Node { split_feature: 0, split_value: 1.0, missing: MissingRule::None, categories: None, ..a.nodes[0].clone() };
    let mut b = a.clone();
    b.nodes[0].split_value = 2.0;
    let mut c = a.clone();
    c.nodes[0].split_feature = 1;
    c.nodes[0].categories = Some(vec![1].into_boxed_slice());
    let masks = LeafMasks::new(&[a, b, c]).unwrap();
    assert_eq!(masks.inputs[0].cuts.cuts(), [1.0, 2.0]);
    assert_eq!(masks.inputs[1].cuts.cuts(), [-1.0, 1.0f64.next_down()]);
    // One chunk of trees: a bin's blocks are one entry; codes below -1 and from 1 up are alike.
    assert_eq!(masks.inputs[1].blocks[0], masks.inputs[1].blocks[2]);
}
