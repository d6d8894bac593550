//! The fit loop, `evaluate`, and the metric bookkeeping they share.

use crate::interrupt;
use crate::metrics::{Metric, MetricAccumulator};
use crate::nn::{Mode, Sequential};
use crate::rng::Rng;
use crate::tensor::{Tensor, select_rows};
use crate::train::progress::Progress;
use crate::train::{CallbackAction, Evaluation, FitOptions, History, StopReason};
use ndarray::Axis;
use std::collections::BTreeMap;

#[track_caller]
fn check_pair(op: &str, x: &Tensor, y: &Tensor) -> usize {
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
        let n_all = check_pair("fit", x, y);
        let mut compiled = self.compiled.take().unwrap_or_else(|| {
            panic!("fit: the model is not compiled; call model.compile(optimizer, loss, &metrics) first")
        });
        // Validation data: explicit, or the last fraction of the samples (as Keras does).
        let (x_train, y_train, validation) = match options.validation_data.take() {
            Some((xv, yv)) => {
                check_pair("fit (validation_data)", &xv, &yv);
                (x.clone(), y.clone(), Some((xv, yv)))
            }
            None if options.validation_split > 0.0 => {
                let n_val = ((n_all as f32) * options.validation_split).round() as usize;
                let n_val = n_val.clamp(1, n_all - 1);
                let split = n_all - n_val;
                (
                    x.slice_axis(Axis(0), (..split).into()).to_owned(),
                    y.slice_axis(Axis(0), (..split).into()).to_owned(),
                    Some((
                        x.slice_axis(Axis(0), (split..).into()).to_owned(),
                        y.slice_axis(Axis(0), (split..).into()).to_owned(),
                    )),
                )
            }
            None => (x.clone(), y.clone(), None),
        };
        let n = x_train.shape()[0];
        let batch_size = options.batch_size.max(1);
        let num_batches = n.div_ceil(batch_size);
        let mut rng = match options.seed {
            Some(s) => Rng::new(s),
            None => crate::rng::fork(),
        };
        let initial_lr = compiled.optimizer.learning_rate();
        let mut history = History::default();
        let mut progress = Progress::new(options.verbose, options.epochs, num_batches);
        let loss_fn = compiled.loss;

        'epochs: for epoch in 0..options.epochs {
            compiled
                .optimizer
                .set_learning_rate(options.lr_schedule.lr_at(initial_lr, epoch));
            let mut order: Vec<usize> = (0..n).collect();
            if options.shuffle {
                rng.shuffle(&mut order);
            }
            let mut loss_sum = 0.0f64;
            let mut seen = 0usize;
            let mut accumulators: Vec<MetricAccumulator> = compiled
                .metrics
                .iter()
                .map(|m| MetricAccumulator::new(*m, loss_fn.from_logits()))
                .collect();
            for (b, indices) in order.chunks(batch_size).enumerate() {
                if interrupt::requested() {
                    history.stop_reason = StopReason::Interrupted {
                        epoch: epoch + 1,
                        batch: b + 1,
                    };
                    break 'epochs;
                }
                let xb = select_rows(&x_train, indices);
                let yb = select_rows(&y_train, indices);
                self.zero_grad();
                let y_hat = self.forward(&xb, Mode::Train);
                let yb = align_targets(loss_fn, &y_hat, yb);
                let loss = loss_fn.compute(&y_hat, &yb);
                if !loss.is_finite() {
                    history.stop_reason = StopReason::NonFiniteLoss {
                        epoch: epoch + 1,
                        batch: b + 1,
                        loss,
                    };
                    break 'epochs;
                }
                let grad = loss_fn.gradient(&y_hat, &yb);
                self.backward_parameters(&grad);
                let mut parameters = self.parameters_mut();
                if let Some(max_norm) = options.clip_grad_norm {
                    crate::nn::clip_grad_norm(&mut parameters, max_norm);
                }
                compiled.optimizer.step(&mut parameters);
                loss_sum += loss as f64 * indices.len() as f64;
                seen += indices.len();
                for acc in accumulators.iter_mut() {
                    acc.add(&y_hat, &yb);
                }
                progress.batch(epoch, b, (loss_sum / seen as f64) as f32);
            }
            let mut logs = BTreeMap::new();
            logs.insert("loss".to_string(), (loss_sum / seen.max(1) as f64) as f32);
            for acc in &accumulators {
                logs.insert(acc.metric().name().to_string(), acc.value());
            }
            if let Some((xv, yv)) = &validation {
                self.compiled = Some(compiled);
                let eval = self.evaluate_inner(xv, yv, false);
                compiled = self.compiled.take().expect("put back above");
                match eval {
                    Ok(eval) => {
                        logs.insert("val_loss".into(), eval.loss);
                        for (k, v) in eval.metrics {
                            logs.insert(format!("val_{k}"), v);
                        }
                    }
                    Err(reason) => {
                        history.stop_reason = reason;
                        break 'epochs;
                    }
                }
            }
            for (k, v) in &logs {
                history.push(k, *v);
            }
            progress.epoch_end(epoch, &history);
            let mut stop = false;
            for cb in options.callbacks.iter_mut() {
                self.compiled = Some(compiled);
                let action = cb.on_epoch_end(epoch + 1, &logs, self);
                compiled = self
                    .compiled
                    .take()
                    .expect("callbacks keep the compiled state");
                stop |= action == CallbackAction::Stop;
            }
            if stop {
                history.stop_reason = StopReason::EarlyStopped { epoch: epoch + 1 };
                break;
            }
        }
        compiled.optimizer.set_learning_rate(initial_lr);
        self.compiled = Some(compiled);
        progress.finish(&history);
        history
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
    pub fn evaluate(&mut self, x: &Tensor, y: &Tensor) -> Evaluation {
        match self.evaluate_inner(x, y, true) {
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

    #[track_caller]
    fn evaluate_inner(
        &mut self,
        x: &Tensor,
        y: &Tensor,
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
            let y_hat = self.forward(&xb, Mode::Eval);
            let yb = align_targets(loss_fn, &y_hat, yb);
            loss_sum += loss_fn.compute(&y_hat, &yb) as f64 * (end - start) as f64;
            for acc in accumulators.iter_mut() {
                acc.add(&y_hat, &yb);
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
