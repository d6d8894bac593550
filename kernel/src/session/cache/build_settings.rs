//! What decides how a template is built, besides dl-core's own files: cargo's configuration
//! in the cache, the lock file, the toolchain and the linker. All of it goes into the cache key.

use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Profile overrides for every non-workspace package of evcxr's per-cell crate (that is, every
/// dependency: dl-core, ndarray, ...). Cells themselves keep evcxr's `[profile.dev]` with the
/// opt-level set in `evcxr.toml`. `DL_KERNEL_DEPS_OPT_LEVEL` overrides the level (for
/// measurements; use a separate cache directory then).
pub fn deps_profile() -> String {
    let level = std::env::var("DL_KERNEL_DEPS_OPT_LEVEL")
        .ok()
        .filter(|l| ["0", "1", "2", "3"].contains(&l.as_str()))
        .unwrap_or_else(|| "3".to_owned());
    format!(
        "# Written by dl-kernel: dependencies of notebook cells are optimised, cells compile fast.\n\
         [profile.dev.package.\"*\"]\nopt-level = {level}\ndebug-assertions = false\n\
         overflow-checks = false\n"
    )
}

/// The cache's `.cargo/config.toml`: [`deps_profile`] and, when dl-core's dependencies' sources
/// ship beside it (an install's `vendor/`, see [`vendored_sources`]), cargo's crates.io source
/// replaced by that directory, so that a session needs neither the network nor a cargo home
/// of its own, and every reader's cargo sees the same source paths as the template's build.
pub fn cargo_config(dl_core: &Path) -> String {
    let mut config = deps_profile();
    if let Some(vendor) = vendored_sources(dl_core) {
        let directory = serde_json::Value::String(vendor.to_string_lossy().into_owned());
        config.push_str(&format!(
            "\n[source.crates-io]\nreplace-with = \"dl-kernel-vendored\"\n\n\
             [source.dl-kernel-vendored]\ndirectory = {directory}\n"
        ));
    }
    config
}

/// `vendor/` next to dl-core (made by `cargo vendor` at install time), if there is one.
pub fn vendored_sources(dl_core: &Path) -> Option<PathBuf> {
    let vendor = dl_core.parent()?.join("vendor");
    vendor.is_dir().then_some(vendor)
}

/// `rustc -vV` of the `rustc` cells are compiled with (`$RUSTC`, else the one on PATH).
pub fn rustc_verbose_version() -> Result<Vec<u8>> {
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .context("running rustc -vV (is a Rust toolchain on PATH?)")?;
    if !rustc.status.success() {
        anyhow::bail!(
            "rustc -vV failed: {}",
            String::from_utf8_lossy(&rustc.stderr)
        );
    }
    Ok(rustc.stdout)
}

/// The workspace's `Cargo.lock` next to dl-core, whose versions the template reuses.
pub fn workspace_lock(dl_core: &Path) -> Option<PathBuf> {
    let lock = dl_core.parent()?.join("Cargo.lock");
    lock.is_file().then_some(lock)
}

/// The linker evcxr will pick (it looks for mold, then lld, on the PATH).
pub fn detected_linker() -> &'static str {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    };
    if on_path("mold") {
        "mold"
    } else if on_path("lld") {
        "lld"
    } else {
        "system"
    }
}
