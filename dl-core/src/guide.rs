//! # dl-core for Keras, PyTorch and NumPy users
//!
//! The book's code is Keras; this page maps each idiom to dl-core. Everything named here is in
//! `dl_core::prelude` unless a module path is given.
//!
//! ## Arrays (NumPy → ndarray)
//!
//! | NumPy | dl-core / ndarray |
//! |---|---|
//! | `np.array([[1., 2.], [3., 4.]])` | `array![[1.0f32, 2.0], [3.0, 4.0]]` (then `.into_dyn()` for a `Tensor`) |
//! | `np.zeros((2, 3))` | `dl_core::tensor::zeros(&[2, 3])` |
//! | `np.random.seed(42)` | `dl_core::seed(42)` |
//! | `np.random.rand(100, 1)` | `dl_core::init::uniform(&[100, 1], 0.0, 1.0)` |
//! | `np.random.randn(3, 3)` | `dl_core::init::normal(&[3, 3], 0.0, 1.0)` |
//! | `x.shape` | `x.shape()` |
//! | `x.reshape(n, -1)` | `x.into_shape_with_order((n, d))` |
//! | `x[:, 0]` | `x.slice(s![.., 0])` |
//! | `x @ w` | `x.dot(&w)` (2-D arrays) |
//! | `x.mean(axis=0)` | `x.mean_axis(Axis(0))` |
//! | `np.argmax(p, axis=1)` | `dl_core::tensor::argmax_rows(&p)` |
//! | printing an array | `x.show()` (an HTML table in the notebook, abbreviated like NumPy) |
//!
//! `Tensor` is `ndarray::ArrayD<f32>`; any array becomes one with `.into_dyn()`.
//!
//! ## Models (Keras → dl-core)
//!
//! ```text
//! model = keras.Sequential([                          let mut model = Sequential::new()
//!     layers.Dense(128, activation="relu",                .add(Dense::new(784, 128))
//!                  input_shape=(784,)),                   .add(Relu::new())
//!     layers.Dropout(0.2),                                .add(Dropout::new(0.2))
//!     layers.Dense(10, activation="softmax"),             .add(Dense::new(128, 10))
//! ])                                                      .add(Softmax::new());
//! model.compile(optimizer=Adam(1e-3),                 model.compile(Adam::new(1e-3),
//!     loss="sparse_categorical_crossentropy",             Loss::SparseCategoricalCrossEntropy,
//!     metrics=["accuracy"])                               &[Metric::Accuracy]);
//! history = model.fit(x, y, epochs=5,                 let history = model.fit(&x, &y, FitOptions::new()
//!     batch_size=32, validation_split=0.1,                .epochs(5).batch_size(32).validation_split(0.1)
//!     callbacks=[EarlyStopping(patience=3)])              .callback(EarlyStopping::new("val_loss", 3)));
//! history.history["val_loss"]                         history.get("val_loss")
//! model.evaluate(x_test, y_test)                      model.evaluate(&x_test, &y_test).get("accuracy")
//! model.predict(x_test)                               model.predict(&x_test)
//! model.summary()                                     println!("{}", model.summary(&[784]))
//! model.save("m.keras"); keras.models.load_model(..)  model.save("m.json")?; Sequential::load("m.json")?
//! ```
//!
//! Differences to remember:
//!
//! - **Input sizes are explicit**: Keras' `Dense(128)` infers its input size at the first call;
//!   dl-core writes `Dense::new(inputs, 128)`. Weights exist as soon as the layer does.
//! - **Activations are layers**: `Dense(.., activation="relu")` is `Dense` then `Relu`.
//! - **Losses from logits**: Keras' `from_logits=True` is a separate variant,
//!   e.g. `Loss::SparseCategoricalCrossEntropyWithLogits` (then no final `Softmax`).
//! - **Images are NCHW** (`[n, channels, height, width]`, PyTorch's order), not Keras' NHWC.
//! - **Labels are f32**: sparse class labels are a `[n]` tensor of class indices.
//! - **Truth first**: a loss or metric takes the targets, then the predictions
//!   (`Loss::Mse.compute(&y, &y_hat)`), as Keras' `loss(y_true, y_pred)` and scikit-learn's
//!   metrics do; PyTorch's losses take the prediction first.
//!
//! ## PyTorch → dl-core
//!
//! | PyTorch | dl-core |
//! |---|---|
//! | `nn.Linear(784, 128)` | `Dense::new(784, 128)` (weight stored `[in, out]`, i.e. PyTorch's `weight.T`) |
//! | `model.train()` / `model.eval()` | `Mode::Train` / `Mode::Eval` passed to `forward` |
//! | `y = model(x)` | `let y = model.forward(&x, Mode::Train)` |
//! | `loss = nn.CrossEntropyLoss()(logits, labels)` | `Loss::SparseCategoricalCrossEntropyWithLogits.compute(&labels, &logits)` |
//! | `loss.backward()` | `model.backward(&loss_fn.gradient(&y, &y_hat))` (returns `∂L/∂x` too) |
//! | `opt.zero_grad(); opt.step()` | `model.zero_grad(); opt.step(&mut model.parameters_mut())` |
//! | `model.named_parameters()` | `model.named_parameters()` (`"dense_1.weight"`) |
//! | `torch.autograd.gradcheck` | `dl_core::gradcheck::check_layer`, `check_gradients` (autograd) |
//! | `x = torch.randn(3, requires_grad=True)` | `let x = Var::new(dl_core::init::normal(&[3], 0.0, 1.0))` |
//! | `(x * x).sum().backward(); x.grad` | `(&x * &x).sum().backward(); x.grad()` |
//! | `class Block(nn.Module): def forward(self, x)` | `impl Module for Block { fn forward(&self, x: &Var, tape: &Tape, mode: Mode) -> Var }`, weights via `tape.param(&self.weight)` |
//! | `nn.Sequential(Block(), nn.Linear(…))` | `Sequential::new().add(Autograd::new(Block::new())).add(Dense::new(…))` |
//! | `for p in part.parameters(): p.requires_grad = False` | `model.freeze("dense")` |
//! | `nn.LayerNorm`, `nn.MultiheadAttention`, `F.scaled_dot_product_attention` | `nn::attention::{LayerNorm, MultiHeadAttention}`, `autograd::scaled_dot_product_attention` |
//!
//! A hand-written training loop (what `fit` does for you):
//!
//! ```
//! use dl_core::prelude::*;
//! dl_core::seed(0);
//! let x = dl_core::init::uniform(&[100, 1], 0.0, 1.0);
//! let y = x.mapv(|v| 3.0 * v + 1.0);
//! let mut model = Sequential::new().add(Dense::new(1, 1));
//! let mut optimizer = Sgd::new(0.5);
//! let loss_fn = Loss::Mse;
//! for _epoch in 0..200 {
//!     model.zero_grad();
//!     let y_hat = model.forward(&x, Mode::Train);
//!     let _loss = loss_fn.compute(&y, &y_hat);
//!     model.backward(&loss_fn.gradient(&y, &y_hat));
//!     optimizer.step(&mut model.parameters_mut());
//! }
//! assert!((model.parameters()[0].value[[0, 0]] - 3.0).abs() < 0.05);
//! ```
//!
//! ## scikit-learn → dl-core
//!
//! | scikit-learn | dl-core |
//! |---|---|
//! | `LinearRegression().fit(X, y)` | `LinearRegression::new().fit_closed_form(&x, &y)` (or `.fit(&x, &y, lr, num_epochs)`) |
//! | `LogisticRegression().fit(X, y)` | `LogisticRegression::new().fit(&x, &y, lr, num_epochs)` |
//! | `train_test_split(X, y, test_size=.2, random_state=0)` | `dl_core::data::train_test_split(&x, &y, 0.2, 0)` |
//! | `StandardScaler().fit(X_train)` | `dl_core::data::Standardizer::fit(&x_train)` |
//! | `MinMaxScaler`, `SimpleImputer(strategy="median")` | `MinMaxScaler::fit`, `dl_core::data::impute_median` |
//! | `KFold`, `StratifiedKFold`, `LeaveOneOut` | `dl_core::model_selection::{k_fold, stratified_k_fold, leave_one_out}` |
//! | `cross_val_score` | `dl_core::model_selection::cross_val_score(&x, &y, &folds, \|xt, yt, xv, yv\| score)` |
//! | `accuracy_score`, `f1_score(average="macro")`, `roc_auc_score`, `r2_score` | `dl_core::metrics::{accuracy, f1_macro, roc_auc_score, r2_score}` |
//! | `pd.read_csv(path)` | `dl_core::data::read_csv(path)?` (a [`Table`](crate::data::Table), `NaN` for missing, text columns kept as text) |
//! | `pd.get_dummies(df, columns=["city"])` | `table.one_hot_column("city")` |
//! | `Image.open(path).convert("L").resize((28, 28))` (Pillow) | `read_image(path, Color::Grey)?`, then `resize_image(&image, 28, 28)` |
//! | `Image.fromarray(a).save("a.png")` | `write_png("a.png", &image)?` |
//!
//! ## matplotlib → dl-core
//!
//! | matplotlib | dl-core |
//! |---|---|
//! | `plt.plot(history.history["loss"])` | `history.plot().show()` or `plot::line("loss", &[("train", history.get("loss"))]).show()` |
//! | `plt.scatter(X[:,0], X[:,1], c=y)` | `plot::scatter("data", &x, &labels).show()` |
//! | `plt.hist(v, bins=30)` | `plot::histogram("v", &v, 30).show()` |
//! | `plt.imshow(...)` grid of digits | `plot::image_grid("digits", &images, &labels, 8).show()` |
//! | `ConfusionMatrixDisplay(cm)` | `plot::confusion_matrix(&cm, &["0", "1"]).show()` |
//! | `plt.imshow(g, cmap="RdBu_r", vmin=-m, vmax=m)` signed values | `plot::diverging_heatmap("g", &g, &rows, &cols).show()` |
//! | `plt.savefig("f.png")` | `figure.save("f.png")?` (or `.svg`) |
