//! # dl-core: a teachable deep-learning library on `ndarray`
//!
//! Placeholder crate docs; the full design is written below once the modules land.

#![warn(missing_docs)]

pub mod data;
pub mod display;
pub mod error;
pub mod gradcheck;
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
pub mod rng;
pub mod tensor;
pub mod train;

pub use error::{DlError, Result};
/// The array crate dl-core is built on (for `Ix2`, `Zip`, ... in a cell).
pub use ndarray;
pub use rng::seed;
pub use tensor::Tensor;

/// What every notebook has in scope: `use dl_core::prelude::*;`.
pub mod prelude {
    pub use crate::display::{MimeBundle, Show, show};
    pub use crate::init::Initializer;
    pub use crate::loss::Loss;
    pub use crate::metrics::Metric;
    pub use crate::models::{LinearRegression, LogisticRegression};
    pub use crate::nn::{
        AvgPool2d, BatchNorm, Conv2d, Dense, Dropout, Embedding, Flatten, Gru, Layer, LayerConfig,
        LeakyReLU, Lstm, MaxPool2d, Mode, Parameter, ReLU, Sequential, Sigmoid, SimpleRnn, Softmax,
        Tanh, clip_grad_norm,
    };
    pub use crate::optim::{Adam, LrSchedule, Momentum, Optimizer, Sgd};
    pub use crate::plot::{
        Figure, confusion_matrix_plot, decision_boundary, fit_line, heatmap, histogram, image_grid,
        line_plot, scatter_by_class,
    };
    pub use crate::seed;
    pub use crate::tensor::Tensor;
    pub use crate::train::{
        Callback, EarlyStopping, Evaluation, FitOptions, History, ModelCheckpoint, StopReason,
    };
    pub use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn, array, s};
}
