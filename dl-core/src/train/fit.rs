//! The fit loop, `evaluate`, and the metric bookkeeping they share.
//!
//! `fit` runs, per epoch, a training step over shuffled batches ([`Sequential::fit`]'s
//! `train_epoch`: forward, loss, backward, optimiser step) and a validation step
//! (`evaluate` on the held-out part), then the callbacks. The data are borrowed: a
//! validation split is a view of the caller's tensors, and each batch gathers its rows.

use crate::interrupt;
use crate::metrics::{Metric, MetricAccumulator};
use crate::nn::{Mode, Sequential};
use crate::rng::Rng;
use crate::tensor::{Tensor, select_view_rows};
use crate::train::Compiled;
use crate::train::progress::Progress;
use crate::train::{CallbackAction, Evaluation, FitOptions, History, StopReason};
use ndarray::{ArrayViewD, Axis};
use std::collections::BTreeMap;

#[track_caller]
fn check_pair(op: &str, x: &ArrayViewD<'_, f32>, y: &ArrayViewD<'_, f32>) -> usize {
    let n = x.shape().first().copied().unwrap_or(0);
    let m = y.shape().first().copied().unwrap_or(0);
    assert!(
        n == m,
        "{op}: x has shape {:?} and y has shape {:?}: the sample counts (first axes) differ",
        x.shape(),
        y.shape()
    );
    assert!(n > 0, "{op}: no samples (x has shape {:?})", x.shape());
    n
}

/// A data set borrowed from the caller: inputs and targets, the same number of rows.
type Data<'a> = (ArrayViewD<'a, f32>, ArrayViewD<'a, f32>);

/// Keras accepts `[n]` targets for `[n, 1]` outputs (and the reverse): reshape them to match.
fn align_targets(loss: crate::loss::Loss, y_hat: &Tensor, y: Tensor) -> Tensor {
    use crate::loss::Loss::*;
    let sparse = matches!(
        loss,
        SparseCategoricalCrossEntropy | SparseCategoricalCrossEntropyWithLogits
    );
    if sparse || y.shape() == y_hat.shape() || y.len() != y_hat.len() {
        return y;
    }
    let trailing_ones = |t: &Tensor| t.shape().iter().skip(1).all(|&d| d == 1);
    if trailing_ones(&y) && trailing_ones(y_hat) {
        y.into_shape_with_order(y_hat.raw_dim())
            .expect("same length")
    } else {
        y
    }
}

