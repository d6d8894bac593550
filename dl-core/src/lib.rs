//! # dl-core: a teachable deep-learning library on `ndarray`
//!
//! dl-core is the library the book teaches with. Its source reads like the book: one concept
//! per file, each file opening with the maths it implements. Readers coming from Python start
//! at the [`guide`] ("dl-core for Keras, PyTorch and NumPy users").
//!
//! ```
//! use dl_core::prelude::*;
//! dl_core::seed(42);
//! let x = dl_core::init::uniform(&[200, 2], 0.0, 1.0);
//! let y = x.map_axis(Axis(1), |r| (r[0] > 0.5) as u8 as f32).into_dyn();
//! let mut model = Sequential::new()
//!     .add(Dense::new(2, 16))
//!     .add(Relu::new())
//!     .add(Dense::new(16, 2))
//!     .add(Softmax::new());
//! model.compile(Adam::new(0.01), Loss::SparseCategoricalCrossEntropy, &[Metric::Accuracy]);
//! let history = model.fit(&x, &y, FitOptions::new().epochs(20).batch_size(16).verbose(false));
//! assert!(history.last("accuracy").unwrap() > 0.9);
//! ```
//!
//! ## Design decisions
//!
//! - **Per-layer forward and backward first, autograd beside them.** Every built-in layer
//!   implements [`nn::Layer`]: `forward` caches what it needs, `backward` takes `∂L/∂y`,
//!   *accumulates* the gradients of its named [`nn::Parameter`]s and returns `∂L/∂x` (the
//!   input gradient that saliency maps use). This is the structure the book draws on the
//!   blackboard, each derivative is written out next to its formula, and big operations
//!   (GEMM, convolution, RNN cells) get fused hand-written kernels. Beside them,
//!   [`autograd`] derives gradients (a [`autograd::Var`] records each operation; `backward`
//!   applies the chain rule), so a layer of your own is a forward pass only
//!   ([`nn::Module`], made a layer by [`nn::Autograd`]), and the two compose both ways. A
//!   public numeric [`gradcheck`] verifies every backward pass, written or derived, against
//!   central differences.
//! - **Keras-shaped surface.** [`nn::Sequential`] with `compile` / `fit` / `evaluate` /
//!   `predict` returning a [`train::History`], because the book's code is Keras.
//!   Parameters are named (`dense_1.weight`) for summaries, saving and teaching.
//! - **Input sizes are explicit**: `Dense::new(784, 128)`, `Conv2d::new(1, 32, 3)`. Keras infers
//!   them lazily at the first call; explicit sizes make every parameter exist at construction
//!   (summary, optimiser state, save/load and gradient checks need no dummy batch) and make a
//!   wrong size fail at once with both shapes named. The [`guide`] maps `Dense(128)` to it.
//! - **One tensor type**: [`Tensor`] = `ndarray::ArrayD<f32>`, batch first (`[n, features]`,
//!   images `[n, c, h, w]`, sequences `[n, t, features]`). f32, owned values, no generics in the
//!   public API.
//! - **One seeded generator**: [`seed`]`(42)` makes weights, dropout, shuffling and splits
//!   reproducible ([`rng`], xoshiro256++; kept per thread). In the kernel every cell links its
//!   own copy of dl-core, so there the generator is one state for the whole process
//!   ([`process_wide`]) and a seed set in one cell carries to the next.
//! - **Errors**: a shape mismatch in code panics (`#[track_caller]`) naming the operation and
//!   both shapes; anything read from a file returns [`Result`] with a [`DlError`] that names
//!   the path (or, for a model, the layer and both shapes).
//! - **The notebook protocol**: rich output is one `DLK_DISPLAY {json}` line on stdout when
//!   `DL_KERNEL=1` ([`display`]: PNG + SVG + text/plain bundles, display ids for in-place
//!   updates); long loops poll [`interrupt::requested`] once per batch and stop keeping what
//!   they have. Outside the kernel dl-core prints plain text.
//! - **Plots without system fonts**: plotters with the `ab_glyph` backend and the bundled
//!   DejaVu Sans; plotters' `ttf` feature must never be enabled (it would prefer system fonts).
//!
//! ## Naming rules
//!
//! One grammar for the whole public API, notebooks included:
//!
//! - **Case** follows Rust's API guidelines: types are `UpperCamelCase` with acronyms as
//!   words (`Relu`, `LeakyRelu`, `Lstm`, `Gru`, `Sgd`, `Mse`), functions and modules
//!   `snake_case`.
//! - **Truth first, then prediction** in every function that compares the two, losses and
//!   metrics alike (scikit-learn's and Keras' order): `Loss::compute(&y, &y_hat)`,
//!   `Loss::gradient(&y, &y_hat)`, `loss::mse(&y, &y_hat)`,
//!   `metrics::accuracy(&y_true, &y_pred)`, `metrics::r2_score(&y, &y_hat)`,
//!   `gradcheck::check_loss(loss, &y, &y_hat, eps)`.
//! - **Data files are read with `read_*` and written with `write_*`**: `data::read_csv`,
//!   `read_csv_headerless`, `read_mnist`, `read_text`, `read_image`, `write_png`. A value that
//!   owns its file format is saved with a `save` method (`model.save(path)`,
//!   `figure.save(path)`), and a model is loaded back with `Sequential::load(path)`.
//! - **Plots are `plot::<what they draw>`**, nouns, each returning a [`plot::Figure`]:
//!   `plot::line`, `plot::scatter`, `plot::histogram`, `plot::heatmap`, `plot::diverging_heatmap`,
//!   `plot::confusion_matrix`, `plot::fit_line`, `plot::decision_boundary`,
//!   `plot::image_grid`; a result that can draw itself has a `.plot()` method
//!   (`History::plot`, `RocCurve::plot`).
//! - **One type per role in a plot**: the data drawn are a `&Tensor` (values in order, points
//!   `[n, 2]`, images `[n, h, w]` or `[n, c, h, w]`), class labels `&[usize]`, names and
//!   captions `&[impl AsRef<str>]`, matrices `&Array2`; only a line's series (numbers
//!   collected along the way, like a loss per epoch) and the `Figure` builder's coordinates
//!   are `&[f32]`.
//! - **`fit` learns, `predict` answers**: `Sequential::fit`, `LinearRegression::fit`,
//!   `LogisticRegression::fit`, `Standardizer::fit` (another algorithm says so:
//!   `LinearRegression::fit_closed_form`); `predict` and `evaluate` take `&self` and leave
//!   the model as it was.
//! - **Builders say what they change**: `with_*` returns the value with one setting changed
//!   (`Conv2d::with_stride`, `Dense::with_init`); `new` takes the sizes, in the order data
//!   flow through them (`Dense::new(in, out)`).
//! - **No bare booleans in calls**: a choice between two behaviours is an enum
//!   (`Mode::Train`, `gemm`'s `Stored::Transposed` and `Output::Accumulate`).
//! - **ndarray's conversions**: `to_*` allocates, `into_*` consumes, `as_*` borrows.
//!
//! ## Modules
//!
//! | module | what |
//! |---|---|
//! | [`tensor`], [`rng`], [`init`] | the tensor type and helpers; the seeded generator; initialisers |
//! | [`nn`] | `Layer`, `Parameter`, `Mode`, `LayerConfig`; layers in families (dense, activation, conv, recurrent, norm, regularization, reshape); `Sequential` |
//! | [`loss`] | MSE, MAE, binary and (sparse) categorical cross-entropy, from probabilities or logits |
//! | [`optim`] | SGD, Momentum, Adam (weight decay), learning-rate schedules |
//! | [`train`] | compile, fit, evaluate; `FitOptions`, `History`, callbacks, live progress |
//! | [`models`] | `LinearRegression` (GD and closed form), `LogisticRegression` |
//! | [`data`] | CSV tables (text columns kept), images in and out, image shifts for augmentation, imputation, outliers, scaling, one-hot, splits, batches, MNIST, windows, vocabularies |
//! | [`metrics`], [`model_selection`] | classification and regression metrics; k-fold, stratified, leave-one-out, `cross_val_score` |
//! | [`plot`] | figures rendered to PNG and SVG, shown inline or saved |
//! | [`display`], [`interrupt`] | the kernel protocol: rich output and cooperative interrupt |
//! | [`widgets`] | ipywidgets from Rust: sliders, dropdown, checkbox, button, text, boxes, output, `interact` |
//! | [`io`] | save and load models |
//! | [`autograd`] | reverse-mode automatic differentiation: `Var`, its operations, `backward` |
//! | [`gradcheck`] | numeric gradient checking |
//! | [`ops`] | fast kernels: GEMM, im2col convolution, pooling, vectorised exp/sigmoid/tanh |
//! | [`guide`] | dl-core for Keras, PyTorch and NumPy users |
//! | [`prelude`] | what every notebook has in scope |

