//! A stack of layers applied in order.
//!
//! ```text
//! forward:   y = f_L(… f_2(f_1(x)))
//! backward:  g_L = ∂L/∂y;   g_{l-1} = backward_l(g_l)   for l = L … 1;   returns ∂L/∂x = g_0
//! ```
//!
//! Training (`compile`, `fit`, `evaluate`) lives in [`crate::train`]; saving in [`crate::io`].

use crate::nn::{Layer, Mode, Parameter};
use crate::tensor::Tensor;

/// A model made of layers applied one after another (Keras `Sequential`).
///
/// ```
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let model = Sequential::new()
///     .add(Dense::new(2, 8))
///     .add(Relu::new())
///     .add(Dense::new(8, 1));
/// let x = dl_core::tensor::from_vec(&[5, 2], vec![0.1; 10]);
/// assert_eq!(model.predict(&x).shape(), &[5, 1]);
/// assert_eq!(model.layer_names(), vec!["dense", "relu", "dense_1"]);
/// assert_eq!(model.num_parameters(), 2 * 8 + 8 + 8 + 1);
/// ```
pub struct Sequential {
    pub(crate) layers: Vec<Box<dyn Layer>>,
    names: Vec<String>,
    /// Per layer: frozen layers are not updated by training.
    frozen: Vec<bool>,
    /// Per layer, after the last [`Sequential::forward`]: whether the layer ran inside the
    /// one before it ([`Layer::forward_fused`]), so that backward skips it.
    absorbed: Vec<bool>,
    pub(crate) compiled: Option<crate::train::Compiled>,
}

impl Default for Sequential {
    fn default() -> Self {
        Sequential::new()
    }
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequential")
            .field("layers", &self.names)
            .finish()
    }
}

impl Sequential {
    /// An empty model.
    pub fn new() -> Sequential {
        Sequential {
            layers: Vec::new(),
            names: Vec::new(),
            frozen: Vec::new(),
            absorbed: Vec::new(),
            compiled: None,
        }
    }

    /// Appends a layer (builder style): `Sequential::new().add(Dense::new(4, 2))`.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Layer + 'static) -> Sequential {
        self.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer in place; its name is made unique Keras-style (`dense`, `dense_1`).
    pub fn push(&mut self, layer: Box<dyn Layer>) {
        let base = layer.name().to_string();
        let count = self
            .names
            .iter()
            .filter(|n| {
                **n == base
                    || n.strip_prefix(&format!("{base}_"))
                        .is_some_and(|s| s.parse::<usize>().is_ok())
            })
            .count();
        let name = if count == 0 {
            base
        } else {
            format!("{base}_{count}")
        };
        self.names.push(name);
        self.layers.push(layer);
        self.frozen.push(false);
    }

    /// Freezes the layer called `name`: training leaves its parameters as they are (their
    /// gradients are not used), as Keras' `layer.trainable = False`. A frozen part at the
    /// bottom of a model is not even back-propagated through.
    ///
    /// **Panics** if no layer has that name (the message lists the names).
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// seed(0);
    /// let mut model = Sequential::new().add(Dense::new(2, 4)).add(Relu::new()).add(Dense::new(4, 1));
    /// model.freeze("dense");
    /// let before = model.layers()[0].parameters()[0].value.clone();
    /// model.compile(Sgd::new(0.1), Loss::Mse, &[]);
    /// let x = init::normal(&[16, 2], 0.0, 1.0);
    /// model.fit(&x, &x.sum_axis(Axis(1)).insert_axis(Axis(1)), FitOptions::new().epochs(2).verbose(false));
    /// assert_eq!(model.layers()[0].parameters()[0].value, before); // frozen
    /// assert_eq!(model.num_trainable_parameters(), 4 + 1);
    /// ```
    #[track_caller]
    pub fn freeze(&mut self, name: &str) {
        let i = self.index_of(name);
        self.frozen[i] = true;
    }

