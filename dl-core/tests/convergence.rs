//! Convergence on the seed book's data sets.
//!
//! Linear: x uniform in [0, 1), y = 3x + 1 + noise uniform in [0, 1): the best line has slope 3
//! and intercept 1.5 (the noise's mean). Logistic: two uniform features, label x₀ > 0.5.

use dl_core::prelude::*;
use dl_core::rng::Rng;

fn linear_data(n: usize) -> (Tensor, Tensor) {
    let mut rng = Rng::new(42);
    let xs: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
    let ys: Vec<f32> = xs.iter().map(|&x| 3.0 * x + 1.0 + rng.uniform()).collect();
    (dl_core::tensor::column(&xs), dl_core::tensor::column(&ys))
}

fn logistic_data(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = Rng::new(seed);
    let xs: Vec<f32> = (0..2 * n).map(|_| rng.uniform()).collect();
    let x = dl_core::tensor::from_vec(&[n, 2], xs);
    let y = x
        .map_axis(Axis(1), |r| (r[0] > 0.5) as u8 as f32)
        .insert_axis(Axis(1))
        .into_dyn();
    (x, y)
}

#[test]
fn linear_regression_by_gradient_descent_recovers_slope_and_intercept() {
    let (x, y) = linear_data(1000);
    let mut model = LinearRegression::new();
    model.fit(&x, &y, 0.5, 2000);
    assert!((model.slope() - 3.0).abs() < 0.1, "slope {}", model.slope());
    assert!(
        (model.intercept() - 1.5).abs() < 0.1,
        "intercept {}",
        model.intercept()
    );
    assert!(model.loss_history.first() > model.loss_history.last());
}

#[test]
fn linear_regression_in_closed_form_agrees_with_gradient_descent() {
    let (x, y) = linear_data(1000);
    let mut gd = LinearRegression::new();
    gd.fit(&x, &y, 0.5, 3000);
    let mut exact = LinearRegression::new();
    exact.fit_closed_form(&x, &y);
    assert!((exact.slope() - 3.0).abs() < 0.1 && (exact.intercept() - 1.5).abs() < 0.1);
    assert!(
        (gd.slope() - exact.slope()).abs() < 1e-3,
        "{} vs {}",
        gd.slope(),
        exact.slope()
    );
    assert!((gd.intercept() - exact.intercept()).abs() < 1e-3);
}

#[test]
fn a_dense_layer_trained_with_fit_recovers_the_line() {
    let (x, y) = linear_data(1000);
    dl_core::seed(0);
    let mut model = Sequential::new().add(Dense::new(1, 1));
    model.compile(Sgd::new(0.1), Loss::Mse, &[Metric::Mae]);
    let history = model.fit(
        &x,
        &y,
        FitOptions::new()
            .epochs(60)
            .batch_size(32)
            .seed(1)
            .verbose(false),
    );
    let dense_w = model.parameters()[0].value[[0, 0]];
    let dense_b = model.parameters()[1].value[[0]];
    assert!((dense_w - 3.0).abs() < 0.1, "slope {dense_w}");
    assert!((dense_b - 1.5).abs() < 0.1, "intercept {dense_b}");
    assert_eq!(history.num_epochs(), 60);
}

#[test]
fn logistic_regression_separates_the_seed_data() {
    let (x, y) = logistic_data(1000, 7);
    let mut model = LogisticRegression::new();
    model.fit(&x, &y, 5.0, 3000);
    let accuracy = model.accuracy(&x, &y);
    assert!(accuracy >= 0.97, "accuracy {accuracy}");
    let (x_test, y_test) = logistic_data(500, 8);
    assert!(model.accuracy(&x_test, &y_test) >= 0.97);
}

#[test]
fn a_sigmoid_network_with_fit_separates_the_seed_data() {
    let (x, y) = logistic_data(1000, 7);
    dl_core::seed(3);
    let mut model = Sequential::new().add(Dense::new(2, 1)).add(Sigmoid::new());
    model.compile(
        Adam::new(0.05),
        Loss::BinaryCrossEntropy,
        &[Metric::Accuracy],
    );
    let history = model.fit(
        &x,
        &y,
        FitOptions::new()
            .epochs(80)
            .batch_size(32)
            .seed(0)
            .verbose(false),
    );
    let accuracy = history.last("accuracy").unwrap();
    assert!(accuracy >= 0.97, "accuracy {accuracy}");
    let (x_test, y_test) = logistic_data(500, 8);
    assert!(model.evaluate(&x_test, &y_test).get("accuracy").unwrap() >= 0.97);
}
