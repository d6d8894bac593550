//! fit/evaluate behaviour: validation, callbacks, bad losses, save/load, a non-linear problem.

use dl_core::prelude::*;

fn xor_like(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = dl_core::rng::Rng::new(seed);
    let xs: Vec<f32> = (0..2 * n).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
    let x = dl_core::tensor::from_vec(&[n, 2], xs);
    let y = x
        .map_axis(Axis(1), |r| ((r[0] > 0.0) != (r[1] > 0.0)) as u8 as f32)
        .into_dyn();
    (x, y)
}

fn mlp() -> Sequential {
    Sequential::new()
        .add(Dense::new(2, 32))
        .add(Tanh::new())
        .add(Dense::new(32, 2))
        .add(Softmax::new())
}

#[test]
fn an_mlp_learns_xor_with_validation_split() {
    dl_core::seed(11);
    let (x, y) = xor_like(1200, 1);
    let mut model = mlp();
    model.compile(
        Adam::new(0.02),
        Loss::SparseCategoricalCrossEntropy,
        &[Metric::Accuracy],
    );
    let history = model.fit(
        &x,
        &y,
        FitOptions::new()
            .epochs(60)
            .batch_size(32)
            .validation_split(0.2)
            .seed(5)
            .verbose(false),
    );
    assert_eq!(history.get("val_loss").len(), 60);
    assert!(
        history.last("val_accuracy").unwrap() > 0.93,
        "{:?}",
        history.last("val_accuracy")
    );
    assert!(history.get("loss")[0] > history.last("loss").unwrap());
}

#[test]
fn explicit_validation_data_and_one_hot_targets_work() {
    dl_core::seed(12);
    let (x, y) = xor_like(600, 2);
    let (xv, yv) = xor_like(200, 3);
    let (y1, yv1) = (
        dl_core::data::one_hot(&y, 2),
        dl_core::data::one_hot(&yv, 2),
    );
    let mut model = mlp();
    model.compile(
        Momentum::new(0.1, 0.9),
        Loss::CategoricalCrossEntropy,
        &[Metric::Accuracy],
    );
    let history = model.fit(
        &x,
        &y1,
        FitOptions::new()
            .epochs(40)
            .validation_data(&xv, &yv1)
            .verbose(false),
    );
    assert!(history.last("val_accuracy").unwrap() > 0.9);
}

#[test]
fn a_diverging_run_stops_and_names_epoch_and_batch() {
    dl_core::seed(0);
    let x = dl_core::init::uniform(&[64, 1], 100.0, 200.0);
    let y = x.mapv(|v| v * 3.0);
    let mut model = Sequential::new().add(Dense::new(1, 1));
    model.compile(Sgd::new(10.0), Loss::Mse, &[]);
    let history = model.fit(
        &x,
        &y,
        FitOptions::new().epochs(50).batch_size(8).verbose(false),
    );
    match history.stop_reason {
        StopReason::NonFiniteLoss { epoch, batch, .. } => {
            assert_eq!(epoch, 1, "diverges in the first epoch");
            assert!(batch >= 2, "the first loss is finite");
            let text = history.stop_reason.to_string();
            assert!(
                text.contains(&format!("epoch {epoch}, batch {batch}")),
                "{text}"
            );
        }
        other => panic!("expected a non-finite loss stop, got {other:?}"),
    }
}

#[test]
fn early_stopping_stops_when_nothing_improves() {
    dl_core::seed(1);
    let (x, y) = xor_like(100, 4);
    let mut model = mlp();
    model.compile(Sgd::new(0.0), Loss::SparseCategoricalCrossEntropy, &[]);
    let history = model.fit(
        &x,
        &y,
        FitOptions::new()
            .epochs(50)
            .shuffle(false)
            .callback(EarlyStopping::new("loss", 3))
            .verbose(false),
    );
    assert_eq!(history.stop_reason, StopReason::EarlyStopped { epoch: 4 });
    assert_eq!(history.num_epochs(), 4);
}