    /// Makes a frozen layer trainable again.
    #[track_caller]
    pub fn unfreeze(&mut self, name: &str) {
        let i = self.index_of(name);
        self.frozen[i] = false;
    }

    /// True if the layer called `name` is frozen.
    #[track_caller]
    pub fn is_frozen(&self, name: &str) -> bool {
        self.frozen[self.index_of(name)]
    }

    #[track_caller]
    fn index_of(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no layer called {name:?}; the layers are {:?}", self.names))
    }

    /// The parameters training updates (those of layers that are not frozen), mutably.
    pub(crate) fn trainable_parameters_mut(&mut self) -> Vec<&mut Parameter> {
        self.layers
            .iter_mut()
            .zip(&self.frozen)
            .filter(|(_, frozen)| !**frozen)
            .flat_map(|(l, _)| l.parameters_mut())
            .collect()
    }

    /// Number of scalars training updates.
    pub fn num_trainable_parameters(&self) -> usize {
        self.layers
            .iter()
            .zip(&self.frozen)
            .filter(|(_, frozen)| !**frozen)
            .flat_map(|(l, _)| l.parameters())
            .map(|p| p.len())
            .sum()
    }

    /// Splits the model in two at layer `at`: `self` keeps the layers before it, the
    /// returned model has the rest (trained weights and frozen marks included), like
    /// `Vec::split_off`. How a trained part is reused in a new model.
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// let mut model = Sequential::new().add(Dense::new(4, 2)).add(Relu::new()).add(Dense::new(2, 4));
    /// let decoder = model.split_off(2);
    /// assert_eq!(model.layer_names(), vec!["dense", "relu"]);
    /// assert_eq!(decoder.layer_names(), vec!["dense"]);
    /// ```
    #[track_caller]
    pub fn split_off(&mut self, at: usize) -> Sequential {
        assert!(
            at <= self.len(),
            "split_off: at {at} of a model with {} layers",
            self.len()
        );
        let mut rest = Sequential::new();
        let frozen = self.frozen.split_off(at);
        self.absorbed.clear(); // the forward pass's record is no longer whole
        self.names.truncate(at);
        for (layer, frozen) in self.layers.split_off(at).into_iter().zip(frozen) {
            rest.push(layer);
            *rest.frozen.last_mut().expect("just pushed") = frozen;
        }
        rest
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// The module of the [`Autograd`](crate::nn::Autograd) layer called `name`, as its own type
    /// (`None` if that layer is not an `M`).
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// use dl_core::models::{Gpt, GptConfig};
    /// let gpt = Gpt::new(GptConfig { vocab: 4, context: 4, width: 8, heads: 2, blocks: 1 });
    /// let model = Sequential::new().add(Autograd::new(gpt));
    /// assert_eq!(model.module::<Gpt>("gpt").unwrap().config().vocab, 4);
    /// ```
    #[track_caller]
    pub fn module<M: 'static>(&self, name: &str) -> Option<&M> {
        self.layers[self.index_of(name)]
            .module_any()?
            .downcast_ref::<M>()
    }

    /// The layers, mutably.
    pub fn layers_mut(&mut self) -> &mut [Box<dyn Layer>] {
        &mut self.layers
    }

