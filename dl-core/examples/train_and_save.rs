//! Train a small classifier, save it, load it back and check it predicts the same.
//!
//! ```text
//! cargo run --release -p dl-core --example train_and_save [output.json]
//! ```
//!
//! The data are the book's logistic-regression toy problem: two uniform features, label
//! `x₀ > 0.5`. The model is `Dense(2, 16) → ReLU → Dense(16, 2)` trained with Adam on sparse
//! categorical cross-entropy from logits.

use dl_core::prelude::*;
use std::path::{Path, PathBuf};

/// Trains, saves to `path`, reloads; returns the test accuracy.
pub fn run(path: &Path) -> f32 {
    dl_core::seed(42);
    let x = dl_core::init::uniform(&[1000, 2], 0.0, 1.0);
    let y = x
        .map_axis(Axis(1), |row| (row[0] > 0.5) as u8 as f32)
        .into_dyn();
    let split = dl_core::data::train_test_split(&x, &y, 0.2, 42);

    let mut model = Sequential::new()
        .add(Dense::new(2, 16))
        .add(Relu::new())
        .add(Dense::new(16, 2));
    model.compile(
        Adam::new(0.01),
        Loss::SparseCategoricalCrossEntropyWithLogits,
        &[Metric::Accuracy],
    );
    print!("{}", model.summary(&[2]));
    let history = model.fit(
        &split.x_train,
        &split.y_train,
        FitOptions::new()
            .epochs(30)
            .batch_size(32)
            .validation_split(0.1)
            .seed(42),
    );
    println!("training: {}", history.stop_reason);

    let evaluation = model.evaluate(&split.x_test, &split.y_test);
    let accuracy = evaluation.get("accuracy").expect("compiled with accuracy");
    println!(
        "test loss {:.4}, test accuracy {:.3}",
        evaluation.loss, accuracy
    );

    model.save(path).expect("save the model");
    let loaded = Sequential::load(path).expect("load the model");
    assert_eq!(
        model.predict(&split.x_test),
        loaded.predict(&split.x_test),
        "the loaded model predicts differently"
    );
    println!(
        "saved to {} and reloaded: identical predictions",
        path.display()
    );
    accuracy
}

#[allow(dead_code)] // the integration test calls `run` only
fn main() {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("dl-core-example-model.json"));
    let accuracy = run(&path);
    assert!(accuracy >= 0.95, "test accuracy {accuracy} is below 0.95");
}