#[test]
fn early_stopping_can_restore_the_best_weights() {
    dl_core::seed(2);
    let (x, y) = xor_like(200, 5);
    let mut model = mlp();
    // A learning rate far too high: the loss gets worse, the best weights are the early ones.
    model.compile(Sgd::new(50.0), Loss::SparseCategoricalCrossEntropy, &[]);
    let mut stopper = EarlyStopping::new("loss", 2).restore_best_weights(true);
    let mut logs = std::collections::BTreeMap::new();
    logs.insert("loss".to_string(), 0.5);
    stopper.on_epoch_end(1, &logs, &mut model);
    let best: Vec<Tensor> = model.parameters().iter().map(|p| p.value.clone()).collect();
    for p in model.parameters_mut() {
        p.value.fill(9.0);
    }
    logs.insert("loss".to_string(), 0.9);
    assert_eq!(
        stopper.on_epoch_end(2, &logs, &mut model),
        CallbackAction::Continue
    );
    assert_eq!(
        stopper.on_epoch_end(3, &logs, &mut model),
        CallbackAction::Stop
    );
    let restored: Vec<Tensor> = model.parameters().iter().map(|p| p.value.clone()).collect();
    assert_eq!(best, restored);
    let _ = (x, y);
}

use dl_core::train::CallbackAction;

#[test]
fn checkpoint_saves_a_loadable_model() {
    dl_core::seed(3);
    let (x, y) = xor_like(200, 6);
    let path = std::env::temp_dir().join(format!("dl-core-checkpoint-{}.json", std::process::id()));
    std::fs::remove_file(&path).ok();
    let mut model = mlp();
    model.compile(
        Adam::new(0.01),
        Loss::SparseCategoricalCrossEntropy,
        &[Metric::Accuracy],
    );
    model.fit(
        &x,
        &y,
        FitOptions::new()
            .epochs(3)
            .callback(ModelCheckpoint::new(&path, "loss"))
            .verbose(false),
    );
    let loaded = Sequential::load(&path).expect("checkpoint written");
    assert_eq!(loaded.layer_names(), model.layer_names());
    assert_eq!(loaded.predict(&x).shape(), &[200, 2]);
    std::fs::remove_file(&path).ok();
}

#[test]
fn loading_into_a_different_architecture_names_layer_and_shapes() {
    let path = std::env::temp_dir().join(format!("dl-core-mismatch-{}.json", std::process::id()));
    Sequential::new()
        .add(Dense::new(2, 4))
        .add(Relu::new())
        .add(Dense::new(4, 1))
        .save(&path)
        .unwrap();
    let mut other = Sequential::new()
        .add(Dense::new(2, 4))
        .add(Relu::new())
        .add(Dense::new(4, 3));
    let err = other.load_weights(&path).unwrap_err();
    match &err {
        dl_core::DlError::ShapeMismatch {
            layer,
            parameter,
            expected,
            found,
        } => {
            assert_eq!(layer, "dense_1");
            assert_eq!(parameter, "weight");
            assert_eq!(expected, &vec![4, 3]);
            assert_eq!(found, &vec![4, 1]);
        }
        other => panic!("expected a shape mismatch, got {other}"),
    }
    assert!(err.to_string().contains("dense_1"));
    let missing = Sequential::load("no/such/model.json").unwrap_err();
    assert!(missing.to_string().contains("no/such/model.json"));
    std::fs::remove_file(&path).ok();
}

#[test]
fn schedules_and_weight_decay_run_inside_fit() {
    dl_core::seed(4);
    let (x, y) = xor_like(200, 7);
    let mut model = mlp();
    model.compile(
        Adam::new(0.01).with_weight_decay(1e-4),
        Loss::SparseCategoricalCrossEntropy,
        &[Metric::Accuracy],
    );
    let history = model.fit(
        &x,
        &y,
        FitOptions::new()
            .epochs(5)
            .lr_schedule(LrSchedule::StepDecay {
                step_size: 2,
                gamma: 0.5,
            })
            .clip_grad_norm(1.0)
            .verbose(false),
    );
    assert_eq!(history.num_epochs(), 5);
}

#[test]
#[should_panic(expected = "fit: the model is not compiled")]
fn fit_without_compile_says_so() {
    let mut model = Sequential::new().add(Dense::new(1, 1));
    let x = dl_core::tensor::column(&[1.0]);
    model.fit(&x, &x, FitOptions::new());
}

#[test]
#[should_panic(expected = "x has shape [3, 1] and y has shape [2, 1]")]
fn fit_with_mismatched_samples_names_both_shapes() {
    let mut model = Sequential::new().add(Dense::new(1, 1));
    model.compile(Sgd::new(0.1), Loss::Mse, &[]);
    model.fit(
        &dl_core::tensor::column(&[1.0, 2.0, 3.0]),
        &dl_core::tensor::column(&[1.0, 2.0]),
        FitOptions::new(),
    );
}

