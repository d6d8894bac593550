//! Build script: records the compiling rustc's version (a fallback for `language_info`
//! when `rustc --version` cannot be run at start-up) and whether the `session` module is
//! present yet (`cfg(dlk_session)`), so the protocol side builds on its own
//! (`DLK_NO_SESSION=1` forces that, to check that it still does).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(dlk_session)");
    println!("cargo::rerun-if-changed=src/session");
    println!("cargo::rerun-if-env-changed=RUSTC");
    println!("cargo::rerun-if-env-changed=DLK_NO_SESSION");
    let forced_off = std::env::var_os("DLK_NO_SESSION").is_some_and(|v| v == "1");
    if Path::new("src/session/mod.rs").exists() && !forced_off {
        println!("cargo::rustc-cfg=dlk_session");
    }
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
