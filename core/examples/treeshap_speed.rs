//! Microseconds per lead of TreeSHAP contributions (what `explain()` computes per lead) on the
//! model bench/explain_speed.sh's shape implies: LightGBM, 300 trees of up to 31 leaves, max
//! depth 6, 9 numeric inputs with missing values and 10 category codes. The model's text is
//! kept at the path given (trained on first use), so variants are timed on the same trees.
//!
//! `cargo run --release -p lead_scoring_core --example treeshap_speed -- MODEL_FILE [LEADS] [ROUNDS]`

use std::hint::black_box;
use std::time::Instant;

use lead_scoring_core::models::{fit_gbm, GbmModel, GbmOptions, TreeBooster};

mod synthetic;

use synthetic::leads;

/// This thread's CPU time in seconds: on a loaded machine, less noisy than the wall clock.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("a model file");
    let n: usize = args.next().map_or(10_000, |a| a.parse().expect("leads"));
    let rounds: usize = args.next().map_or(3, |a| a.parse().expect("rounds"));
    let model = match std::fs::read_to_string(&file) {
        Ok(text) => GbmModel::from_model_text(text).expect("a LightGBM model"),
        Err(_) => {
            let opts = GbmOptions {
                trees: 300,
                max_depth: 6,
                max_leaves: 31,
                early_stopping_rounds: None,
                threads: 2,
                ..Default::default()
            };
            let model = fit_gbm(leads(50_000, 1), None, &opts, &mut |_, _| Ok(())).expect("LightGBM fits");
            std::fs::write(&file, model.model_text()).expect("the model file is written");
            model
        }
    };
    let probe = leads(n, 2);
    let cols = probe.cols;
    let mut phi = vec![0.0; cols];
    let built = Instant::now();
    model.contributions(&probe.x[..cols], &mut phi);
    let prepared_ms = built.elapsed().as_secs_f64() * 1e3;
    println!(
        "{} trees; first explanation (prepares the trees) {prepared_ms:.1} ms, {} KiB",
        model.trees(),
        model.treeshap_bytes() / 1024
    );
    let mut checksum = 0.0;
    for _ in 0..rounds {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        for r in probe.x.chunks(cols) {
            checksum += black_box(model.contributions(black_box(r), &mut phi));
            checksum += phi[0];
        }
        let per_lead = |s: f64| s * 1e6 / n as f64;
        println!("{:.1} us a lead ({:.1} us of CPU)", per_lead(start.elapsed().as_secs_f64()), per_lead(cpu_seconds() - cpu));
    }
    println!("checksum {checksum}");
}
