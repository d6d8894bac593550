//! Build script: records the compiling rustc's version, the fallback for `language_info`
//! when `rustc --version` cannot be run at start-up.

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!("cargo::rustc-env=DLK_BUILD_RUSTC_VERSION={version}");
}
