//! Rust's `language_info` and banner, for the interpreter to return from
//! `Interpreter::language_info` / `banner`.
//!
//! The rustc version is asked once (`rustc --version`, about 30 ms) on a background thread
//! started by [`prefetch`]; if that fails, the version of the rustc that built this kernel is
//! used. Either way `kernel_info` never waits for evcxr.

use serde_json::{Value, json};
use std::sync::OnceLock;

static RUSTC_VERSION: OnceLock<String> = OnceLock::new();

/// Starts asking rustc for its version in the background.
pub fn prefetch() {
    std::thread::spawn(|| {
        rustc_version();
    });
}

/// The semantic version of the `rustc` on PATH, e.g. `1.95.0`.
pub fn rustc_version() -> &'static str {
    RUSTC_VERSION.get_or_init(|| {
        let line = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|| env!("DLK_BUILD_RUSTC_VERSION").to_owned());
        parse_rustc_version(&line).unwrap_or_default()
    })
}

/// `rustc 1.95.0 (59807616e 2026-04-14)` → `1.95.0`.
pub fn parse_rustc_version(line: &str) -> Option<String> {
    let version = line.split_whitespace().nth(1)?;
    version
        .chars()
        .next()
        .filter(char::is_ascii_digit)
        .map(|_| version.to_owned())
}

/// `language_info` for Rust.
pub fn rust_language_info() -> Value {
    json!({
        "name": "rust",
        "version": rustc_version(),
        "mimetype": "text/rust",
        "file_extension": ".rs",
        "pygments_lexer": "rust",
        "codemirror_mode": "rust",
    })
}

/// The kernel's banner.
pub fn banner() -> String {
    format!(
        "Rust {} with dl-core — dl-kernel {} (cells run through evcxr)",
        rustc_version(),
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rustc_version_lines() {
        assert_eq!(
            parse_rustc_version("rustc 1.95.0 (59807616e 2026-04-14)").as_deref(),
            Some("1.95.0")
        );
        assert_eq!(
            parse_rustc_version("rustc 1.96.0-nightly (abc 2026-05-01)").as_deref(),
            Some("1.96.0-nightly")
        );
        assert_eq!(parse_rustc_version("error: no such command"), None);
        assert_eq!(parse_rustc_version(""), None);
    }

    #[test]
    fn language_info_has_the_fields_front_ends_use() {
        let info = rust_language_info();
        assert_eq!(info["name"], "rust");
        assert_eq!(info["file_extension"], ".rs");
        assert_eq!(info["mimetype"], "text/rust");
        assert_eq!(info["codemirror_mode"], "rust");
        assert_eq!(info["pygments_lexer"], "rust");
        assert!(
            info["version"]
                .as_str()
                .is_some_and(|v| v.starts_with("1."))
        );
    }
}
