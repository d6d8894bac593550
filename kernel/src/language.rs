//! What `kernel_info_reply` says about dl-kernel and Rust: the implementation, Rust's
//! `language_info`, the banner and the help links, for the interpreter to return from
//! `Interpreter::kernel_info`.
//!
//! The rustc version is asked once (`rustc --version`, about 30 ms) on a background thread
//! started by [`prefetch`]; if that fails, the version of the rustc that built this kernel is
//! used. Either way `kernel_info` never waits for evcxr.

use jupyter_core::interpreter::{HelpLink, KernelInfo, LanguageInfo};
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

/// dl-kernel's `kernel_info`, with `banner` as its banner.
pub fn kernel_info(banner: String) -> KernelInfo {
    KernelInfo {
        implementation: "dl-kernel".to_owned(),
        implementation_version: env!("CARGO_PKG_VERSION").to_owned(),
        language_info: rust_language_info(),
        banner,
        help_links: help_links(),
    }
}

/// `language_info` for Rust.
pub fn rust_language_info() -> LanguageInfo {
    LanguageInfo {
        name: "rust".to_owned(),
        version: rustc_version().to_owned(),
        mimetype: "text/rust".to_owned(),
        file_extension: ".rs".to_owned(),
        pygments_lexer: Some("rust".to_owned()),
        codemirror_mode: Some("rust".to_owned()),
    }
}

/// The help menu's links: the standard library, the book, evcxr.
pub fn help_links() -> Vec<HelpLink> {
    [
        ("Rust standard library", "https://doc.rust-lang.org/std/"),
        ("The Rust book", "https://doc.rust-lang.org/book/"),
        ("evcxr", "https://github.com/evcxr/evcxr"),
    ]
    .into_iter()
    .map(|(text, url)| HelpLink {
        text: text.to_owned(),
        url: url.to_owned(),
    })
    .collect()
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
        let info = serde_json::to_value(rust_language_info()).unwrap();
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

    #[test]
    fn kernel_info_names_dl_kernel_and_links_the_rust_docs() {
        let info = kernel_info("banner".into());
        assert_eq!(info.implementation, "dl-kernel");
        assert_eq!(info.banner, "banner");
        assert!(
            info.help_links
                .iter()
                .any(|l| l.url == "https://doc.rust-lang.org/std/")
        );
    }
}
