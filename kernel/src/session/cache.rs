//! The build cache: dl-core and its dependency tree compiled once, reused by every session.
//!
//! Layout under the cache directory:
//!
//! ```text
//! .cargo/config.toml          profile overrides for dependencies (an ancestor of every
//!                             evcxr crate below, so cargo applies it to all of them)
//! templates/<key>/            a warmed evcxr crate directory: dl-core and its deps built
//! templates/<key>/READY       written last: the template is complete (its key, then the
//!                             `rustc` that built it)
//! templates/<key>.lock        flock: exclusive while building, shared while copying
//! templates/.build-<key>-<pid>/   a build in progress, renamed to <key> when done
//! sessions/<pid>-<nanos>/     one per running kernel: evcxr/ (a copy of the template),
//!                             config/evcxr.toml, interrupt (the interrupt file)
//! ```
//!
//! `<key>` is a hash of everything that decides the build: dl-core's files, the workspace
//! lock file, `rustc -vV`, evcxr's version, the linker and the profile settings. When any of
//! them changes the key changes, a new template is built and old ones are removed, so a stale
//! build is never used. Building happens under an exclusive lock into a private directory that
//! is renamed into place, so concurrent kernels never see half a template; copying (about
//! 0.1 s) happens under a shared lock, so a template is never deleted while being copied.
//!
//! A standalone install adds a second, read-only cache made once by the installer
//! (`DL_KERNEL_SHARED_CACHE`, see `cache/shared.rs`): sessions copy its template when the
//! keys match and otherwise build one into their own cache, as above.

mod build_settings;
mod shared;

pub use build_settings::{
    cargo_config, deps_profile, detected_linker, rustc_verbose_version, vendored_sources,
    workspace_lock,
};
pub use shared::{SHARED_CACHE_ENV, shared_cache_dir};

use anyhow::{Context as _, Result};
use sha2::{Digest as _, Sha256};
use std::fs;
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The name of the file that marks a finished template.
const READY: &str = "READY";

/// Paths of the cache.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    /// A read-only cache whose templates are copied first (`DL_KERNEL_SHARED_CACHE`).
    shared: Option<PathBuf>,
}