    /// The unique layer names (`dense`, `relu`, `dense_1`, ...).
    pub fn layer_names(&self) -> Vec<&str> {
        self.names.iter().map(|s| s.as_str()).collect()
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True if the model has no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Runs every layer forward; a layer that can fuse itself with the next one for training
    /// (see [`Layer::forward_fused`]) runs both.
    #[track_caller]
    pub fn forward(&mut self, input: &Tensor, mode: Mode) -> Tensor {
        self.absorbed.clear();
        self.absorbed.resize(self.layers.len(), false);
        let mut x = std::borrow::Cow::Borrowed(input);
        let mut i = 0;
        while i < self.layers.len() {
            let (layer, after) = self.layers[i..].split_first_mut().expect("i < len");
            let fused = after
                .first()
                .and_then(|next| layer.forward_fused(&x, next.as_ref(), mode));
            x = std::borrow::Cow::Owned(match fused {
                Some(y) => {
                    self.absorbed[i + 1] = true;
                    i += 2;
                    y
                }
                None => {
                    i += 1;
                    layer.forward(&x, mode)
                }
            });
        }
        x.into_owned()
    }

    /// Runs every layer in `Mode::Eval` without caching anything (see [`Layer::infer`]); a
    /// layer that can fuse itself with the next one (see [`Layer::infer_fused`]) runs both.
    #[track_caller]
    pub fn infer(&self, input: &Tensor) -> Tensor {
        let mut x = std::borrow::Cow::Borrowed(input);
        let mut i = 0;
        while i < self.layers.len() {
            let layer = &self.layers[i];
            if !layer.reads_any_layout() && !x.is_standard_layout() {
                x = std::borrow::Cow::Owned(x.as_standard_layout().into_owned());
            }
            let fused = self
                .layers
                .get(i + 1)
                .and_then(|next| layer.infer_fused(&x, next.as_ref()));
            x = std::borrow::Cow::Owned(match fused {
                Some(y) => {
                    i += 2;
                    y
                }
                None => {
                    i += 1;
                    layer.infer(&x)
                }
            });
        }
        // A fused layer may leave its output in another memory layout (its strides say
        // which); the model's output is always row-major.
        let y = x.into_owned();
        if y.is_standard_layout() {
            y
        } else {
            y.as_standard_layout().into_owned()
        }
    }

    /// Runs every layer backward from `∂L/∂output`; returns `∂L/∂input`. A layer that ran
    /// inside the one before it in forward is skipped: that one's backward covers both.
    #[track_caller]
    pub fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        let mut g = grad_output.clone();
        for (i, layer) in self.layers.iter_mut().enumerate().rev() {
            if !self.absorbed.get(i).copied().unwrap_or(false) {
                g = layer.backward(&g);
            }
        }
        g
    }

    /// Backward for training: the same parameter gradients as [`Sequential::backward`], but
    /// the first layer skips `∂L/∂input`, which training never reads (see
    /// [`Layer::backward_parameters`]).
    #[track_caller]
    pub fn backward_parameters(&mut self, grad_output: &Tensor) {
        // Layers below the lowest trainable one need no gradient at all.
        let Some(lowest) = self.frozen.iter().position(|frozen| !frozen) else {
            return;
        };
        // The lowest layer that runs its own backward (one absorbed by a frozen layer below
        // has no parameters, and nothing under it needs a gradient).
        let absorbed = &self.absorbed;
        let skipped = |i: usize| absorbed.get(i).copied().unwrap_or(false);
        let Some(lowest) = (lowest..self.layers.len()).find(|&i| !skipped(i)) else {
            return;
        };
        let (first, rest) = self.layers[lowest..]
            .split_first_mut()
            .expect("lowest < len");
        let mut g = grad_output.clone();
        for (i, layer) in rest.iter_mut().enumerate().rev() {
            if !skipped(lowest + 1 + i) {
                g = layer.backward(&g);
            }
        }
        first.backward_parameters(&g);
    }

    /// Inference on a whole data set in batches of 256, in `Mode::Eval`; the model is not
    /// changed.
    #[track_caller]
    pub fn predict(&self, x: &Tensor) -> Tensor {
        let n = x.shape().first().copied().unwrap_or(0);
        let batch = 256;
        if n <= batch {
            return self.infer(x);
        }
        let mut parts = Vec::new();
        let mut start = 0;
        while start < n {
            let end = (start + batch).min(n);
            let xb = x
                .slice_axis(ndarray::Axis(0), (start..end).into())
                .to_owned();
            parts.push(self.infer(&xb));
            start = end;
        }
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        ndarray::concatenate(ndarray::Axis(0), &views).expect("same trailing shapes")
    }

