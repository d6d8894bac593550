//! Your own layer, written as a forward pass only: autograd derives its backward.
//!
//! A [`Module`] says how its output is computed from its input and its parameters, with
//! [`Var`] operations; [`Autograd`] turns it into a [`Layer`] like any other, so it goes into
//! a [`Sequential`](crate::nn::Sequential), trains with `fit`, shows in `summary` and is saved
//! with the model:
//!
//! ```text
//! forward:   x → Var (a leaf), every parameter → Var (a leaf), y = module.forward(x)
//! backward:  y.backward_with(∂L/∂y);   θ.grad += leaf(θ).grad;   return leaf(x).grad
//! ```
//!
//! A module holds its parameters as ordinary [`Parameter`] fields and lists them in
//! [`Module::parameters`] and [`Module::parameters_mut`], in the same order. Inside
//! `forward` it asks the [`Tape`] for each one as a variable: `tape.param(&self.weight)`.
//! A module made of other modules calls their `forward` with the same tape (and lists their
//! parameters in its own): residual connections, several paths, one part used twice.
//!
//! ```
//! use dl_core::prelude::*;
//! use dl_core::autograd::Var;
//!
//! /// y = x W + b, written as its formula.
//! struct MyDense { weight: Parameter, bias: Parameter }
//!
//! impl Module for MyDense {
//!     fn forward(&self, x: &Var, tape: &Tape, _mode: Mode) -> Var {
//!         x.matmul(&tape.param(&self.weight)) + tape.param(&self.bias)
//!     }
//!     fn parameters(&self) -> Vec<&Parameter> { vec![&self.weight, &self.bias] }
//!     fn parameters_mut(&mut self) -> Vec<&mut Parameter> { vec![&mut self.weight, &mut self.bias] }
//!     fn name(&self) -> &str { "my_dense" }
//! }
//!
//! seed(0);
//! let dense = Dense::new(3, 2);
//! let mine = MyDense { weight: dense.weight().clone(), bias: dense.bias().clone() };
//! let (mut dense, mut mine) = (dense, Autograd::new(mine));
//! let x = init::normal(&[4, 3], 0.0, 1.0);
//! let g = init::normal(&[4, 2], 0.0, 1.0);
//! assert_eq!(dense.forward(&x, Mode::Train), mine.forward(&x, Mode::Train));
//! let (dx, my_dx) = (dense.backward(&g), mine.backward(&g));
//! // The hand-written backward and the derived one agree.
//! assert!(dx.iter().zip(&my_dx).all(|(a, b)| (a - b).abs() < 1e-5));
//! let same = |a: &Tensor, b: &Tensor| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-5);
//! assert!(same(&dense.parameters()[0].grad, &mine.parameters()[0].grad));
//! ```

use crate::autograd::Var;
use crate::nn::{Layer, LayerConfig, Mode, Parameter};
use crate::tensor::Tensor;
use std::cell::RefCell;

/// A layer written as its forward pass, from autograd operations (PyTorch's `nn.Module`).
pub trait Module: Send {
    /// The output for a batch; parameters come from `tape.param(&self.…)`.
    fn forward(&self, x: &Var, tape: &Tape, mode: Mode) -> Var;
    /// The trainable parameters, in a fixed order (what is trained and saved).
    fn parameters(&self) -> Vec<&Parameter>;
    /// The same parameters, mutably, in the same order.
    fn parameters_mut(&mut self) -> Vec<&mut Parameter>;
    /// A short lowercase kind name, e.g. `"residual_block"`; saved as the layer's kind.
    fn name(&self) -> &str;
    /// The sizes and settings that define the architecture, saved beside the weights;
    /// `load_weights` refuses a file whose settings differ. The default is none.
    fn settings(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// The parameters of one forward pass, as variables (one leaf per parameter, made on first
/// use, so a parameter used twice collects both gradients).
pub struct Tape<'a> {
    parameters: Vec<&'a Parameter>,
    leaves: RefCell<Vec<Option<Var>>>,
    tracking: bool,
}

impl<'a> Tape<'a> {
    /// A tape whose variables collect gradients (training).
    pub fn tracking(parameters: Vec<&'a Parameter>) -> Tape<'a> {
        let leaves = RefCell::new(vec![None; parameters.len()]);
        Tape {
            parameters,
            leaves,
            tracking: true,
        }
    }

    /// A tape whose variables are constants (inference: no graph is recorded).
    pub fn constant(parameters: Vec<&'a Parameter>) -> Tape<'a> {
        Tape {
            tracking: false,
            ..Tape::tracking(parameters)
        }
    }

    /// The variable of `parameter`, which must be one the tape was made with.
    ///
    /// **Panics**, naming the parameter, if it is not (a field the module's `parameters()`
    /// forgot to list: it would be neither trained nor saved).
    #[track_caller]
    pub fn param(&self, parameter: &Parameter) -> Var {
        let Some(i) = self
            .parameters
            .iter()
            .position(|p| std::ptr::eq(*p, parameter))
        else {
            panic!(
                "Tape::param: parameter {:?} (shape {:?}) is not in the module's parameters(); list it there so it is trained and saved",
                parameter.name,
                parameter.value.shape()
            )
        };
        self.leaves.borrow_mut()[i]
            .get_or_insert_with(|| {
                let value = parameter.value.clone();
                if self.tracking {
                    Var::new(value)
                } else {
                    Var::constant(value)
                }
            })
            .clone()
    }

    /// Each parameter's gradient from this pass (zeros for one the pass did not use), taken
    /// from the pass's leaves (which are dropped with the tape) rather than copied.
    fn gradients(&self) -> Vec<Option<Tensor>> {
        self.leaves
            .borrow()
            .iter()
            .map(|leaf| leaf.as_ref().and_then(|l| l.take_grad()))
            .collect()
    }
}

/// What one forward pass left for backward.
struct Pass {
    input: Var,
    output: Var,
    /// The tape's leaves, by parameter position.
    leaves: Vec<Option<Var>>,
}

/// A [`Module`] as a [`Layer`]: `Sequential::new().add(Autograd::new(MyBlock::new()))`.
pub struct Autograd<M: Module> {
    module: M,
    pass: Option<Pass>,
}

impl<M: Module> Autograd<M> {
    /// Wraps a module.
    pub fn new(module: M) -> Autograd<M> {
        Autograd { module, pass: None }
    }

    /// The module.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// The module, mutably.
    pub fn module_mut(&mut self) -> &mut M {
        &mut self.module
    }
}

impl<M: Module + 'static> Layer for Autograd<M> {
    fn forward(&mut self, input: &Tensor, mode: Mode) -> Tensor {
        let x = Var::new(input.clone());
        let tape = Tape::tracking(self.module.parameters());
        let output = self.module.forward(&x, &tape, mode);
        let leaves = tape.leaves.borrow().clone();
        let value = output.value().clone();
        self.pass = Some(Pass {
            input: x,
            output,
            leaves,
        });
        value
    }

    fn infer(&self, input: &Tensor) -> Tensor {
        let tape = Tape::constant(self.module.parameters());
        self.module
            .forward(&Var::constant(input.clone()), &tape, Mode::Eval)
            .value()
            .clone()
    }

    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let pass = self
            .pass
            .take()
            .unwrap_or_else(|| panic!("{}: backward called before forward", self.module.name()));
        crate::nn::assert_grad_output_shape(self.module.name(), grad_output, pass.output.shape());
        pass.output.backward_with(grad_output.clone());
        let tape = Tape {
            parameters: Vec::new(),
            leaves: RefCell::new(pass.leaves),
            tracking: true,
        };
        for (p, g) in self
            .module
            .parameters_mut()
            .into_iter()
            .zip(tape.gradients())
        {
            if let Some(g) = g {
                p.grad += &g;
            }
        }
        pass.input
            .grad()
            .unwrap_or_else(|| Tensor::zeros(pass.input.value().raw_dim()))
    }

