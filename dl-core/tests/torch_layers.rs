//! Every CNN and RNN layer against PyTorch: forward output, input gradient and parameter
//! gradients on fixed random inputs, to 1e-4 relative (plus 1e-5 absolute near zero).
//!
//! The convolution's and the recurrent layers' `backward_parameters` (backward without the
//! input gradient) are held to the same parameter gradients.
//!
//! The reference values were produced by `fixtures/make_torch_fixtures.py` (PyTorch, run
//! once); this test needs only the JSON file it wrote.

use dl_core::prelude::*;
use serde_json::Value;

fn fixtures() -> Value {
    let text = include_str!("fixtures/torch_layers.json");
    serde_json::from_str(text).expect("valid fixture JSON")
}

fn tensor(v: &Value) -> Tensor {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap() as usize)
        .collect();
    let data: Vec<f32> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_f64().unwrap() as f32)
        .collect();
    dl_core::tensor::from_vec(&shape, data)
}

#[track_caller]
fn assert_close(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes differ");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * w.abs() + 1e-5,
            "{what}: element {i}: dl-core {g} vs PyTorch {w}"
        );
    }
}

fn cfg(case: &Value, key: &str) -> usize {
    case["config"][key].as_u64().unwrap() as usize
}

/// Loads the parameters, runs forward and backward, compares everything with PyTorch.
fn check(name: &str, layer: &mut dyn Layer, mode: Mode) {
    let all = fixtures();
    let case = &all["cases"][name];
    assert!(case.is_object(), "missing fixture {name}");
    for p in layer.parameters_mut() {
        let v = &case["params"][&p.name];
        assert!(v.is_object(), "{name}: fixture has no parameter {}", p.name);
        let value = tensor(v);
        assert_eq!(
            p.value.shape(),
            value.shape(),
            "{name}: parameter {} shape",
            p.name
        );
        p.value = value;
        p.zero_grad();
    }
    let x = tensor(&case["x"]);
    let y = layer.forward(&x, mode);
    assert_close(&format!("{name} output"), &y, &tensor(&case["y"]));
    let dx = layer.backward(&tensor(&case["grad_y"]));
    if !case["grad_x"].is_null() {
        assert_close(
            &format!("{name} input gradient"),
            &dx,
            &tensor(&case["grad_x"]),
        );
    }
    for p in layer.parameters() {
        assert_close(
            &format!("{name} gradient of {}", p.name),
            &p.grad,
            &tensor(&case["grads"][&p.name]),
        );
    }
}

/// [`check`] for `backward_parameters`, the backward of a model's first layer in training
/// (no input gradient): a second forward, then the same parameter gradients as PyTorch's.
/// Not for BatchNorm, whose second forward in training would move its running statistics.
fn check_backward_parameters(name: &str, layer: &mut dyn Layer, mode: Mode) {
    check(name, layer, mode);
    let all = fixtures();
    let case = &all["cases"][name];
    for p in layer.parameters_mut() {
        p.zero_grad();
    }
    layer.forward(&tensor(&case["x"]), mode);
    layer.backward_parameters(&tensor(&case["grad_y"]));
    for p in layer.parameters() {
        assert_close(
            &format!("{name} gradient of {} (backward_parameters)", p.name),
            &p.grad,
            &tensor(&case["grads"][&p.name]),
        );
    }
}

#[test]
fn conv2d_matches_pytorch() {
    let all = fixtures();
    for name in [
        "conv2d_s1_p0",
        "conv2d_s2_p1",
        "conv2d_k5_s1_p2",
        "conv2d_c1_k3",
    ] {
        let c = &all["cases"][name];
        let mut conv = Conv2d::new(
            cfg(c, "in_channels"),
            cfg(c, "out_channels"),
            cfg(c, "kernel"),
        )
        .with_stride(cfg(c, "stride"))
        .with_padding(cfg(c, "padding"));
        check_backward_parameters(name, &mut conv, Mode::Train);
    }
}

#[test]
fn pooling_matches_pytorch() {
    let all = fixtures();
    for name in ["max_pool2d_k2", "max_pool2d_k3_s2_p1"] {
        let c = &all["cases"][name];
        let mut pool = MaxPool2d::new(cfg(c, "kernel"))
            .with_stride(cfg(c, "stride"))
            .with_padding(cfg(c, "padding"));
        check(name, &mut pool, Mode::Train);
    }
    for name in ["avg_pool2d_k2", "avg_pool2d_k3_s2_p1"] {
        let c = &all["cases"][name];
        let mut pool = AvgPool2d::new(cfg(c, "kernel"))
            .with_stride(cfg(c, "stride"))
            .with_padding(cfg(c, "padding"));
        check(name, &mut pool, Mode::Train);
    }
}

#[test]
fn batch_norm_matches_pytorch_in_both_modes() {
    let all = fixtures();
    for (base, c) in [("batch_norm_2d", 3), ("batch_norm_1d", 6)] {
        let mut bn = BatchNorm::new(c);
        check(&format!("{base}_train"), &mut bn, Mode::Train);
        let (mean, var) = bn.running_stats();
        let case = &all["cases"][format!("{base}_train")];
        let shape = [c];
        assert_close(
            "running mean",
            &dl_core::tensor::from_vec(&shape, mean.to_vec()),
            &tensor(&case["running_mean"]),
        );
        assert_close(
            "running var",
            &dl_core::tensor::from_vec(&shape, var.to_vec()),
            &tensor(&case["running_var"]),
        );
        // Eval mode uses the running statistics just updated, as PyTorch's module did.
        check(&format!("{base}_eval"), &mut bn, Mode::Eval);
    }
}

#[test]
fn embedding_matches_pytorch() {
    check("embedding", &mut Embedding::new(7, 4), Mode::Train);
}

#[test]
fn recurrent_layers_match_pytorch() {
    let all = fixtures();
    for kind in ["rnn", "lstm", "gru"] {
        for seq in ["last", "seq"] {
            let name = format!("{kind}_{seq}");
            let c = &all["cases"][&name];
            let (d, h) = (cfg(c, "input_size"), cfg(c, "hidden_size"));
            let rs = c["config"]["return_sequences"].as_bool().unwrap();
            let mut layer: Box<dyn Layer> = match kind {
                "rnn" => Box::new(SimpleRnn::new(d, h).return_sequences(rs)),
                "lstm" => Box::new(Lstm::new(d, h).return_sequences(rs)),
                _ => Box::new(Gru::new(d, h).return_sequences(rs)),
            };
            check_backward_parameters(&name, layer.as_mut(), Mode::Train);
        }
    }
}

#[test]
fn flatten_round_trips() {
    let mut flat = Flatten::new();
    let x = dl_core::init::normal(&[2, 3, 4, 5], 0.0, 1.0);
    let y = flat.forward(&x, Mode::Train);
    assert_eq!(y.shape(), &[2, 60]);
    assert_eq!(flat.backward(&y), x);
}
