//! Live progress: a bar updated in place while a model trains, and a live loss plot.
//!
//! ```text
//! in the kernel:   one HTML progress bar (display id, updated ≤ 4 times a second)
//!                  one PNG+SVG plot of the history (display id, redrawn ≤ once a second
//!                  at the end of an epoch, and at the end of training)
//! elsewhere:       one text line per epoch: "Epoch 3/10 - 0.41s - loss: 0.1234 - val_loss: 0.1301"
//! ```

use crate::display::{DisplayHandle, MimeBundle, Show, in_kernel};
use crate::train::History;
use std::time::{Duration, Instant};

pub(crate) struct Progress {
    verbose: bool,
    kernel: bool,
    num_epochs: usize,
    num_batches: usize,
    bar: DisplayHandle,
    plot: DisplayHandle,
    last_update: Option<Instant>,
    last_plot: Option<Instant>,
    plot_pending: bool,
    epoch_start: Instant,
}

fn bar_bundle(
    epoch: usize,
    num_epochs: usize,
    batch: usize,
    num_batches: usize,
    text: &str,
) -> MimeBundle {
    let fraction = (batch as f32 / num_batches.max(1) as f32).clamp(0.0, 1.0);
    let width = 30;
    let filled = (fraction * width as f32).round() as usize;
    let plain = format!(
        "Epoch {}/{} [{}{}] {}/{} {}",
        epoch + 1,
        num_epochs,
        "=".repeat(filled),
        ".".repeat(width - filled),
        batch,
        num_batches,
        text
    );
    let html = format!(
        "<div style=\"font-family:monospace\">Epoch {}/{} \
         <progress value=\"{}\" max=\"{}\" style=\"width:240px;vertical-align:middle\"></progress> \
         {}/{} {}</div>",
        epoch + 1,
        num_epochs,
        batch,
        num_batches.max(1),
        batch,
        num_batches,
        text
    );
    MimeBundle::text(&plain).with_html(&html)
}

fn logs_text(history: &History) -> String {
    // Keras' order: loss, metrics, val_loss, validation metrics.
    let mut entries: Vec<(&String, f32)> = history
        .metrics
        .iter()
        .filter_map(|(k, v)| v.last().map(|x| (k, *x)))
        .collect();
    entries.sort_by_key(|(k, _)| (k.starts_with("val_"), !k.ends_with("loss"), k.to_string()));
    entries
        .iter()
        .map(|(k, x)| format!("{k}: {x:.4}"))
        .collect::<Vec<_>>()
        .join(" - ")
}

impl Progress {
    pub(crate) fn new(verbose: bool, num_epochs: usize, num_batches: usize) -> Progress {
        Progress {
            verbose,
            kernel: in_kernel(),
            num_epochs,
            num_batches,
            bar: DisplayHandle::new("fit-progress"),
            plot: DisplayHandle::new("fit-plot"),
            last_update: None,
            last_plot: None,
            plot_pending: false,
            epoch_start: Instant::now(),
        }
    }

    pub(crate) fn batch(&mut self, epoch: usize, batch: usize, running_loss: f32) {
        if batch == 0 {
            self.epoch_start = Instant::now();
        }
        if !(self.verbose && self.kernel) {
            return;
        }
        let due = self
            .last_update
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(250));
        if due || batch + 1 == self.num_batches {
            let text = format!("loss: {running_loss:.4}");
            self.bar.show(&bar_bundle(
                epoch,
                self.num_epochs,
                batch + 1,
                self.num_batches,
                &text,
            ));
            self.last_update = Some(Instant::now());
        }
    }

    pub(crate) fn epoch_end(&mut self, epoch: usize, history: &History) {
        if !self.verbose {
            return;
        }
        let secs = self.epoch_start.elapsed().as_secs_f32();
        let text = format!("- {secs:.2}s - {}", logs_text(history));
        if self.kernel {
            self.bar.show(&bar_bundle(
                epoch,
                self.num_epochs,
                self.num_batches,
                self.num_batches,
                &text,
            ));
            // Rendering a figure takes milliseconds: redraw the live plot at most once a second
            // (and once more at the end, in `finish`).
            let due = self
                .last_plot
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if due {
                self.show_plot(history);
            } else {
                self.plot_pending = true;
            }
        } else {
            println!("Epoch {}/{} {text}", epoch + 1, self.num_epochs);
        }
    }

    fn show_plot(&mut self, history: &History) {
        self.plot.show(&history.plot().mime_bundle());
        self.last_plot = Some(Instant::now());
        self.plot_pending = false;
    }

    pub(crate) fn finish(&mut self, history: &History) {
        if self.verbose && self.kernel && self.plot_pending {
            self.show_plot(history);
        }
        use crate::train::StopReason;
        match history.stop_reason {
            StopReason::Completed => {}
            StopReason::EarlyStopped { .. } => {
                if self.verbose {
                    println!("fit: {}", history.stop_reason);
                }
            }
            // Always say why training stopped abnormally, even when not verbose.
            _ => eprintln!("fit: {}", history.stop_reason),
        }
    }
}