    /// Training reads no input gradient: the input's leaf is told so before backward, and
    /// the operations that use it skip computing it (the first matrix product's `G Wᵀ`).
    fn backward_parameters(&mut self, grad_output: &Tensor) {
        if let Some(pass) = &self.pass {
            pass.input.stop_gradient();
        }
        self.backward(grad_output);
    }

    fn parameters(&self) -> Vec<&Parameter> {
        self.module.parameters()
    }

    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        self.module.parameters_mut()
    }

    /// Found by running the module on zeros of that shape.
    fn output_shape(&self, input_shape: &[usize]) -> Vec<usize> {
        self.infer(&Tensor::zeros(ndarray::IxDyn(input_shape)))
            .shape()
            .to_vec()
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Module {
            kind: self.module.name().to_string(),
            settings: self.module.settings(),
        }
    }

    fn name(&self) -> &str {
        self.module.name()
    }

    fn module_any(&self) -> Option<&dyn std::any::Any> {
        Some(&self.module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_layer;

    /// y = x + tanh(x W): a residual connection.
    struct Residual {
        weight: Parameter,
    }

    impl Module for Residual {
        fn forward(&self, x: &Var, tape: &Tape, _: Mode) -> Var {
            x + x.matmul(&tape.param(&self.weight)).tanh()
        }
        fn parameters(&self) -> Vec<&Parameter> {
            vec![&self.weight]
        }
        fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
            vec![&mut self.weight]
        }
        fn name(&self) -> &str {
            "residual"
        }
    }

    #[test]
    fn a_module_passes_the_layer_gradient_check() {
        crate::seed(14);
        let weight = Parameter::new("weight", crate::init::normal(&[4, 4], 0.0, 0.5));
        let mut layer = Autograd::new(Residual { weight });
        let x = crate::init::normal(&[3, 4], 0.0, 1.0);
        check_layer(&mut layer, &x, Mode::Train, 1e-2).assert_within(1e-2);
        assert_eq!(layer.output_shape(&[7, 4]), vec![7, 4]);
        assert_eq!(layer.infer(&x), layer.forward(&x, Mode::Eval));
    }

    #[test]
    #[should_panic(expected = "is not in the module's parameters()")]
    fn a_parameter_left_out_of_parameters_is_named() {
        struct Forgetful {
            weight: Parameter,
        }
        impl Module for Forgetful {
            fn forward(&self, x: &Var, tape: &Tape, _: Mode) -> Var {
                x.matmul(&tape.param(&self.weight))
            }
            fn parameters(&self) -> Vec<&Parameter> {
                Vec::new()
            }
            fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
                Vec::new()
            }
            fn name(&self) -> &str {
                "forgetful"
            }
        }
        let layer = Autograd::new(Forgetful {
            weight: Parameter::new("weight", crate::tensor::zeros(&[2, 2])),
        });
        layer.infer(&crate::tensor::zeros(&[1, 2]));
    }
}