impl Sequential {
    /// Trains the model (Keras `model.fit`) and returns the per-epoch [`History`].
    ///
    /// Stops early on an interrupt from the kernel, on a NaN or infinite loss (the history's
    /// `stop_reason` names the epoch and batch) or when a callback asks to.
    ///
    /// **Panics** if the model is not compiled, or if `x` and `y` have different sample counts.
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// dl_core::seed(0);
    /// let x = dl_core::init::uniform(&[64, 1], 0.0, 1.0);
    /// let y = x.mapv(|v| 2.0 * v + 1.0);
    /// let mut model = Sequential::new().add(Dense::new(1, 1));
    /// model.compile(Sgd::new(0.5), Loss::Mse, &[Metric::Mae]);
    /// let history = model.fit(&x, &y, FitOptions::new().epochs(100).batch_size(16).verbose(false));
    /// assert!(history.last("loss").unwrap() < 1e-3);
    /// assert_eq!(history.stop_reason, StopReason::Completed);
    /// ```
    #[track_caller]
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, mut options: FitOptions) -> History {
        let n_all = check_pair("fit", &x.view(), &y.view());
        let initial_lr = self.compiled_mut("fit").optimizer.learning_rate();
        // Validation data: explicit, or the last fraction of the samples (as Keras does).
        // Training and validation parts are views of the caller's tensors, not copies.
        let explicit_validation = options.validation_data.take();
        let (train, validation): (Data, Option<Data>) = match &explicit_validation {
            Some((xv, yv)) => {
                check_pair("fit (validation_data)", &xv.view(), &yv.view());
                ((x.view(), y.view()), Some((xv.view(), yv.view())))
            }
            None if options.validation_split > 0.0 => {
                let n_val = ((n_all as f32) * options.validation_split).round() as usize;
                let split = n_all - n_val.clamp(1, n_all - 1);
                let (x_train, x_val) = x.view().split_at(Axis(0), split);
                let (y_train, y_val) = y.view().split_at(Axis(0), split);
                ((x_train, y_train), Some((x_val, y_val)))
            }
            None => ((x.view(), y.view()), None),
        };
        let batch_size = options.batch_size.max(1);
        let num_batches = train.0.shape()[0].div_ceil(batch_size);
        let mut rng = match options.seed {
            Some(s) => Rng::new(s),
            None => crate::rng::fork(),
        };
        let mut history = History::default();
        let mut progress = Progress::new(options.verbose, options.epochs, num_batches);

        for epoch in 0..options.epochs {
            let lr = options.lr_schedule.lr_at(initial_lr, epoch);
            self.compiled_mut("fit").optimizer.set_learning_rate(lr);
            let mut logs = match self.train_epoch(epoch, &train, &options, &mut rng, &mut progress)
            {
                Ok(logs) => logs,
                Err(reason) => {
                    history.stop_reason = reason;
                    break;
                }
            };
            if let Some((xv, yv)) = &validation {
                match self.evaluate_views(xv, yv, false) {
                    Ok(eval) => {
                        logs.insert("val_loss".into(), eval.loss);
                        for (k, v) in eval.metrics {
                            logs.insert(format!("val_{k}"), v);
                        }
                    }
                    Err(reason) => {
                        history.stop_reason = reason;
                        break;
                    }
                }
            }
            for (k, v) in &logs {
                history.push(k, *v);
            }
            progress.epoch_end(epoch, &history);
            let mut stop = false;
            for cb in options.callbacks.iter_mut() {
                stop |= cb.on_epoch_end(epoch + 1, &logs, self) == CallbackAction::Stop;
            }
            if stop {
                history.stop_reason = StopReason::EarlyStopped { epoch: epoch + 1 };
                break;
            }
        }
        self.compiled_mut("fit")
            .optimizer
            .set_learning_rate(initial_lr);
        progress.finish(&history);
        history
    }

    /// One epoch over `train` in shuffled batches: forward, loss, backward, optimiser step.
    /// Returns the epoch's mean loss and training metrics, or why training stopped (an
    /// interrupt, a non-finite loss).
    #[track_caller]
    fn train_epoch(
        &mut self,
        epoch: usize,
        (x, y): &Data,
        options: &FitOptions,
        rng: &mut Rng,
        progress: &mut Progress,
    ) -> Result<BTreeMap<String, f32>, StopReason> {
        let (loss_fn, metrics) = {
            let compiled = self.compiled_mut("fit");
            (compiled.loss, compiled.metrics.clone())
        };
        let mut order: Vec<usize> = (0..x.shape()[0]).collect();
        if options.shuffle {
            rng.shuffle(&mut order);
        }
        let mut loss_sum = 0.0f64;
        let mut seen = 0usize;
        let mut accumulators: Vec<MetricAccumulator> = metrics
            .iter()
            .map(|m| MetricAccumulator::new(*m, loss_fn.from_logits()))
            .collect();
        for (b, indices) in order.chunks(options.batch_size.max(1)).enumerate() {
            let at = (epoch + 1, b + 1);
            if interrupt::requested() {
                return Err(StopReason::Interrupted {
                    epoch: at.0,
                    batch: at.1,
                });
            }
            let xb = select_view_rows(x.view(), indices);
            let yb = select_view_rows(y.view(), indices);
            self.zero_grad();
            let y_pred = self.forward(&xb, Mode::Train);
            let yb = align_targets(loss_fn, &y_pred, yb);
            let loss = loss_fn.compute(&yb, &y_pred);
            if !loss.is_finite() {
                return Err(StopReason::NonFiniteLoss {
                    epoch: at.0,
                    batch: at.1,
                    loss,
                });
            }
            let grad = loss_fn.gradient(&yb, &y_pred);
            self.backward_parameters(&grad);
            self.optimizer_step(options.clip_grad_norm);
            loss_sum += loss as f64 * indices.len() as f64;
            seen += indices.len();
            for acc in accumulators.iter_mut() {
                acc.add(&yb, &y_pred);
            }
            progress.batch(epoch, b, (loss_sum / seen as f64) as f32);
        }
        let mut logs = BTreeMap::new();
        logs.insert("loss".to_string(), (loss_sum / seen.max(1) as f64) as f32);
        for acc in &accumulators {
            logs.insert(acc.metric().name().to_string(), acc.value());
        }
        Ok(logs)
    }

    /// The compiled optimiser's step on every parameter, after clipping the gradients' global
    /// norm to `clip_grad_norm` if set.
    fn optimizer_step(&mut self, clip_grad_norm: Option<f32>) {
        let mut compiled = self
            .compiled
            .take()
            .expect("fit checked that the model is compiled");
        let mut parameters = self.trainable_parameters_mut();
        if let Some(max_norm) = clip_grad_norm {
            crate::nn::clip_grad_norm(&mut parameters, max_norm);
        }
        compiled.optimizer.step(&mut parameters);
        self.compiled = Some(compiled);
    }

    /// The compiled state; **panics** naming `op` if the model is not compiled.
    #[track_caller]
    fn compiled_mut(&mut self, op: &str) -> &mut Compiled {
        self.compiled.as_mut().unwrap_or_else(|| {
            panic!("{op}: the model is not compiled; call model.compile(optimizer, loss, &metrics) first")
        })
    }

    /// Loss and metrics on a data set, in `Mode::Eval` (Keras `model.evaluate`).
    ///
    /// **Panics** if the model is not compiled or the sample counts differ.
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// let mut model = Sequential::new().add(Dense::new(1, 1));
    /// model.compile(Sgd::new(0.1), Loss::Mse, &[Metric::Mae]);
    /// let x = dl_core::tensor::column(&[1.0, 2.0]);
    /// let e = model.evaluate(&x, &x);
    /// assert!(e.get("mae").is_some() && e.loss >= 0.0);
    /// ```
    #[track_caller]
    pub fn evaluate(&self, x: &Tensor, y: &Tensor) -> Evaluation {
        match self.evaluate_views(&x.view(), &y.view(), true) {
            Ok(e) => e,
            Err(reason) => {
                eprintln!("evaluate: {reason}");
                Evaluation {
                    loss: f32::NAN,
                    metrics: BTreeMap::new(),
                }
            }
        }
    }

    /// The validation step: loss and metrics over `x` and `y` in batches of 256, from
    /// [`Sequential::infer`].
    #[track_caller]
    fn evaluate_views(
        &self,
        x: &ArrayViewD<'_, f32>,
        y: &ArrayViewD<'_, f32>,
        check_interrupt: bool,
    ) -> Result<Evaluation, StopReason> {
        let n = check_pair("evaluate", x, y);
        let (loss_fn, metrics): (_, Vec<Metric>) = match &self.compiled {
            Some(c) => (c.loss, c.metrics.clone()),
            None => panic!(
                "evaluate: the model is not compiled; call model.compile(optimizer, loss, &metrics) first"
            ),
        };
        let mut accumulators: Vec<MetricAccumulator> = metrics
            .iter()
            .map(|m| MetricAccumulator::new(*m, loss_fn.from_logits()))
            .collect();
        let batch = 256;
        let mut loss_sum = 0.0f64;
        let mut start = 0;
        let mut b = 0;
        while start < n {
            if check_interrupt && interrupt::requested() {
                return Err(StopReason::Interrupted {
                    epoch: 1,
                    batch: b + 1,
                });
            }
            let end = (start + batch).min(n);
            let xb = x.slice_axis(Axis(0), (start..end).into()).to_owned();
            let yb = y.slice_axis(Axis(0), (start..end).into()).to_owned();
            let y_pred = self.infer(&xb);
            let yb = align_targets(loss_fn, &y_pred, yb);
            loss_sum += loss_fn.compute(&yb, &y_pred) as f64 * (end - start) as f64;
            for acc in accumulators.iter_mut() {
                acc.add(&yb, &y_pred);
            }
            start = end;
            b += 1;
        }
        Ok(Evaluation {
            loss: (loss_sum / n as f64) as f32,
            metrics: accumulators
                .iter()
                .map(|a| (a.metric().name().to_string(), a.value()))
                .collect(),
        })
    }
}