    /// All parameters, layer by layer.
    pub fn parameters(&self) -> Vec<&Parameter> {
        self.layers.iter().flat_map(|l| l.parameters()).collect()
    }

    /// All parameters, mutably, in the same order as [`Sequential::parameters`].
    pub fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.parameters_mut())
            .collect()
    }

    /// Parameters with their full names, e.g. `("dense_1.weight", &p)`.
    pub fn named_parameters(&self) -> Vec<(String, &Parameter)> {
        self.layers
            .iter()
            .zip(&self.names)
            .flat_map(|(l, n)| {
                l.parameters()
                    .into_iter()
                    .map(move |p| (format!("{n}.{}", p.name), p))
            })
            .collect()
    }

    /// Total number of trainable scalars.
    pub fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.len()).sum()
    }

    /// Clears every parameter gradient.
    pub fn zero_grad(&mut self) {
        for p in self.parameters_mut() {
            p.zero_grad();
        }
    }

    /// A Keras-like summary table for inputs of `input_shape` (batch axis excluded).
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// let model = Sequential::new().add(Dense::new(4, 3)).add(Softmax::new());
    /// let s = model.summary(&[4]);
    /// assert!(s.contains("dense") && s.contains("(None, 3)") && s.contains("Total params: 15"));
    /// ```
    pub fn summary(&self, input_shape: &[usize]) -> String {
        let mut shape: Vec<usize> = std::iter::once(1)
            .chain(input_shape.iter().copied())
            .collect();
        let mut out = String::new();
        out.push_str(&format!(
            "{:<20} {:<20} {:>10}\n",
            "Layer", "Output shape", "Params"
        ));
        out.push_str(&format!("{}\n", "=".repeat(52)));
        for (layer, name) in self.layers.iter().zip(&self.names) {
            shape = layer.output_shape(&shape);
            let dims: Vec<String> = shape[1..].iter().map(|d| d.to_string()).collect();
            let shown = format!("(None, {})", dims.join(", "));
            let count: usize = layer.parameters().iter().map(|p| p.len()).sum();
            out.push_str(&format!("{name:<20} {shown:<20} {count:>10}\n"));
        }
        out.push_str(&format!("{}\n", "=".repeat(52)));
        out.push_str(&format!("Total params: {}\n", self.num_parameters()));
        out
    }
}

