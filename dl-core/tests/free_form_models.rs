//! Models that are not a chain, trained through `fit`: a residual network, a model with two
//! input branches, and a layer shared by two paths. Each must learn its task to a stated loss.

use dl_core::autograd::Var;
use dl_core::nn::attention::Linear;
use dl_core::prelude::*;

/// `y = head(x + f(x))` with `f(x) = W₂ relu(W₁ x)`: one residual block.
struct Residual {
    inner: Linear,
    outer: Linear,
    head: Linear,
}

impl Module for Residual {
    fn forward(&self, x: &Var, tape: &Tape, _: Mode) -> Var {
        let f = self
            .outer
            .forward(&self.inner.forward(x, tape).relu(), tape);
        self.head.forward(&(x + f), tape)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        [
            self.inner.parameters(),
            self.outer.parameters(),
            self.head.parameters(),
        ]
        .concat()
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        let mut p = self.inner.parameters_mut();
        p.extend(self.outer.parameters_mut());
        p.extend(self.head.parameters_mut());
        p
    }
    fn name(&self) -> &str {
        "residual"
    }
}

#[test]
fn a_residual_model_trains_through_fit() {
    seed(20);
    let x = init::uniform(&[256, 4], -1.0, 1.0);
    let y = x
        .map_axis(Axis(1), |r| r[0] * r[1] + r[2].abs() - 0.5 * r[3])
        .insert_axis(Axis(1));
    let module = Residual {
        inner: Linear::new("inner", 4, 16),
        outer: Linear::new("outer", 16, 4),
        head: Linear::new("head", 4, 1),
    };
    let mut model = Sequential::new().add(Autograd::new(module));
    model.compile(Adam::new(0.01), Loss::Mse, &[]);
    let baseline = Loss::Mse.compute(&y, &Tensor::from_elem(y.raw_dim(), y.mean().unwrap()));
    let history = model.fit(
        &x,
        &y,
        FitOptions::new().epochs(150).batch_size(32).verbose(false),
    );
    let loss = history.last("loss").unwrap();
    assert!(
        loss < 0.1 * baseline,
        "residual model: loss {loss}, predicting the mean {baseline}"
    );
}

/// Two inputs, each through its own branch, then joined: the input tensor carries both side
/// by side (`[n, 3 + 2]`), and the model cuts them apart.
struct TwoBranches {
    left: Linear,
    right: Linear,
    head: Linear,
}

impl Module for TwoBranches {
    fn forward(&self, x: &Var, tape: &Tape, _: Mode) -> Var {
        let (a, b) = (x.slice(1, 0..3), x.slice(1, 3..5));
        let joined = Var::concat(
            &[
                self.left.forward(&a, tape).tanh(),
                self.right.forward(&b, tape).tanh(),
            ],
            1,
        );
        self.head.forward(&joined, tape)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        [
            self.left.parameters(),
            self.right.parameters(),
            self.head.parameters(),
        ]
        .concat()
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        let mut p = self.left.parameters_mut();
        p.extend(self.right.parameters_mut());
        p.extend(self.head.parameters_mut());
        p
    }
    fn name(&self) -> &str {
        "two_branches"
    }
}

#[test]
fn a_two_input_model_trains_through_fit() {
    seed(21);
    let a = init::uniform(&[300, 3], -1.0, 1.0);
    let b = init::uniform(&[300, 2], -1.0, 1.0);
    // The class depends on both inputs: is a's sum larger than b's?
    let labels: Vec<f32> = (0..300)
        .map(|i| {
            (a.index_axis(Axis(0), i).sum() > 2.0 * b.index_axis(Axis(0), i).sum()) as u8 as f32
        })
        .collect();
    let y = dl_core::tensor::from_vec(&[300], labels);
    let x = ndarray::concatenate(Axis(1), &[a.view(), b.view()]).unwrap();
    let module = TwoBranches {
        left: Linear::new("left", 3, 8),
        right: Linear::new("right", 2, 8),
        head: Linear::new("head", 16, 2),
    };
    let mut model = Sequential::new().add(Autograd::new(module));
    model.compile(
        Adam::new(0.02),
        Loss::SparseCategoricalCrossEntropyWithLogits,
        &[Metric::Accuracy],
    );
    let history = model.fit(
        &x,
        &y,
        FitOptions::new().epochs(60).batch_size(32).verbose(false),
    );
    let accuracy = history.last("accuracy").unwrap();
    assert!(accuracy > 0.95, "two-input model: accuracy {accuracy}");
}

/// One layer used on two paths: `y = W relu(W x)` with the same square `W`.
struct Shared {
    layer: Linear,
    head: Linear,
}

impl Module for Shared {
    fn forward(&self, x: &Var, tape: &Tape, _: Mode) -> Var {
        let twice = self
            .layer
            .forward(&self.layer.forward(x, tape).relu(), tape)
            .relu();
        self.head.forward(&twice, tape)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        [self.layer.parameters(), self.head.parameters()].concat()
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        let mut p = self.layer.parameters_mut();
        p.extend(self.head.parameters_mut());
        p
    }
    fn name(&self) -> &str {
        "shared"
    }
}

#[test]
fn a_shared_layer_collects_the_gradient_of_both_paths() {
    seed(22);
    let module = Shared {
        layer: Linear::new("layer", 3, 3),
        head: Linear::new("head", 3, 1),
    };
    let mut layer = Autograd::new(module);
    let x = init::normal(&[4, 3], 0.0, 1.0);
    gradcheck::check_layer(&mut layer, &x, Mode::Train, 1e-2).assert_within(2e-2);
}
