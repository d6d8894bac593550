//! Training and inference throughput of the book's models, for `bench/run_dl_bench.sh` (which
//! compares them with PyTorch and Keras in the same run). Not a test: timings depend on the
//! machine's load.
//!
//! ```text
//! cargo run --release -p dl-core --example bench_train -- <workload> [seconds]
//! workloads: cnn | rnn_small | rnn_large | lstm | gemm1024 | gemm2048 | gemm<m>x<n>x<k>
//!            cnn_infer | lstm_infer   (`predict` over 4,096 samples, batches of 256)
//!            profile_cnn | profile_lstm   (time per layer, forward and backward, one batch;
//!                                          a pair fused in training counted as its first layer)
//! ```
//!
//! Prints one JSON line: `{"framework": "dl-core", "workload": ..., "value": ..., "unit": ...}`.
//! Threads: `RAYON_NUM_THREADS`.

use dl_core::ops::gemm::{Output, Stored, gemm};
use dl_core::prelude::*;
use std::time::Instant;

/// Synthetic data and the model for a workload: (x, y, model, batch size).
fn setup(workload: &str) -> (Tensor, Tensor, Sequential, usize) {
    dl_core::seed(0);
    match workload {
        // Conv2D(32,3x3,relu) → MaxPool 2x2 → Conv2D(64,3x3,relu) → MaxPool 2x2 → Flatten →
        // Dense(128,relu) → Dense(10,softmax); Adam; sparse categorical cross-entropy.
        "cnn" => {
            let n = 64 * 16;
            let x = dl_core::init::uniform(&[n, 1, 28, 28], 0.0, 1.0);
            let y = dl_core::init::uniform(&[n], 0.0, 10.0).mapv(f32::floor);
            let mut model = Sequential::new()
                .add(Conv2d::new(1, 32, 3).relu())
                .add(MaxPool2d::new(2))
                .add(Conv2d::new(32, 64, 3).relu())
                .add(MaxPool2d::new(2))
                .add(Flatten::new())
                .add(Dense::new(64 * 5 * 5, 128))
                .add(Relu::new())
                .add(Dense::new(128, 10))
                .add(Softmax::new());
            model.compile(Adam::new(1e-3), Loss::SparseCategoricalCrossEntropy, &[]);
            (x, y, model, 64)
        }
        // SimpleRNN(32) → Dense(1); Adam; MSE; sequences of 10 steps, 1 feature.
        "rnn_small" => {
            let n = 32 * 64;
            let x = dl_core::init::normal(&[n, 10, 1], 0.0, 1.0);
            let y = dl_core::init::normal(&[n, 1], 0.0, 1.0);
            let mut model = Sequential::new()
                .add(SimpleRnn::new(1, 32))
                .add(Dense::new(32, 1));
            model.compile(Adam::new(1e-3), Loss::Mse, &[]);
            (x, y, model, 32)
        }
        // 50 steps of 32 features, 128 units, batch 64.
        "rnn_large" | "lstm" => {
            let n = 64 * 8;
            let x = dl_core::init::normal(&[n, 50, 32], 0.0, 1.0);
            let y = dl_core::init::normal(&[n, 1], 0.0, 1.0);
            let model = if workload == "lstm" {
                Sequential::new().add(Lstm::new(32, 128))
            } else {
                Sequential::new().add(SimpleRnn::new(32, 128))
            };
            let mut model = model.add(Dense::new(128, 1));
            model.compile(Adam::new(1e-3), Loss::Mse, &[]);
            (x, y, model, 64)
        }
        other => panic!("unknown workload {other:?}"),
    }
}

