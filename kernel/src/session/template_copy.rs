//! A session's private copy of a template: the crate evcxr compiles cells in, with dl-core and
//! its dependencies already built.
//!
//! The built dependencies (`deps/`: rlibs, rmeta and shared objects, nearly all of the 200-300
//! MB; and `build/`: the dependencies' build scripts and what they generated, about 10 MB)
//! are hard links to the template's files: cargo finds them fresh and never writes them, and
//! rustc replaces an output by renaming a new file over it, so a session cannot change the
//! template through a link. Everything else (sources, manifests, cargo's fingerprints, the cell
//! crate's own outputs) is copied, with modification times kept, since cargo's freshness check
//! reads them. rustc's incremental cache of the cell crate is left behind: every cell is new
//! code.
//!
//! A hard link cannot always be made: not across file systems, and not by a reader to another
//! user's file they may not write (Linux's `fs.protected_hardlinks`, on by default, which is
//! the case of a shared install's template). A dependency the session cannot write is then a
//! symbolic link to it: nobody here can change it, and cargo and rustc only read it (stat and
//! open follow the link, so its modification time is the original's). A file the session could
//! write is copied instead. Copies are made writable by their owner, whatever the template's
//! modes, since cargo and evcxr rewrite manifests, sources and fingerprints.

use anyhow::{Context as _, Result};
use std::fs;
use std::path::Path;

/// The crate evcxr compiles cells in (`ctx`): its outputs are rewritten by every cell.
const CELL_CRATE: &str = "ctx";

/// Copies the template `from` into the new directory `to`.
pub fn copy_session_dir(from: &Path, to: &Path) -> Result<()> {
    copy_tree(from, to, false)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

fn copy_tree(from: &Path, to: &Path, in_deps: bool) -> Result<()> {
    fs::create_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let (source, dest) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name == "incremental" {
                continue;
            }
            copy_tree(&source, &dest, in_deps || name == "deps" || name == "build")?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &dest)?;
        } else if in_deps && shared_safely(&name.to_string_lossy()) {
            link_dependency(&source, &dest)?;
        } else {
            copy_file(&source, &dest)?;
        }
    }
    Ok(())
}

/// Whether a file in `deps/` or `build/` is a built dependency (not an output of the cell crate).
fn shared_safely(name: &str) -> bool {
    let stem = name.strip_prefix("lib").unwrap_or(name);
    !(stem == CELL_CRATE
        || stem.starts_with(&format!("{CELL_CRATE}-"))
        || stem.starts_with(&format!("{CELL_CRATE}."))
        || name.starts_with("code_"))
}

/// A built dependency in the session: a hard link, else a symbolic link to a file this
/// process may not write, else a copy.
fn link_dependency(source: &Path, dest: &Path) -> Result<()> {
    if fs::hard_link(source, dest).is_ok() {
        return Ok(());
    }
    if !writable(source) {
        std::os::unix::fs::symlink(source, dest)?;
        return Ok(());
    }
    copy_file(source, dest)
}

/// Whether this process may write `path` (access(2) with the real user id).
fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt as _;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a NUL-terminated path that lives across the call.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
}

fn copy_file(source: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::copy(source, dest)?;
    let mut permissions = fs::metadata(dest)?.permissions();
    permissions.set_mode(permissions.mode() | 0o200);
    fs::set_permissions(dest, permissions)?;
    let modified = fs::metadata(source)?.modified()?;
    fs::File::options()
        .write(true)
        .open(dest)?
        .set_modified(modified)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_are_linked_and_the_rest_copied_with_its_time() {
        let root = std::env::temp_dir().join(format!("dlk-template-copy-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let template = root.join("template");
        let deps = template.join("target/debug/deps");
        fs::create_dir_all(&deps).unwrap();
        fs::create_dir_all(template.join("target/debug/incremental/ctx-1")).unwrap();
        fs::write(deps.join("libndarray-1.rlib"), "dependency").unwrap();
        fs::write(deps.join("libctx.so"), "cell").unwrap();
        let build_out = template.join("target/debug/build/serde-1/out");
        fs::create_dir_all(&build_out).unwrap();
        fs::write(build_out.join("private.rs"), "generated").unwrap();
        fs::write(template.join("Cargo.toml"), "[package]").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(template.join("Cargo.toml"))
            .unwrap()
            .set_modified(old)
            .unwrap();

        let session = root.join("session");
        copy_session_dir(&template, &session).unwrap();

        use std::os::unix::fs::MetadataExt;
        let inode = |p: &Path| fs::metadata(p).unwrap().ino();
        let session_deps = session.join("target/debug/deps");
        assert_eq!(
            inode(&deps.join("libndarray-1.rlib")),
            inode(&session_deps.join("libndarray-1.rlib"))
        );
        assert_eq!(
            inode(&build_out.join("private.rs")),
            inode(&session.join("target/debug/build/serde-1/out/private.rs")),
            "a build script's output is a dependency's"
        );
        assert_ne!(
            inode(&deps.join("libctx.so")),
            inode(&session_deps.join("libctx.so"))
        );
        assert_eq!(
            fs::read_to_string(session_deps.join("libctx.so")).unwrap(),
            "cell"
        );
        assert_eq!(
            fs::metadata(session.join("Cargo.toml"))
                .unwrap()
                .modified()
                .unwrap(),
            old
        );
        assert!(!session.join("target/debug/incremental").exists());
        fs::remove_dir_all(&root).unwrap();
    }
}
