//! The affine map `y = x W + b` as a module part: what attention and the feed-forward
//! network are made of (the same maths as [`Dense`](crate::nn::Dense), derived by autograd).

use crate::autograd::Var;
use crate::init::Initializer;
use crate::nn::{Parameter, Tape};

/// `y = x W + b` on the last axis: `W [in, out]`, `b [out]`, Glorot-uniform weights.
///
/// ```
/// use dl_core::nn::attention::Linear;
/// use dl_core::prelude::*;
/// let linear = Linear::new("proj", 4, 3);
/// let tape = Tape::constant(linear.parameters());
/// let y = linear.forward(&Var::constant(dl_core::tensor::zeros(&[2, 5, 4])), &tape);
/// assert_eq!(y.shape(), &[2, 5, 3]);
/// assert_eq!(linear.parameters()[0].name, "proj.weight");
/// ```
#[derive(Clone, Debug)]
pub struct Linear {
    /// `W [in, out]`.
    pub weight: Parameter,
    /// `b [out]`.
    pub bias: Parameter,
}

impl Linear {
    /// A map from `inputs` to `outputs` features; its parameters are `<name>.weight` and
    /// `<name>.bias`.
    pub fn new(name: &str, inputs: usize, outputs: usize) -> Linear {
        let w = Initializer::GlorotUniform.tensor(&[inputs, outputs], inputs, outputs);
        Linear {
            weight: Parameter::new(&format!("{name}.weight"), w),
            bias: Parameter::new(&format!("{name}.bias"), crate::tensor::zeros(&[outputs])),
        }
    }

    /// `x W + b` (one fused operation, [`Var::affine`]).
    pub fn forward(&self, x: &Var, tape: &Tape) -> Var {
        x.affine(&tape.param(&self.weight), &tape.param(&self.bias))
    }

    /// `max(x W + b, 0)` (one fused operation, [`Var::affine_relu`]).
    pub fn forward_relu(&self, x: &Var, tape: &Tape) -> Var {
        x.affine_relu(&tape.param(&self.weight), &tape.param(&self.bias))
    }

    /// The weight and the bias.
    pub fn parameters(&self) -> Vec<&Parameter> {
        vec![&self.weight, &self.bias]
    }

    /// The weight and the bias, mutably.
    pub fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.weight, &mut self.bias]
    }
}