fn gemm_gflops(m: usize, n: usize, k: usize, seconds: f64) -> f64 {
    let a = dl_core::init::uniform(&[m, k], -1.0, 1.0);
    let b = dl_core::init::uniform(&[k, n], -1.0, 1.0);
    let mut c = vec![0.0f32; m * n];
    let (a, b) = (a.as_slice().unwrap(), b.as_slice().unwrap());
    let run = |c: &mut [f32]| {
        gemm(
            m,
            n,
            k,
            a,
            Stored::AsIs,
            b,
            Stored::AsIs,
            c,
            Output::Overwrite,
        )
    };
    run(&mut c);
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds || times.len() < 3 {
        let t = Instant::now();
        run(&mut c);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    2.0 * (m * n * k) as f64 / times[times.len() / 2] / 1e9
}

/// Samples per second of `predict` (inference in batches of 256, no gradients kept) on 4,096
/// samples shaped as the training workload's.
fn inference(workload: &str, seconds: f64) -> f64 {
    let (x, _, model, _) = setup(workload);
    let n = 4096;
    let mut shape = x.shape().to_vec();
    shape[0] = n;
    let x = if workload == "cnn" {
        dl_core::init::uniform(&shape, 0.0, 1.0)
    } else {
        dl_core::init::normal(&shape, 0.0, 1.0)
    };
    let checksum = |y: &Tensor| y.iter().map(|v| f64::from(*v)).sum::<f64>();
    let mut total = checksum(&model.predict(&x)); // warm-up
    let (mut samples, start) = (0usize, Instant::now());
    while start.elapsed().as_secs_f64() < seconds {
        total += checksum(&model.predict(&x));
        samples += n;
    }
    assert!(total.is_finite(), "inference gave non-finite outputs");
    samples as f64 / start.elapsed().as_secs_f64()
}

/// Prints the share of a training step's time taken by each layer's forward and backward
/// (one batch, repeated for `seconds`; the loss and the optimiser step are the rest).
fn profile(workload: &str, seconds: f64) {
    let (x, y, mut model, batch) = setup(workload);
    let xb = x.slice_axis(ndarray::Axis(0), (0..batch).into()).to_owned();
    let yb = y.slice_axis(ndarray::Axis(0), (0..batch).into()).to_owned();
    let loss = Loss::Mse;
    let names: Vec<String> = model.layer_names().iter().map(|s| s.to_string()).collect();
    let mut forward = vec![0.0f64; names.len()];
    let mut backward = vec![0.0f64; names.len()];
    let (start, mut steps) = (Instant::now(), 0usize);
    while start.elapsed().as_secs_f64() < seconds || steps < 3 {
        model.zero_grad();
        let mut a = xb.clone();
        // As `Sequential::forward`: a layer fused with the next runs both (timed as its own).
        let layers = model.layers_mut();
        let mut absorbed = vec![false; layers.len()];
        let mut i = 0;
        while i < layers.len() {
            let (layer, after) = layers[i..].split_first_mut().expect("i < len");
            let t = Instant::now();
            let fused = after
                .first()
                .and_then(|next| layer.forward_fused(&a, next.as_ref(), Mode::Train));
            let step = if fused.is_some() { 2 } else { 1 };
            a = fused.unwrap_or_else(|| layer.forward(&a, Mode::Train));
            forward[i] += t.elapsed().as_secs_f64();
            if step == 2 {
                absorbed[i + 1] = true;
            }
            i += step;
        }
        let target = if workload == "cnn" {
            Tensor::zeros(a.raw_dim())
        } else {
            yb.clone()
        };
        let mut g = loss.gradient(&target, &a);
        for (i, layer) in model.layers_mut().iter_mut().enumerate().rev() {
            if absorbed[i] {
                continue;
            }
            let t = Instant::now();
            if i == 0 {
                layer.backward_parameters(&g);
            } else {
                g = layer.backward(&g);
            }
            backward[i] += t.elapsed().as_secs_f64();
        }
        steps += 1;
    }
    let total: f64 = forward.iter().chain(&backward).sum();
    println!(
        "{workload}: {:.0} samples/s in layers (no loss, no optimiser)",
        (steps * batch) as f64 / total
    );
    for (i, name) in names.iter().enumerate() {
        println!(
            "  {i} {name:12} forward {:5.1} %  backward {:5.1} %",
            100.0 * forward[i] / total,
            100.0 * backward[i] / total
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workload = args.get(1).map(String::as_str).unwrap_or("cnn");
    let seconds: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let (value, unit) = if let Some(dims) = workload.strip_prefix("gemm") {
        let usage = "gemm<n> or gemm<m>x<n>x<k>";
        let dims: Vec<usize> = dims.split('x').map(|d| d.parse().expect(usage)).collect();
        let (m, n, k) = match dims[..] {
            [n] => (n, n, n),
            [m, n, k] => (m, n, k),
            _ => panic!("{usage}"),
        };
        (gemm_gflops(m, n, k, seconds), "GFLOP/s")
    } else if let Some(trained) = workload.strip_prefix("profile_") {
        profile(trained, seconds);
        return;
    } else if let Some(trained) = workload.strip_suffix("_infer") {
        (inference(trained, seconds), "samples/s")
    } else {
        let (x, y, mut model, batch) = setup(workload);
        let options = || {
            FitOptions::new()
                .epochs(1)
                .batch_size(batch)
                .verbose(false)
                .seed(1)
        };
        model.fit(&x, &y, options()); // warm-up: buffers, optimiser state
        let n = x.shape()[0];
        let (mut samples, start) = (0usize, Instant::now());
        while start.elapsed().as_secs_f64() < seconds {
            let history = model.fit(&x, &y, options());
            assert!(
                history.last("loss").is_some_and(f32::is_finite),
                "training diverged"
            );
            samples += n;
        }
        (samples as f64 / start.elapsed().as_secs_f64(), "samples/s")
    };
    println!(
        "{{\"framework\": \"dl-core\", \"workload\": \"{workload}\", \"threads\": {}, \"value\": {value:.1}, \"unit\": \"{unit}\"}}",
        rayon::current_num_threads()
    );
}