impl Layout {
    /// Creates the cache's directories (on demand: a reader's first session makes them) and
    /// its cargo configuration file. The shared cache, if one is set and is not `root` itself
    /// (the installer's warm-up), is only read.
    pub fn create(root: &Path) -> Result<Layout> {
        let shared = shared_cache_dir().filter(|shared| !shared::same_dir(shared, root));
        let layout = Layout {
            root: root.to_owned(),
            shared,
        };
        for dir in [layout.templates(), layout.sessions(), root.join(".cargo")] {
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let config = cargo_config(&super::dl_core_path());
        write_if_changed(&root.join(".cargo").join("config.toml"), &config)?;
        Ok(layout)
    }

    /// Where finished templates live.
    pub fn templates(&self) -> PathBuf {
        self.root.join("templates")
    }

    /// Where per-kernel session directories live.
    pub fn sessions(&self) -> PathBuf {
        self.root.join("sessions")
    }

    /// The template directory for `key`.
    pub fn template(&self, key: &str) -> PathBuf {
        self.templates().join(key)
    }

    /// A new, empty, private session directory (removed when the `SessionDir` is dropped).
    pub fn new_session(&self) -> Result<SessionDir> {
        self.collect_dead_sessions();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = self
            .sessions()
            .join(format!("{}-{nanos}", std::process::id()));
        fs::create_dir_all(dir.join("config"))?;
        Ok(SessionDir { dir })
    }

    /// Removes session directories left behind by kernels that are gone (killed, crashed).
    fn collect_dead_sessions(&self) {
        let Ok(entries) = fs::read_dir(self.sessions()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().and_then(|p| p.parse::<i32>().ok());
            if let Some(pid) = pid
                && !process_alive(pid)
            {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Makes sure the template for `key` exists, building it with `build` when it does not,
    /// then copies it into `dest` (which must not exist yet).
    ///
    /// `build` receives an empty directory and must leave a warmed evcxr crate in it. With a
    /// shared cache, its template of the same key is copied instead; when it has none, the
    /// kernel's log says why and the template is built here, once.
    pub fn copy_template(
        &self,
        key: &str,
        dest: &Path,
        build: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        if let Some(shared) = &self.shared {
            match shared::copy_shared_template(shared, key, dest) {
                Ok(true) => return Ok(()),
                Ok(false) => log::warn!(
                    "{}; building dl-core once into {} (a few minutes; later sessions reuse it)",
                    shared::why_not_shared(shared, key),
                    self.root.display()
                ),
                Err(error) => {
                    let _ = fs::remove_dir_all(dest);
                    log::warn!(
                        "copying the shared dl-core build failed ({error:#}); using {} instead",
                        self.root.display()
                    );
                }
            }
        }
        let lock = self.lock(key)?;
        lock.shared()?;
        let template = self.template(key);
        if !template.join(READY).exists() {
            lock.exclusive()?;
            if !template.join(READY).exists() {
                self.build_template(key, build)?;
            }
            lock.shared()?;
        }
        super::template_copy::copy_session_dir(&template, dest)
    }

    /// Builds the template for `key` unless it exists (the `warm-up` sub-command).
    pub fn ensure_template(
        &self,
        key: &str,
        build: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<bool> {
        let lock = self.lock(key)?;
        lock.exclusive()?;
        if self.template(key).join(READY).exists() {
            return Ok(false);
        }
        self.build_template(key, build)?;
        Ok(true)
    }

    fn lock(&self, key: &str) -> Result<FileLock> {
        FileLock::open(&self.templates().join(format!("{key}.lock")))
    }

    /// Call with the exclusive lock held.
    fn build_template(&self, key: &str, build: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        let staging = self
            .templates()
            .join(format!(".build-{key}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging)?;
        if let Err(error) = build(&staging) {
            let _ = fs::remove_dir_all(&staging);
            return Err(error);
        }
        let rustc = shared::rustc_release().unwrap_or_default();
        fs::write(staging.join(READY), format!("{key}\n{rustc}\n"))?;
        let template = self.template(key);
        let _ = fs::remove_dir_all(&template);
        fs::rename(&staging, &template).context("moving the finished template into place")?;
        self.collect_old_templates(key);
        Ok(())
    }

    /// Removes templates of other keys that nobody is copying, and abandoned builds.
    fn collect_old_templates(&self, keep: &str) {
        let Ok(entries) = fs::read_dir(self.templates()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_dir() || name == keep {
                continue;
            }
            if let Some(rest) = name.strip_prefix(".build-") {
                let pid = rest.rsplit('-').next().and_then(|p| p.parse::<i32>().ok());
                if pid.is_some_and(|pid| !process_alive(pid)) {
                    let _ = fs::remove_dir_all(entry.path());
                }
                continue;
            }
            if let Ok(lock) = self.lock(&name)
                && lock.try_exclusive()
            {
                let _ = fs::remove_dir_all(entry.path());
                let _ = fs::remove_file(self.templates().join(format!("{name}.lock")));
            }
        }
    }
}

/// A kernel's private directory; removed when dropped.
#[derive(Debug)]
pub struct SessionDir {
    dir: PathBuf,
}

impl SessionDir {
    /// The directory itself.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// evcxr's crate directory (`EVCXR_TMPDIR`).
    pub fn evcxr_dir(&self) -> PathBuf {
        self.dir.join("evcxr")
    }

    /// The directory `EVCXR_CONFIG_DIR` points at.
    pub fn config_dir(&self) -> PathBuf {
        self.dir.join("config")
    }

    /// The interrupt file (`DL_KERNEL_INTERRUPT_FILE`).
    pub fn interrupt_file(&self) -> PathBuf {
        self.dir.join("interrupt")
    }
}

impl Drop for SessionDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// An advisory lock (flock) on a file; released when dropped.
struct FileLock {
    file: fs::File,
}

impl FileLock {
    fn open(path: &Path) -> Result<FileLock> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("opening lock file {}", path.display()))?;
        Ok(FileLock { file })
    }

    /// A lock on an existing file that may not be written (a shared cache): flock needs
    /// only a descriptor, not write access.
    fn open_read_only(path: &Path) -> Result<FileLock> {
        let file = fs::File::open(path)
            .with_context(|| format!("opening lock file {}", path.display()))?;
        Ok(FileLock { file })
    }

    fn flock(&self, operation: libc::c_int) -> std::io::Result<()> {
        loop {
            // SAFETY: flock on a descriptor owned by `self.file`.
            if unsafe { libc::flock(self.file.as_raw_fd(), operation) } == 0 {
                return Ok(());
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }

    fn shared(&self) -> Result<()> {
        Ok(self.flock(libc::LOCK_SH)?)
    }

    fn exclusive(&self) -> Result<()> {
        Ok(self.flock(libc::LOCK_EX)?)
    }

    fn try_exclusive(&self) -> bool {
        self.flock(libc::LOCK_EX | libc::LOCK_NB).is_ok()
    }
}

/// Whether a process with this id exists.
pub fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&temp, contents)?;
    fs::rename(&temp, path)?;
    Ok(())
}

/// Everything the template's build depends on, hashed into a short key.
#[derive(Debug, Clone)]
pub struct KeyInputs<'a> {
    /// dl-core's directory.
    pub dl_core: &'a Path,
    /// Settings that change how dependencies are compiled (opt levels, linking, linker).
    pub settings: &'a str,
}

/// The cache key: a hex prefix of a SHA-256 over the inputs, dl-core's files (contents and
/// modification times) and the toolchain.
///
/// Modification times count because cargo's own freshness check uses them: a file touched
/// after the template was built (a `git checkout`, an editor's save) would otherwise make
/// every session rebuild dl-core from the unchanged template.
pub fn cache_key(inputs: &KeyInputs) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(b"dl-kernel template v1\n");
    hasher.update(cargo_config(inputs.dl_core).as_bytes());
    hasher.update(inputs.settings.as_bytes());
    hasher.update(inputs.dl_core.to_string_lossy().as_bytes());
    hasher.update(rustc_verbose_version()?);
    let mut files = Vec::new();
    list_files(inputs.dl_core, inputs.dl_core, &mut files)?;
    files.sort();
    for relative in files {
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update(b"\0");
        let path = inputs.dl_core.join(&relative);
        hasher.update(fs::read(&path)?);
        let modified = fs::metadata(&path)?
            .modified()?
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        hasher.update(modified.as_nanos().to_le_bytes());
        hasher.update(b"\0");
    }
    if let Some(lock) = workspace_lock(inputs.dl_core) {
        hasher.update(fs::read(lock)?);
    }
    let digest = hasher.finalize();
    Ok(hex::encode(&digest[..8]))
}

/// Source files of a crate: everything but build output, VCS data and hidden files.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            list_files(root, &path, out)?;
        } else if kind.is_file() {
            out.push(path.strip_prefix(root)?.to_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("dlk-cache-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn key_changes_with_sources_and_settings() {
        let root = scratch("key");
        let krate = root.join("dl-core");
        fs::create_dir_all(krate.join("src")).unwrap();
        fs::create_dir_all(krate.join("target")).unwrap();
        fs::write(krate.join("src/lib.rs"), "pub fn a() {}").unwrap();
        fs::write(krate.join("target/junk"), "1").unwrap();
        let inputs = KeyInputs {
            dl_core: &krate,
            settings: "opt=0",
        };
        let first = cache_key(&inputs).unwrap();
        assert_eq!(first, cache_key(&inputs).unwrap());
        fs::write(krate.join("target/junk"), "2").unwrap();
        assert_eq!(
            first,
            cache_key(&inputs).unwrap(),
            "target/ is not a source"
        );
        fs::write(krate.join("src/lib.rs"), "pub fn b() {}").unwrap();
        let second = cache_key(&inputs).unwrap();
        assert_ne!(first, second);
        // Same contents, newer modification time: cargo would rebuild, so the key changes.
        let lib = fs::File::options()
            .write(true)
            .open(krate.join("src/lib.rs"))
            .unwrap();
        lib.set_modified(SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
        let touched = cache_key(&inputs).unwrap();
        assert_ne!(second, touched, "a touched file changes the key");
        let second = touched;
        let other = KeyInputs {
            dl_core: &krate,
            settings: "opt=1",
        };
        assert_ne!(second, cache_key(&other).unwrap());
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn template_is_built_once_and_copied() {
        let root = scratch("template");
        let layout = Layout::create(&root).unwrap();
        let mut builds = 0;
        for i in 0..2 {
            let dest = root.join(format!("copy{i}"));
            layout
                .copy_template("k1", &dest, |dir| {
                    builds += 1;
                    fs::write(dir.join("built"), "yes").unwrap();
                    Ok(())
                })
                .unwrap();
            assert_eq!(fs::read_to_string(dest.join("built")).unwrap(), "yes");
        }
        assert_eq!(builds, 1);
        // A new key replaces the old template.
        layout.ensure_template("k2", |_| Ok(())).unwrap();
        assert!(!layout.template("k1").exists());
        assert!(layout.template("k2").join(READY).exists());
        // A failed build leaves nothing behind.
        assert!(
            layout
                .ensure_template("k3", |_| anyhow::bail!("no"))
                .is_err()
        );
        assert!(!layout.template("k3").exists());
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn dead_sessions_are_collected() {
        let root = scratch("sessions");
        let layout = Layout::create(&root).unwrap();
        let stale = layout.sessions().join("999999999-1");
        fs::create_dir_all(&stale).unwrap();
        let session = layout.new_session().unwrap();
        assert!(!stale.exists());
        let path = session.path().to_owned();
        assert!(path.exists());
        drop(session);
        assert!(!path.exists());
        let _ = fs::remove_dir_all(root);
    }
}
