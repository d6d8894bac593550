//! The shared cache of a standalone install: dl-core's template built once by the installer,
//! read by every reader's sessions, never written by them.
//!
//! An installed kernelspec runs `dl-kernel run --shared-cache DIR`, which sets
//! `DL_KERNEL_SHARED_CACHE`. A session looks there first for the template of its own key
//! (dl-core's files, the toolchain, the settings: [`super::cache_key`]):
//!
//! - found: it is copied into the reader's session directory under a shared lock. The lock
//!   file is opened read-only (flock needs no write access), so the installer's `warm-up`,
//!   which holds the lock exclusively while it builds, is never seen half done;
//! - not found (the toolchain was upgraded, or the sources changed): the session says which,
//!   and builds a template into the reader's own cache once, where later sessions find it.
//!
//! The copy itself ([`super::super::template_copy`]) links the built dependencies: a hard link
//! where the reader may make one, else a symbolic link to the read-only file.

use super::{FileLock, READY};
use anyhow::Result;
use std::fs;
use std::path::{Path, PathBuf};

/// The variable naming the shared cache (set by `run --shared-cache`).
pub const SHARED_CACHE_ENV: &str = "DL_KERNEL_SHARED_CACHE";

/// The shared cache's directory, if one is set (an empty variable counts as unset).
pub fn shared_cache_dir() -> Option<PathBuf> {
    std::env::var_os(SHARED_CACHE_ENV)
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// Whether two paths name the same directory (the installer's warm-up writes the shared
/// cache as its own).
pub(super) fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Copies the shared template for `key` into `dest`; `false` when the shared cache has none.
pub(super) fn copy_shared_template(shared: &Path, key: &str, dest: &Path) -> Result<bool> {
    let templates = shared.join("templates");
    let lock = FileLock::open_read_only(&templates.join(format!("{key}.lock"))).ok();
    if let Some(lock) = &lock {
        lock.shared()?;
    }
    let template = templates.join(key);
    if !template.join(READY).is_file() {
        return Ok(false);
    }
    super::super::template_copy::copy_session_dir(&template, dest)?;
    Ok(true)
}

/// Why the shared cache has no template for `key`, in the reader's words.
pub(super) fn why_not_shared(shared: &Path, key: &str) -> String {
    let built_by: Vec<String> = fs::read_dir(shared.join("templates"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| fs::read_to_string(entry.path().join(READY)).ok())
        .map(|ready| ready.lines().nth(1).unwrap_or("").trim().to_owned())
        .collect();
    let here = rustc_release().unwrap_or_else(|_| "an unknown rustc".to_owned());
    if built_by.is_empty() {
        format!(
            "the shared dl-core build in {} is missing (the install's warm-up did not run)",
            shared.display()
        )
    } else if !built_by.contains(&here) {
        format!(
            "the shared dl-core build in {} was made by {}, and this session's toolchain is {here}",
            shared.display(),
            built_by.join(", ")
        )
    } else {
        format!(
            "the shared dl-core build in {} was made from other dl-core sources or settings \
             than this session's (template {key})",
            shared.display()
        )
    }
}

/// The first line of `rustc -vV`, such as `rustc 1.95.0 (59807616e 2026-04-14)`.
pub(super) fn rustc_release() -> Result<String> {
    let verbose = super::rustc_verbose_version()?;
    Ok(String::from_utf8_lossy(&verbose)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::super::Layout;
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dlk-shared-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_matching_shared_template_is_copied_and_a_missing_one_explained() {
        let root = scratch("copy");
        let shared = root.join("shared");
        Layout::create(&shared)
            .unwrap()
            .ensure_template("k1", |dir| Ok(fs::write(dir.join("built"), "shared")?))
            .unwrap();
        let ready = fs::read_to_string(shared.join("templates/k1").join(READY)).unwrap();
        assert!(ready.starts_with("k1\nrustc "), "{ready}");

        assert!(copy_shared_template(&shared, "k1", &root.join("s1")).unwrap());
        assert_eq!(fs::read_to_string(root.join("s1/built")).unwrap(), "shared");
        assert!(!copy_shared_template(&shared, "k2", &root.join("s2")).unwrap());
        assert!(!root.join("s2").exists());

        let why = why_not_shared(&shared, "k2");
        assert!(why.contains("other dl-core sources"), "{why}");
        fs::write(
            shared.join("templates/k1").join(READY),
            "k1\nrustc 1.0.0 (old)\n",
        )
        .unwrap();
        let why = why_not_shared(&shared, "k2");
        assert!(why.contains("made by rustc 1.0.0 (old)"), "{why}");
        assert!(why.contains("this session's toolchain is rustc "), "{why}");
        let why = why_not_shared(&root.join("nowhere"), "k2");
        assert!(why.contains("is missing"), "{why}");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_session_uses_the_shared_template_or_builds_its_own_once() {
        let root = scratch("layout");
        let shared = root.join("shared");
        Layout::create(&shared)
            .unwrap()
            .ensure_template("k1", |dir| Ok(fs::write(dir.join("built"), "shared")?))
            .unwrap();
        let mut reader = Layout::create(&root.join("reader")).unwrap();
        reader.shared = Some(shared.clone());
        let mut builds = 0;
        for (key, dest) in [("k1", "a"), ("k2", "b"), ("k2", "c")] {
            reader
                .copy_template(key, &root.join(dest), |dir| {
                    builds += 1;
                    Ok(fs::write(dir.join("built"), "own")?)
                })
                .unwrap();
        }
        assert_eq!(
            builds, 1,
            "k1 came from the shared cache, k2 was built once"
        );
        assert_eq!(fs::read_to_string(root.join("a/built")).unwrap(), "shared");
        assert_eq!(fs::read_to_string(root.join("c/built")).unwrap(), "own");
        assert!(reader.template("k2").join(READY).is_file());
        assert!(
            !shared.join("templates/k2").exists(),
            "the shared cache is not written"
        );
        fs::remove_dir_all(root).unwrap();
    }
}
