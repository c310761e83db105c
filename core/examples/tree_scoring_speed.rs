//! Nanoseconds per lead of each way the project can sum a boosted model's trees, in one run on
//! the same model and leads: the node walk (`Tree::predict`), the flat 24-byte nodes
//! (`FlatTrees`) and the leaf masks per input bin (`LeafMasks`, what scoring uses). The model is
//! LightGBM's, shaped as bench/score_speed_gbm.sh trains it (300 trees of up to 31 leaves grown
//! leaf-wise, max depth 64, 9 numeric inputs with missing values and 10 category codes);
//! every variant's sums are checked bit for bit against the node walk's. Last, the TreeSHAP
//! contributions of the first 10,000 leads (what `explain()` computes per lead), timed alike.
//!
//! `cargo run --release -p lead_scoring_core --example tree_scoring_speed -- [LEADS] [TREES]`

use std::hint::black_box;
use std::time::Instant;

use lead_scoring_core::models::{fit_gbm, walked_sum, FlatTrees, GbmOptions, LeafMasks, Tree, TreeBooster};

mod synthetic;

use synthetic::leads;

/// A way of summing the trees, named.
type Variant<'a> = (&'static str, &'a dyn Fn(&[f64]) -> f64);

/// Best of three: nanoseconds per lead of `sum` over `rows`, and the sums of the last round.
fn time(rows: &[f64], cols: usize, sum: impl Fn(&[f64]) -> f64) -> (f64, Vec<u64>) {
    let mut best = f64::INFINITY;
    let mut sums = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        sums = rows.chunks(cols).map(|r| black_box(sum(black_box(r))).to_bits()).collect();
        best = best.min(start.elapsed().as_nanos() as f64 / sums.len() as f64);
    }
    (best, sums)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a whole number"));
    let (n, trees) = (args.next().unwrap_or(100_000), args.next().unwrap_or(300));
    let opts = GbmOptions { trees, max_depth: 64, max_leaves: 31, early_stopping_rounds: None, threads: 2, ..Default::default() };
    let model = fit_gbm(leads(50_000, 1), None, &opts, &mut |_, _| Ok(())).expect("LightGBM fits");
    let list: &[Tree] = model.tree_list();
    let flat = FlatTrees::new(list).expect("LightGBM's trees flatten");
    let built = Instant::now();
    let masks = LeafMasks::new(list).expect("trees of up to 32 leaves");
    let build_ms = built.elapsed().as_secs_f64() * 1e3;
    let probe = leads(n, 2);
    let cols = probe.cols;
    println!("{} trees, {} leads, leaf masks {} KiB built in {build_ms:.1} ms", list.len(), n, masks.bytes() / 1024);
    let (walk_ns, reference) = time(&probe.x, cols, |r| walked_sum(list, r));
    println!("{:<40} {:>9.1} ns a lead", "node walk (Tree::predict)", walk_ns);
    let variants: [Variant; 3] = [
        ("flat 24-byte nodes (FlatTrees)", &|r| flat.sum(r)),
        ("leaf masks, baseline x86-64 (SSE2)", &|r| masks.sum_portable(r)),
        ("leaf masks, AVX2 where the CPU has it", &|r| masks.sum(r)),
    ];
    for (name, sum) in variants {
        let (ns, sums) = time(&probe.x, cols, sum);
        assert!(sums == reference, "{name} differs from the node walk");
        println!("{name:<40} {ns:>9.1} ns a lead ({:.1}x the node walk's speed)", walk_ns / ns);
    }
    // explain_speed.sh's model: the default depth (6), early stopping left out so all trees count.
    let shallow = GbmOptions { max_depth: 6, ..opts };
    let model = fit_gbm(leads(50_000, 1), None, &shallow, &mut |_, _| Ok(())).expect("LightGBM fits");
    let shallow_masks = LeafMasks::new(model.tree_list()).expect("trees of up to 32 leaves");
    let explained = &probe.x[..cols * n.min(10_000)];
    let mut phi = vec![0.0; cols];
    model.contributions(&explained[..cols], &mut phi); // builds the TreeSHAP tables once
    let phi = std::cell::RefCell::new(phi);
    let (ns, _) = time(explained, cols, |r| model.contributions(r, &mut phi.borrow_mut()));
    println!(
        "{:<40} {ns:>9.1} ns a lead ({:.1}x the leaf masks' time)",
        "TreeSHAP contributions, depth 6",
        ns / time(explained, cols, |r| shallow_masks.sum(r)).0
    );
}