#![warn(missing_docs)]

pub mod autograd;
pub mod data;
pub mod display;
pub mod error;
pub mod gradcheck;
pub mod guide;
pub mod init;
pub mod interrupt;
pub mod io;
pub mod loss;
pub mod metrics;
pub mod model_selection;
pub mod models;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod plot;
pub mod process_wide;
pub mod rng;
pub mod tensor;
pub mod train;
pub mod widgets;

pub use error::{DlError, Result};
/// The array crate dl-core is built on (for `Ix2`, `Zip`, ... in a cell).
pub use ndarray;
pub use rng::seed;
pub use tensor::Tensor;

/// What every notebook has in scope: `use dl_core::prelude::*;`.
///
/// A whole chapter's worth, from the prelude alone:
///
/// ```
/// use dl_core::prelude::*;
/// seed(42);
/// // Data: the book's toy problem, split and standardised.
/// let x = init::uniform(&[400, 2], 0.0, 1.0);
/// let y = x.map_axis(Axis(1), |r| (r[0] > 0.5) as u8 as f32).into_dyn();
/// let split = train_test_split(&x, &y, 0.25, 0);
/// let scaler = Standardizer::fit(&split.x_train);
/// let (x_train, x_test) = (scaler.transform(&split.x_train), scaler.transform(&split.x_test));
/// // Model, training with live progress (verbose), evaluation.
/// let mut model = Sequential::new().add(Dense::new(2, 8)).add(Relu::new()).add(Dense::new(8, 1));
/// model.compile(Adam::new(0.02), Loss::BinaryCrossEntropyWithLogits, &[Metric::Accuracy]);
/// let history = model.fit(&x_train, &split.y_train, FitOptions::new().epochs(30).validation_split(0.2).verbose(false));
/// let accuracy = model.evaluate(&x_test, &split.y_test).get("accuracy").unwrap();
/// assert!(accuracy > 0.9);
/// // Metrics and plots.
/// let logits = model.predict(&x_test);
/// let y_pred = metrics::predicted_classes_with_threshold(&logits, 0.0);
/// let cm = metrics::confusion_matrix(&metrics::labels(&split.y_test), &y_pred, 2);
/// plot::confusion_matrix(&cm, &["x₀ ≤ 0.5", "x₀ > 0.5"]).show();
/// history.plot().show();
/// plot::decision_boundary("boundary", &x_test, &y_pred, |g| model.predict(g).mapv(|z| (z > 0.0) as u8 as f32)).show();
/// ```
pub mod prelude {
    pub use crate::autograd::{self, Var};
    pub use crate::data::{
        BatchIterator, CharVocab, Color, MinMaxScaler, Standardizer, Table, one_hot, read_csv,
        read_image, read_mnist, read_text, resize_image, sliding_windows, train_test_split,
        write_png,
    };
    pub use crate::display::{MimeBundle, Show, show};
    pub use crate::init::Initializer;
    pub use crate::loss::Loss;
    pub use crate::metrics::Metric;
    pub use crate::models::{LinearRegression, LogisticRegression};
    pub use crate::nn::activation::*;
    pub use crate::nn::conv::*;
    pub use crate::nn::dense::*;
    pub use crate::nn::norm::*;
    pub use crate::nn::recurrent::{Gru, Lstm, SimpleRnn};
    pub use crate::nn::regularization::*;
    pub use crate::nn::reshape::*;
    pub use crate::nn::{
        Autograd, Layer, LayerConfig, Mode, Module, Parameter, Sequential, Tape, clip_grad_norm,
    };
    pub use crate::optim::{Adam, LrSchedule, Momentum, Optimizer, Sgd};
    pub use crate::plot::Figure;
    pub use crate::seed;
    pub use crate::tensor::Tensor;
    pub use crate::train::{
        Callback, EarlyStopping, Evaluation, FitOptions, History, ModelCheckpoint, StopReason,
    };
    pub use crate::{data, gradcheck, init, metrics, model_selection, plot, tensor};
    pub use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn, array, s};
}
