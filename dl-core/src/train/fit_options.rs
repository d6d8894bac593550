//! Options for `fit`: epochs, batch size, validation, shuffling, callbacks, schedule.

use crate::optim::LrSchedule;
use crate::tensor::Tensor;
use crate::train::Callback;

/// Options for [`Sequential::fit`](crate::nn::Sequential::fit), built Keras-style.
///
/// ```
/// use dl_core::prelude::*;
/// let options = FitOptions::new()
///     .epochs(20)
///     .batch_size(32)
///     .validation_split(0.2)
///     .seed(42)
///     .callback(EarlyStopping::new("val_loss", 3))
///     .verbose(false);
/// assert_eq!(options.epochs, 20);
/// ```
pub struct FitOptions {
    /// Passes over the training data (default 1).
    pub epochs: usize,
    /// Samples per gradient step (default 32).
    pub batch_size: usize,
    /// Fraction of the data, taken from the end before shuffling, held out for validation.
    pub validation_split: f32,
    /// Explicit validation data (takes precedence over `validation_split`).
    pub validation_data: Option<(Tensor, Tensor)>,
    /// Shuffle the training samples every epoch (default true).
    pub shuffle: bool,
    /// Seed for shuffling; `None` draws from the crate-wide generator.
    pub seed: Option<u64>,
    /// Called at the end of each epoch.
    pub callbacks: Vec<Box<dyn Callback>>,
    /// Show progress (default true): live bar and plot in the kernel, one line per epoch elsewhere.
    pub verbose: bool,
    /// Learning-rate schedule over epochs (default constant).
    pub lr_schedule: LrSchedule,
    /// Rescale the gradients so their global L2 norm is at most this (Keras `global_clipnorm`).
    pub clip_grad_norm: Option<f32>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions::new()
    }
}

impl FitOptions {
    /// Defaults: 1 epoch, batch size 32, no validation, shuffled, verbose.
    pub fn new() -> FitOptions {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            validation_split: 0.0,
            validation_data: None,
            shuffle: true,
            seed: None,
            callbacks: Vec::new(),
            verbose: true,
            lr_schedule: LrSchedule::Constant,
            clip_grad_norm: None,
        }
    }
    /// Number of epochs.
    pub fn epochs(mut self, num_epochs: usize) -> Self {
        self.epochs = num_epochs;
        self
    }
    /// Mini-batch size.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }
    /// Hold out the last `fraction` of the samples for validation.
    #[track_caller]
    pub fn validation_split(mut self, fraction: f32) -> Self {
        assert!(
            (0.0..1.0).contains(&fraction),
            "validation_split must be in [0, 1), got {fraction}"
        );
        self.validation_split = fraction;
        self
    }
    /// Validate on `(x_val, y_val)` after each epoch.
    pub fn validation_data(mut self, x_val: &Tensor, y_val: &Tensor) -> Self {
        self.validation_data = Some((x_val.clone(), y_val.clone()));
        self
    }
    /// Shuffle each epoch or not.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    /// Seed the shuffling.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Add a callback (early stopping, checkpoint, your own).
    pub fn callback(mut self, callback: impl Callback + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }
    /// Progress output on or off.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }
    /// Clip the global gradient norm to `max_norm` before each optimiser step (useful for RNNs).
    pub fn clip_grad_norm(mut self, max_norm: f32) -> Self {
        self.clip_grad_norm = Some(max_norm);
        self
    }
    /// Learning-rate schedule.
    pub fn lr_schedule(mut self, schedule: LrSchedule) -> Self {
        self.lr_schedule = schedule;
        self
    }
}