#[test]
fn every_loss_passes_the_gradient_check() {
    use dl_core::gradcheck::numeric_gradient;
    dl_core::seed(9);
    let logits = dl_core::init::normal(&[5, 3], 0.0, 1.0);
    let probs = dl_core::nn::softmax_last_axis(&logits);
    let one_hot = dl_core::data::one_hot(
        &dl_core::tensor::from_vec(&[5], vec![0., 2., 1., 1., 0.]),
        3,
    );
    let labels = dl_core::tensor::from_vec(&[5], vec![0., 2., 1., 1., 0.]);
    let p1 = dl_core::init::uniform(&[5, 1], 0.1, 0.9);
    let z1 = dl_core::init::normal(&[5, 1], 0.0, 2.0);
    let y01 = dl_core::tensor::from_vec(&[5, 1], vec![0., 1., 1., 0., 1.]);
    let target = dl_core::init::normal(&[5, 3], 0.0, 1.0);
    for loss in Loss::ALL {
        let (y_hat, y) = match loss {
            Loss::Mse | Loss::Mae => (logits.clone(), target.clone()),
            Loss::BinaryCrossEntropy => (p1.clone(), y01.clone()),
            Loss::BinaryCrossEntropyWithLogits => (z1.clone(), y01.clone()),
            Loss::CategoricalCrossEntropy => (probs.clone(), one_hot.clone()),
            Loss::CategoricalCrossEntropyWithLogits => (logits.clone(), one_hot.clone()),
            Loss::SparseCategoricalCrossEntropy => (probs.clone(), labels.clone()),
            Loss::SparseCategoricalCrossEntropyWithLogits => (logits.clone(), labels.clone()),
        };
        let numeric = numeric_gradient(|t| loss.compute(&y, t), &y_hat, 1e-3);
        let analytic = loss.gradient(&y, &y_hat);
        for (a, n) in analytic.iter().zip(numeric.iter()) {
            assert!(
                (a - n).abs() < 2e-3 * (1.0 + a.abs()),
                "{}: analytic {a} vs numeric {n}",
                loss.name()
            );
        }
    }
}

#[test]
fn sequential_gradient_check_through_all_layers() {
    dl_core::seed(10);
    let mut model = Sequential::new()
        .add(Dense::new(3, 4))
        .add(LeakyRelu::new(0.2))
        .add(Dense::new(4, 4))
        .add(Sigmoid::new())
        .add(Dense::new(4, 3))
        .add(Softmax::new());
    let x = dl_core::init::normal(&[4, 3], 0.0, 1.0);
    let labels = dl_core::tensor::from_vec(&[4], vec![0., 1., 2., 1.]);
    let loss = Loss::SparseCategoricalCrossEntropy;
    let y_hat = model.forward(&x, Mode::Train);
    model.zero_grad();
    let dx = model.backward(&loss.gradient(&labels, &y_hat));
    let numeric = dl_core::gradcheck::numeric_gradient(
        |t| loss.compute(&labels, &model.forward(t, Mode::Eval)),
        &x,
        1e-2,
    );
    for (a, n) in dx.iter().zip(numeric.iter()) {
        assert!((a - n).abs() < 2e-3, "input gradient {a} vs {n}");
    }
}

#[test]
fn targets_of_shape_n_fit_outputs_of_shape_n_by_1() {
    dl_core::seed(5);
    let x = dl_core::init::uniform(&[64, 2], 0.0, 1.0);
    let y = x
        .map_axis(Axis(1), |r| (r[0] > 0.5) as u8 as f32)
        .into_dyn(); // [64]
    let mut model = Sequential::new().add(Dense::new(2, 1)).add(Sigmoid::new());
    model.compile(
        Adam::new(0.05),
        Loss::BinaryCrossEntropy,
        &[Metric::Accuracy],
    );
    let history = model.fit(&x, &y, FitOptions::new().epochs(2).verbose(false));
    assert_eq!(history.num_epochs(), 2);
    assert!(model.evaluate(&x, &y).loss.is_finite());
}

#[test]
fn models_and_evaluations_show_as_text_and_html() {
    let model = Sequential::new().add(Dense::new(2, 3)).add(Relu::new());
    let bundle = model.mime_bundle();
    assert!(bundle.plain_text().contains("Total parameters: 9"));
    assert!(
        bundle
            .get("text/html")
            .unwrap()
            .contains("\"type\":\"Dense\"")
    );
    let e = Evaluation {
        loss: 0.5,
        metrics: [("accuracy".to_string(), 0.75)].into_iter().collect(),
    };
    assert_eq!(
        e.mime_bundle().plain_text(),
        "loss: 0.5000 - accuracy: 0.7500"
    );
}
