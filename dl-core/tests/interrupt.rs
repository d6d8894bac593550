//! The cooperative interrupt: fit stops at the next batch, keeps the weights, says so.
//! (Its own test binary: it sets a process-wide environment variable.)

use dl_core::prelude::*;

#[test]
fn fit_stops_when_the_interrupt_file_exists_and_keeps_the_model() {
    let file = std::env::temp_dir().join(format!("dl-core-interrupt-{}", std::process::id()));
    std::fs::remove_file(&file).ok();
    // SAFETY: this test binary has one test, so no other thread reads the environment.
    unsafe { std::env::set_var("DL_KERNEL_INTERRUPT_FILE", &file) };
    assert!(!dl_core::interrupt::requested());

    dl_core::seed(0);
    let x = dl_core::init::uniform(&[256, 1], 0.0, 1.0);
    let y = x.mapv(|v| 2.0 * v);
    let mut model = Sequential::new().add(Dense::new(1, 1));
    model.compile(Sgd::new(0.1), Loss::Mse, &[]);
    let first = model.fit(&x, &y, FitOptions::new().epochs(2).verbose(false));
    assert_eq!(first.stop_reason, StopReason::Completed);

    std::fs::write(&file, b"").unwrap();
    assert!(dl_core::interrupt::requested());
    let before = model.parameters()[0].value.clone();
    let history = model.fit(&x, &y, FitOptions::new().epochs(100).verbose(false));
    assert!(history.interrupted());
    assert_eq!(
        history.stop_reason,
        StopReason::Interrupted { epoch: 1, batch: 1 }
    );
    assert_eq!(
        model.parameters()[0].value,
        before,
        "weights kept as they were"
    );
    assert!(model.is_compiled(), "the model stays compiled and usable");
    assert_eq!(
        dl_core::data::BatchIterator::new(&x, &y, 32, None).count(),
        0
    );

    std::fs::remove_file(&file).unwrap();
    assert!(!dl_core::interrupt::requested());
    let resumed = model.fit(&x, &y, FitOptions::new().epochs(1).verbose(false));
    assert_eq!(resumed.stop_reason, StopReason::Completed);
}
