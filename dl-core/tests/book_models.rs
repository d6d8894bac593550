//! The book's two models, written as a notebook cell would write them, learn: the CNN on a small
//! synthetic image task, the RNN on a sine wave. (Speed is measured by `bench/`, never here.)

use dl_core::prelude::*;

/// Keras: Conv2D(32, 3×3, relu) → MaxPool 2×2 → Conv2D(64, 3×3, relu) → MaxPool 2×2 → Flatten →
/// Dense(128, relu) → Dense(10, softmax); Adam; sparse categorical cross-entropy.
fn book_cnn() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 32, 3).relu())
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(32, 64, 3).relu())
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Dense::new(64 * 5 * 5, 128))
        .add(Relu::new())
        .add(Dense::new(128, 10))
        .add(Softmax::new())
}

#[test]
fn the_book_cnn_learns_where_the_bright_bar_is() {
    dl_core::seed(1);
    // Class k: a bright horizontal bar at rows 2k+4..2k+6 of a noisy 28×28 image.
    let n = 160;
    let mut x = dl_core::init::uniform(&[n, 1, 28, 28], 0.0, 0.3);
    let mut y = Tensor::zeros(IxDyn(&[n]));
    for i in 0..n {
        let k = i % 10;
        y[i] = k as f32;
        for r in 2 * k + 4..2 * k + 6 {
            for c in 4..24 {
                x[[i, 0, r, c]] = 1.0;
            }
        }
    }
    let mut model = book_cnn();
    assert!(model.summary(&[1, 28, 28]).lines().count() > 9);
    model.compile(
        Adam::new(1e-3),
        Loss::SparseCategoricalCrossEntropy,
        &[Metric::Accuracy],
    );
    let history = model.fit(
        &x,
        &y,
        FitOptions::new()
            .epochs(4)
            .batch_size(32)
            .seed(0)
            .verbose(false),
    );
    let losses = history.get("loss");
    assert!(
        losses.last().unwrap() < &(losses[0] * 0.5),
        "loss did not fall: {losses:?}"
    );
    let accuracy = model.evaluate(&x, &y).get("accuracy").unwrap();
    assert!(accuracy > 0.9, "accuracy {accuracy}");
}

#[test]
fn the_book_rnn_predicts_a_sine_wave() {
    dl_core::seed(2);
    // Windows of 10 steps of sin(0.3 t), predict the next value.
    let (n, t) = (256, 10);
    let mut x = Tensor::zeros(IxDyn(&[n, t, 1]));
    let mut y = Tensor::zeros(IxDyn(&[n, 1]));
    for i in 0..n {
        for s in 0..t {
            x[[i, s, 0]] = (0.3 * (i + s) as f32).sin();
        }
        y[[i, 0]] = (0.3 * (i + t) as f32).sin();
    }
    // Keras: SimpleRNN(32) → Dense(1); Adam; MSE.
    let mut model = Sequential::new()
        .add(SimpleRnn::new(1, 32))
        .add(Dense::new(32, 1));
    model.compile(Adam::new(1e-2), Loss::Mse, &[]);
    let history = model.fit(
        &x,
        &y,
        FitOptions::new()
            .epochs(30)
            .batch_size(32)
            .seed(0)
            .verbose(false),
    );
    let loss = history.last("loss").unwrap();
    assert!(
        loss < 0.01,
        "final MSE {loss} (history {:?})",
        history.get("loss")
    );
}

#[test]
fn lstm_and_gru_stack_with_return_sequences_and_clip() {
    dl_core::seed(3);
    let x = dl_core::init::normal(&[8, 6, 3], 0.0, 1.0);
    let y = dl_core::init::normal(&[8, 1], 0.0, 1.0);
    let mut model = Sequential::new()
        .add(Lstm::new(3, 8).return_sequences(true))
        .add(Gru::new(8, 4))
        .add(Dense::new(4, 1));
    let out = model.forward(&x, Mode::Train);
    assert_eq!(out.shape(), &[8, 1]);
    model.zero_grad();
    model.backward(&(&out - &y));
    let mut params = model.parameters_mut();
    let norm = clip_grad_norm(&mut params, 0.5);
    assert!(norm > 0.0);
    let clipped: f32 = params
        .iter()
        .map(|p| p.grad.iter().map(|g| g * g).sum::<f32>())
        .sum::<f32>()
        .sqrt();
    assert!(clipped <= 0.5 + 1e-4, "{clipped}");
}

#[test]
fn conv_and_recurrent_layers_survive_save_and_load_of_their_config() {
    let configs = vec![
        Conv2d::new(3, 8, 3)
            .with_stride(2)
            .with_padding(1)
            .relu()
            .config(),
        MaxPool2d::new(2).config(),
        AvgPool2d::new(3).with_stride(1).config(),
        Flatten::new().config(),
        BatchNorm::new(4).config(),
        Embedding::new(10, 3).config(),
        SimpleRnn::new(2, 5).return_sequences(true).config(),
        Lstm::new(2, 5).config(),
        Gru::new(2, 5).config(),
    ];
    for config in configs {
        let json = serde_json::to_string(&config).unwrap();
        let back: LayerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
        assert_eq!(back.build().config(), config, "{json}");
    }
}
