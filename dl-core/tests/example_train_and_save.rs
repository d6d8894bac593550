//! Runs the `train_and_save` example's code (the same function `cargo run --example` calls).

#[path = "../examples/train_and_save.rs"]
mod example;

#[test]
fn the_example_trains_saves_and_reloads() {
    let path =
        std::env::temp_dir().join(format!("dl-core-example-test-{}.json", std::process::id()));
    let accuracy = example::run(&path);
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    std::fs::remove_file(&path).ok();
}
