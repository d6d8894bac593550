//! Training throughput through autograd, for `bench/autograd_bench.py` (which runs PyTorch on
//! the same models in the same run). Not a test: timings depend on the machine's load.
//!
//! ```text
//! cargo run --release -p dl-core --example bench_autograd -- <workload> [seconds]
//! workloads: gpt         the small GPT (4 blocks, width 128, 4 heads, context 64), batch 32
//!            mlp_layers  the book's MLP 784-128-64-10 through Sequential's hand-written layers
//!            mlp_autograd  the same MLP written as a Module (autograd), batch 64
//! ```
//!
//! Prints one JSON line: `{"framework": "dl-core", "workload": ..., "value": samples/s}`, with
//! the process's CPU time per sample over the timed part (`cpu_ms_per_sample`, on Linux): on a
//! shared machine the CPU time moves less with the load than the wall-clock rate.
//! Threads: `RAYON_NUM_THREADS`.

use dl_core::autograd::Var;
use dl_core::models::{Gpt, GptConfig};
use dl_core::nn::attention::Linear;
use dl_core::prelude::*;
use std::time::Instant;

/// The book's MLP, 784 → 128 → 64 → 10, written with autograd.
struct Mlp {
    layers: [Linear; 3],
}

impl Module for Mlp {
    fn forward(&self, x: &Var, tape: &Tape, _: Mode) -> Var {
        let h = self.layers[0].forward(x, tape).relu();
        let h = self.layers[1].forward(&h, tape).relu();
        self.layers[2].forward(&h, tape)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        self.layers.iter().flat_map(|l| l.parameters()).collect()
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.parameters_mut())
            .collect()
    }
    fn name(&self) -> &str {
        "mlp"
    }
}

fn setup(workload: &str) -> (Tensor, Tensor, Sequential, usize) {
    dl_core::seed(0);
    match workload {
        "gpt" => {
            let (n, t, vocab) = (32 * 8, 64, 65);
            let x = init::uniform(&[n, t], 0.0, vocab as f32).mapv(f32::floor);
            let y = init::uniform(&[n, t], 0.0, vocab as f32).mapv(f32::floor);
            let gpt = Gpt::new(GptConfig {
                vocab,
                context: t,
                width: 128,
                heads: 4,
                blocks: 4,
            });
            let mut model = Sequential::new().add(Autograd::new(gpt));
            model.compile(
                Adam::new(1e-3),
                Loss::SparseCategoricalCrossEntropyWithLogits,
                &[],
            );
            (x, y, model, 32)
        }
        "mlp_layers" | "mlp_autograd" => {
            let n = 64 * 32;
            let x = init::uniform(&[n, 784], 0.0, 1.0);
            let y = init::uniform(&[n], 0.0, 10.0).mapv(f32::floor);
            let model = if workload == "mlp_layers" {
                Sequential::new()
                    .add(Dense::new(784, 128))
                    .add(Relu::new())
                    .add(Dense::new(128, 64))
                    .add(Relu::new())
                    .add(Dense::new(64, 10))
            } else {
                let layers = [
                    Linear::new("l1", 784, 128),
                    Linear::new("l2", 128, 64),
                    Linear::new("l3", 64, 10),
                ];
                Sequential::new().add(Autograd::new(Mlp { layers }))
            };
            let mut model = model;
            model.compile(
                Adam::new(1e-3),
                Loss::SparseCategoricalCrossEntropyWithLogits,
                &[],
            );
            (x, y, model, 64)
        }
        other => panic!("unknown workload {other:?} (gpt, mlp_layers, mlp_autograd)"),
    }
}

/// CPU seconds used so far by every thread of this process (user and system), from
/// `/proc/self/stat`; `None` where there is none.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends at the last ')'): utime and stime are the
    // 12th and 13th, in clock ticks (100 per second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workload = args.get(1).map(String::as_str).unwrap_or("gpt");
    let seconds: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let (x, y, mut model, batch) = setup(workload);
    let n = x.shape()[0];
    let options = || FitOptions::new().epochs(1).batch_size(batch).verbose(false);
    // Warm-up: one epoch (allocations, thread pool).
    let first = model.fit(&x, &y, options());
    let start = Instant::now();
    let cpu_start = process_cpu_seconds();
    let mut samples = 0usize;
    let mut last = first.last("loss").unwrap_or(f32::NAN);
    while start.elapsed().as_secs_f64() < seconds {
        last = model
            .fit(&x, &y, options())
            .last("loss")
            .unwrap_or(f32::NAN);
        samples += n;
    }
    let rate = samples as f64 / start.elapsed().as_secs_f64();
    let cpu = match (cpu_start, process_cpu_seconds()) {
        (Some(a), Some(b)) => format!(
            ", \"cpu_ms_per_sample\": {:.5}",
            (b - a) * 1e3 / samples as f64
        ),
        _ => String::new(),
    };
    println!(
        "{{\"framework\": \"dl-core\", \"workload\": \"{workload}\", \"value\": {rate:.1}, \"unit\": \"samples/s\", \"loss\": {last}{cpu}}}"
    );
}
