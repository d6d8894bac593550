//! The loaders on the book's real data files (`data/` at the repository root).

use dl_core::data::*;
use dl_core::prelude::*;
use std::path::PathBuf;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("data")
        .join(path)
}

#[test]
fn mnist_idx_gzip_loads_ten_thousand_digits() {
    let (x, y) = read_mnist(
        data("mnist/mnist-npm10k-images-idx3-ubyte.gz"),
        data("mnist/mnist-npm10k-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    assert_eq!(x.shape(), &[10_000, 28, 28]);
    assert_eq!(y.shape(), &[10_000]);
    assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    let mut counts = [0usize; 10];
    for &label in y.iter() {
        counts[label as usize] += 1;
    }
    // Per-digit counts from the data set's provenance notes.
    assert_eq!(
        counts,
        [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    );
    let fig = plot::image_grid(
        "MNIST",
        &x.slice(s![0..8, .., ..]).to_owned().into_dyn(),
        &["a"; 8],
        4,
    );
    assert!(fig.to_png().is_ok());
}

#[test]
fn a_missing_file_names_the_path() {
    let err = read_mnist(data("mnist/nope.gz"), data("mnist/nope-labels.gz")).unwrap_err();
    assert!(matches!(err, dl_core::DlError::NotFound { .. }));
    assert!(err.to_string().contains("nope.gz"), "{err}");
    assert!(
        read_csv(data("tabular/nope.csv"))
            .unwrap_err()
            .to_string()
            .contains("nope.csv")
    );
}

#[test]
fn breast_cancer_csv_gives_features_and_labels() {
    let table = read_csv(data("tabular/breast_cancer.csv")).unwrap();
    assert_eq!(table.data.dim(), (569, 31));
    let (x, y) = table.features_and_target(-1);
    assert_eq!(x.shape(), &[569, 30]);
    assert_eq!(y.iter().filter(|&&v| v == 1.0).count(), 357); // benign
    let split = train_test_split(&x, &y, 0.25, 0);
    let scaler = Standardizer::fit(&split.x_train);
    let z = scaler.transform(&split.x_train);
    for col in z
        .clone()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .columns()
    {
        assert!(col.mean().unwrap().abs() < 1e-3);
    }
    let mut model = LogisticRegression::new();
    model.fit(&z, &split.y_train, 0.5, 500);
    assert!(model.accuracy(&scaler.transform(&split.x_test), &split.y_test) > 0.93);
}

#[test]
fn co2_has_missing_values_that_imputation_fills() {
    let table = read_csv(data("timeseries/co2.csv")).unwrap();
    assert_eq!(table.num_missing(), 59);
    let co2 = table.column("co2").unwrap().into_dyn();
    let mean_filled = impute_mean(&co2);
    let median_filled = impute_median(&co2);
    assert!(
        mean_filled.iter().all(|v| v.is_finite()) && median_filled.iter().all(|v| v.is_finite())
    );
    let interpolated = interpolate_linear(co2.as_slice().unwrap());
    assert!(interpolated.iter().all(|v| (300.0..400.0).contains(v)));
    assert_eq!(table.drop_missing_rows().num_rows(), table.num_rows() - 59);
}

#[test]
fn headerless_space_separated_gzip_csv_reads() {
    let table = read_csv_headerless(data("tabular/diabetes_data_raw.csv.gz")).unwrap();
    assert_eq!(table.data.dim(), (442, 10));
    let wine = read_csv(data("tabular/winequality-red.csv.gz")).unwrap();
    assert_eq!(wine.columns.last().unwrap(), "quality");
    let iqr = clip_outliers_iqr(&wine.to_tensor(), 1.5);
    let z = clip_outliers_zscore(&wine.to_tensor(), 3.0);
    assert!(iqr.iter().zip(wine.data.iter()).any(|(a, b)| a != b));
    assert!(z.iter().zip(wine.data.iter()).any(|(a, b)| a != b));
    let scaled = MinMaxScaler::fit(&wine.to_tensor()).transform(&wine.to_tensor());
    assert!(scaled.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn sunspots_become_sliding_windows() {
    let table = read_csv(data("timeseries/sunspots.csv")).unwrap();
    let series = table.column("SUNACTIVITY").unwrap().to_vec();
    assert_eq!(series.len(), 309);
    let (x, y) = sliding_windows(&series, 10, 1);
    assert_eq!(x.shape(), &[299, 10, 1]);
    assert_eq!(y.shape(), &[299, 1]);
    assert_eq!(x[[1, 9, 0]], series[10]);
    assert_eq!(y[[0, 0]], series[10]);
}

#[test]
fn shakespeare_has_a_character_vocabulary() {
    let text = read_text(data("text/shakespeare_7plays.txt")).unwrap();
    assert_eq!(text.chars().count(), 940_232);
    let vocab = CharVocab::from_text(&text);
    assert_eq!(vocab.len(), 76);
    let sample: String = text.chars().take(200).collect();
    assert_eq!(vocab.decode(&vocab.encode(&sample)), sample);
    let (x, y) = vocab.sequences(&sample, 20, 10);
    assert_eq!(x.shape()[1], 20);
    assert_eq!(x.shape()[0], y.shape()[0]);
}

#[test]
fn iris_model_selection_and_metrics() {
    let table = read_csv(data("tabular/iris.csv")).unwrap();
    let (x, y) = table.features_and_target(-1);
    let labels = dl_core::metrics::labels(&y);
    let folds = dl_core::model_selection::stratified_k_fold(&labels, 5, Some(0));
    assert_eq!(folds.len(), 5);
    for f in &folds {
        assert_eq!(f.test.len(), 30);
        for class in 0..3 {
            assert_eq!(f.test.iter().filter(|&&i| labels[i] == class).count(), 10);
        }
    }
    let scores = dl_core::model_selection::cross_val_score(&x, &y, &folds, |xt, yt, xv, yv| {
        dl_core::seed(0);
        let scaler = Standardizer::fit(xt);
        let mut model = Sequential::new()
            .add(Dense::new(4, 16))
            .add(Relu::new())
            .add(Dense::new(16, 3));
        model.compile(
            Adam::new(0.02),
            Loss::SparseCategoricalCrossEntropyWithLogits,
            &[Metric::Accuracy],
        );
        model.fit(
            &scaler.transform(xt),
            yt,
            FitOptions::new()
                .epochs(60)
                .batch_size(16)
                .seed(1)
                .verbose(false),
        );
        let predicted = dl_core::metrics::predicted_classes(&model.predict(&scaler.transform(xv)));
        dl_core::metrics::accuracy(&dl_core::metrics::labels(yv), &predicted)
    });
    let (mean, _std) = dl_core::model_selection::mean_std(&scores);
    assert!(mean > 0.9, "cross-validated accuracy {mean} ({scores:?})");
    assert_eq!(dl_core::model_selection::leave_one_out(150).len(), 150);
    let cm = dl_core::metrics::confusion_matrix(&labels, &labels, 3);
    assert_eq!(cm.diag().sum(), 150);
    assert_eq!(dl_core::metrics::f1_macro(&labels, &labels), 1.0);
}
