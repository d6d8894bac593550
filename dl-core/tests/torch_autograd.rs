//! Every autograd operation, and a whole Transformer block, against PyTorch: the output and
//! the gradient of every input on fixed random inputs, to 1e-4 relative (plus 2e-5 absolute
//! near zero).
//!
//! The reference values were produced by `fixtures/make_autograd_fixtures.py` (PyTorch, run
//! once); this test needs only the JSON file it wrote.

use dl_core::autograd::{Masking, Var, loss, scaled_dot_product_attention};
use dl_core::nn::attention::TransformerBlock;
use dl_core::prelude::*;
use serde_json::Value;

fn tensor(v: &Value) -> Tensor {
    let numbers = |key: &str| {
        v[key]
            .as_array()
            .expect("an array")
            .iter()
            .map(|n| n.as_f64().expect("a number"))
    };
    let shape: Vec<usize> = numbers("shape").map(|s| s as usize).collect();
    dl_core::tensor::from_vec(&shape, numbers("data").map(|d| d as f32).collect())
}

#[track_caller]
fn assert_close(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes differ");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * w.abs() + 2e-5,
            "{what}: element {i}: dl-core {g} vs PyTorch {w}"
        );
    }
}

/// The expression of each case, in dl-core (inputs as variables, constants as tensors).
fn expression(name: &str, v: &[Var], c: &dyn Fn(&str) -> Tensor) -> Var {
    match name {
        "matmul" | "matmul_batched" | "matmul_shared" => v[0].matmul(&v[1]),
        "add_broadcast" => &v[0] + &v[1],
        "sub_broadcast" => &v[0] - &v[1],
        "mul" => &v[0] * &v[1],
        "div" => &v[0] / &v[1],
        "sum_axis" => v[0].sum_axis(1),
        "mean_axis" => v[0].mean_axis(0),
        "mean" => v[0].mean(),
        "exp" => v[0].exp(),
        "log" => v[0].log(),
        "tanh" => v[0].tanh(),
        "sigmoid" => v[0].sigmoid(),
        "relu" => v[0].relu(),
        "square" => v[0].square(),
        "sqrt" => v[0].sqrt(),
        "softmax_axis1" => v[0].softmax(1),
        "log_softmax_axis2" => v[0].log_softmax(2),
        "reshape" => v[0].reshape(&[4, 3, 2]),
        "permute" => v[0].permute(&[2, 0, 1]),
        "slice" => v[0].slice(1, 1..3),
        "concat" => Var::concat(&[v[0].clone(), v[1].clone()], 1),
        "gather" => v[0].gather(&c("ids")),
        "masked_softmax" => v[0].masked_fill(&c("mask"), f32::NEG_INFINITY).softmax(2),
        "layer_norm" => v[0].layer_norm(&v[1], &v[2], 1e-5),
        "attention" => scaled_dot_product_attention(&v[0], &v[1], &v[2], Masking::None),
        "attention_causal" => scaled_dot_product_attention(&v[0], &v[1], &v[2], Masking::Causal),
        "cross_entropy_logits" | "cross_entropy_positions" => loss(
            Loss::SparseCategoricalCrossEntropyWithLogits,
            &c("labels"),
            &v[0],
        ),
        "mse" => loss(Loss::Mse, &c("y"), &v[0]),
        other => panic!("no dl-core expression for the fixture case {other:?}"),
    }
}

#[test]
fn every_operation_matches_pytorch() {
    let fixtures: Value =
        serde_json::from_str(include_str!("fixtures/torch_autograd.json")).expect("fixture JSON");
    let cases = fixtures["cases"].as_object().expect("cases");
    let mut checked = 0;
    for (name, case) in cases {
        if name == "transformer_block" {
            continue;
        }
        let inputs: Vec<Var> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| Var::new(tensor(x)))
            .collect();
        let constants = |key: &str| tensor(&case["constants"][key]);
        let y = expression(name, &inputs, &constants);
        assert_close(&format!("{name}: output"), y.value(), &tensor(&case["y"]));
        y.mul(&Var::constant(tensor(&case["r"]))).sum().backward();
        for (i, (input, want)) in inputs
            .iter()
            .zip(case["grads"].as_array().unwrap())
            .enumerate()
        {
            let got = input
                .grad()
                .unwrap_or_else(|| panic!("{name}: input {i} received no gradient"));
            assert_close(
                &format!("{name}: gradient of input {i}"),
                &got,
                &tensor(want),
            );
        }
        checked += 1;
    }
    assert_eq!(
        checked,
        cases.len() - 1,
        "every case but the block is an operation"
    );
}

#[test]
fn a_transformer_block_matches_pytorch() {
    let fixtures: Value =
        serde_json::from_str(include_str!("fixtures/torch_autograd.json")).expect("fixture JSON");
    let case = &fixtures["cases"]["transformer_block"];
    let inputs: Vec<Tensor> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(tensor)
        .collect();
    let mut block = Autograd::new(TransformerBlock::new("block", 8, 2, Masking::Causal));
    // The fixture lists the parameters in the block's order after the input.
    for (p, value) in block.parameters_mut().into_iter().zip(&inputs[1..]) {
        assert_eq!(p.value.shape(), value.shape(), "{}", p.name);
        p.value.assign(value);
    }
    let y = block.forward(&inputs[0], Mode::Train);
    assert_close("block output", &y, &tensor(&case["y"]));
    let dx = block.backward(&tensor(&case["r"]));
    let grads = case["grads"].as_array().unwrap();
    assert_close("block input gradient", &dx, &tensor(&grads[0]));
    for (p, want) in block.parameters().iter().zip(&grads[1..]) {
        assert_close(
            &format!("block gradient of {}", p.name),
            &p.grad,
            &tensor(want),
        );
    }
}
