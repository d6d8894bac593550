//! Inside the kernel (DL_KERNEL=1) displays are marker lines and fit shows live progress.
//! (Its own test binary: it sets a process-wide environment variable.)

use dl_core::prelude::*;

#[test]
fn fit_and_show_run_in_kernel_mode() {
    // SAFETY: this test binary has one test, so no other thread reads the environment.
    unsafe { std::env::set_var("DL_KERNEL", "1") };
    assert!(dl_core::display::in_kernel());
    dl_core::seed(0);
    let x = dl_core::init::uniform(&[64, 2], 0.0, 1.0);
    let y = x
        .map_axis(Axis(1), |r| (r[0] > 0.5) as u8 as f32)
        .insert_axis(Axis(1))
        .into_dyn();
    let mut model = Sequential::new().add(Dense::new(2, 1)).add(Sigmoid::new());
    model.compile(
        Adam::new(0.05),
        Loss::BinaryCrossEntropy,
        &[Metric::Accuracy],
    );
    let history = model.fit(&x, &y, FitOptions::new().epochs(3).validation_split(0.25));
    assert_eq!(history.num_epochs(), 3);
    let bundle = history.mime_bundle();
    assert!(bundle.get("image/png").is_some() && bundle.get("image/svg+xml").is_some());
    history.show();
    x.show();
}