impl crate::display::Show for Sequential {
    /// The layers, their configurations and parameter counts (use [`Sequential::summary`] for
    /// output shapes).
    fn mime_bundle(&self) -> crate::display::MimeBundle {
        let mut text = String::from("Sequential\n");
        let mut html = String::from(
            "<table style=\"border-collapse:collapse;font-family:monospace;font-size:12px\">\
             <tr><th style=\"text-align:left;padding:2px 8px\">layer</th>\
             <th style=\"text-align:left;padding:2px 8px\">configuration</th>\
             <th style=\"text-align:right;padding:2px 8px\">parameters</th></tr>",
        );
        for (layer, name) in self.layers.iter().zip(&self.names) {
            let config = serde_json::to_string(&layer.config()).unwrap_or_default();
            let count: usize = layer.parameters().iter().map(|p| p.len()).sum();
            text.push_str(&format!("  {name:<16} {config} ({count} parameters)\n"));
            html.push_str(&format!(
                "<tr><td style=\"padding:2px 8px\">{name}</td><td style=\"padding:2px 8px\">{}</td>\
                 <td style=\"text-align:right;padding:2px 8px\">{count}</td></tr>",
                config.replace('&', "&amp;").replace('<', "&lt;")
            ));
        }
        text.push_str(&format!("Total parameters: {}", self.num_parameters()));
        html.push_str(&format!(
            "</table><div style=\"font-size:11px\">Total parameters: {}</div>",
            self.num_parameters()
        ));
        crate::display::MimeBundle::text(&text).with_html(&html)
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    /// The parameter gradients of every layer, in order.
    fn gradients(model: &Sequential) -> Vec<Vec<f32>> {
        model
            .parameters()
            .iter()
            .map(|p| p.grad.iter().copied().collect())
            .collect()
    }

    /// Backward, then backward without the first layer's input gradient: the same gradients.
    fn assert_same_gradients(mut model: Sequential, x: &Tensor, g: &Tensor) {
        model.forward(x, Mode::Train);
        let dx = model.backward(g);
        assert_eq!(dx.shape(), x.shape());
        let full = gradients(&model);
        model.zero_grad();
        model.forward(x, Mode::Train);
        model.backward_parameters(g);
        let without_input_gradient = gradients(&model);
        assert!(full.iter().flatten().any(|v| *v != 0.0));
        assert_eq!(full, without_input_gradient);
    }

    #[test]
    fn backward_parameters_gives_the_gradients_of_backward() {
        crate::seed(0);
        let cnn = Sequential::new()
            .add(Conv2d::new(1, 4, 3).relu())
            .add(MaxPool2d::new(2))
            .add(Flatten::new())
            .add(Dense::new(4 * 3 * 3, 3));
        let x = crate::init::uniform(&[5, 1, 8, 8], -1.0, 1.0);
        let g = crate::init::uniform(&[5, 3], -1.0, 1.0);
        assert_same_gradients(cnn, &x, &g);
        let mlp = Sequential::new()
            .add(Dense::new(6, 8))
            .add(Tanh::new())
            .add(Dense::new(8, 3));
        let x = crate::init::uniform(&[5, 6], -1.0, 1.0);
        assert_same_gradients(mlp, &x, &g);
        let rnn = Sequential::new().add(Lstm::new(2, 4)).add(Dense::new(4, 3));
        let x = crate::init::uniform(&[5, 7, 2], -1.0, 1.0);
        assert_same_gradients(rnn, &x, &g);
    }

    #[test]
    fn infer_gives_what_forward_gives_in_eval_mode_for_every_layer() {
        crate::seed(3);
        let rows = crate::init::normal(&[5, 3], 0.0, 1.0);
        let images = crate::init::normal(&[2, 3, 6, 6], 0.0, 1.0);
        let sequences = crate::init::normal(&[5, 6, 3], 0.0, 1.0);
        let ids = crate::tensor::from_vec(&[2, 3], vec![0.0, 4.0, 9.0, 1.0, 1.0, 7.0]);
        let mut batch_norm = BatchNorm::new(3);
        batch_norm.forward(&rows, Mode::Train); // running statistics away from 0 and 1
        let cases: Vec<(Box<dyn Layer>, &Tensor)> = vec![
            (Box::new(Dense::new(3, 4)), &rows),
            (Box::new(Relu::new()), &rows),
            (Box::new(LeakyRelu::new(0.1)), &rows),
            (Box::new(Sigmoid::new()), &rows),
            (Box::new(Tanh::new()), &rows),
            (Box::new(Softmax::new()), &rows),
            (Box::new(Dropout::new(0.5)), &rows),
            (Box::new(batch_norm), &rows),
            (Box::new(Embedding::new(10, 4)), &ids),
            (Box::new(Flatten::new()), &images),
            (Box::new(Conv2d::new(3, 4, 3).relu()), &images),
            (Box::new(Conv2d::new(3, 2, 3).with_padding(1)), &images),
            (Box::new(MaxPool2d::new(2)), &images),
            (
                Box::new(AvgPool2d::new(3).with_stride(2).with_padding(1)),
                &images,
            ),
            (Box::new(SimpleRnn::new(3, 4)), &sequences),
            (Box::new(Lstm::new(3, 4).return_sequences(true)), &sequences),
            (Box::new(Gru::new(3, 4)), &sequences),
        ];
        for (mut layer, x) in cases {
            let inferred = layer.infer(x);
            assert_eq!(inferred, layer.forward(x, Mode::Eval), "{}", layer.name());
            assert_eq!(
                inferred.shape(),
                layer.output_shape(x.shape()),
                "{}",
                layer.name()
            );
        }
    }
}
