//! `install` / `uninstall`: the kernelspec (`kernel.json` and two logos) named `rust-dl`.
//!
//! Locations follow `jupyter kernelspec install`:
//! - `--user`: Jupyter's user data dir (`$JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter`
//!   or `~/.local/share/jupyter`; `~/Library/Jupyter` on macOS);
//! - `--sys-prefix`: `<sys.prefix>/share/jupyter` of the `python3` on PATH (a virtual
//!   environment's, when one is active);
//! - `--prefix DIR`: `DIR/share/jupyter`;
//! - `--data-dir DIR`: `DIR` itself (a Jupyter data dir of the caller's choice).
//!
//! The kernelspec's argv runs this very binary (its absolute path) with `run`, and names the
//! cache directory where dl-core's prebuilt build lives: `<prefix>/share/dl-kernel/cache`
//! for the prefix locations, the session's default cache dir for `--user`
//! (`SessionConfig::default_cache_dir`), or `--cache-dir`.
//!
//! A standalone install (`--shared-cache DIR --dl-core DIR`, see
//! `scripts/install-standalone.sh`) names instead the installed dl-core and its shared,
//! read-only build; no cache dir is written into the argv unless given, so that each reader's
//! sessions go to that reader's own cache, made on demand.

use dl_kernel::session::SessionConfig;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The kernelspec's name (`jupyter kernelspec list`, `--kernel_name`).
pub const KERNEL_NAME: &str = "rust-dl";
/// What front ends show.
pub const DISPLAY_NAME: &str = "Rust (dl-core)";

const LOGO_32: &[u8] = include_bytes!("../assets/logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("../assets/logo-64x64.png");

/// Where a kernelspec goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The user's Jupyter data dir.
    User,
    /// The prefix of the `python3` on PATH.
    SysPrefix,
    /// A given prefix.
    Prefix(PathBuf),
    /// A given Jupyter data dir.
    DataDir(PathBuf),
}

/// What a standalone install adds to the kernel's command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    /// The shared cache: dl-core's build, made once by the installer (`--shared-cache`).
    pub shared_cache: Option<PathBuf>,
    /// dl-core's installed sources (`--dl-core`).
    pub dl_core: Option<PathBuf>,
}

fn home() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("HOME is not set"))
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `sys.prefix` of the `python3` on PATH.
pub fn python_sys_prefix() -> anyhow::Result<PathBuf> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run python3 to find sys.prefix: {e}"))?;
    if !out.status.success() {
        anyhow::bail!("python3 failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let prefix = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if prefix.is_empty() {
        anyhow::bail!("python3 printed no sys.prefix");
    }
    Ok(PathBuf::from(prefix))
}

impl Location {
    /// The installation prefix, for the prefix locations.
    fn prefix(&self) -> anyhow::Result<Option<PathBuf>> {
        Ok(match self {
            Location::User | Location::DataDir(_) => None,
            Location::SysPrefix => Some(python_sys_prefix()?),
            Location::Prefix(p) => Some(std::path::absolute(p)?),
        })
    }

    /// The Jupyter data dir (`.../share/jupyter` or the user's).
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(prefix) = self.prefix()? {
            return Ok(prefix.join("share").join("jupyter"));
        }
        if let Location::DataDir(dir) = self {
            return Ok(std::path::absolute(dir)?);
        }
        if let Some(dir) = env_dir("JUPYTER_DATA_DIR") {
            return Ok(std::path::absolute(dir)?);
        }
        if cfg!(target_os = "macos") {
            return Ok(home()?.join("Library").join("Jupyter"));
        }
        let data =
            env_dir("XDG_DATA_HOME").map_or_else(|| home().map(|h| h.join(".local/share")), Ok)?;
        Ok(data.join("jupyter"))
    }

    /// The default cache dir for dl-core's prebuilt build at this location.
    pub fn cache_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(prefix) = self.prefix()? {
            return Ok(prefix.join("share").join("dl-kernel").join("cache"));
        }
        Ok(std::path::absolute(SessionConfig::default_cache_dir())?)
    }
}

/// The kernel.json content: `run` with the cache dir, if one is given, and an install's
/// shared cache and dl-core.
pub fn kernel_json(exe: &Path, cache_dir: Option<&Path>, installed: &Installed) -> Value {
    let mut argv: Vec<String> = [exe.to_string_lossy().as_ref(), "run"]
        .into_iter()
        .chain(["--connection-file", "{connection_file}"])
        .map(str::to_owned)
        .collect();
    for (flag, dir) in [
        ("--cache-dir", cache_dir),
        ("--shared-cache", installed.shared_cache.as_deref()),
        ("--dl-core", installed.dl_core.as_deref()),
    ] {
        if let Some(dir) = dir {
            argv.extend([flag.to_owned(), dir.to_string_lossy().into_owned()]);
        }
    }
    json!({
        "argv": argv,
        "display_name": DISPLAY_NAME,
        "language": "rust",
        "interrupt_mode": "signal",
        "metadata": { "debugger": false },
    })
}

/// Writes the kernelspec; returns its directory.
///
/// With a shared cache, it must already hold a build (the install's `warm-up` runs first),
/// and the cache dir is left to each reader unless `cache_dir` is given.
pub fn install(
    location: &Location,
    cache_dir: Option<PathBuf>,
    installed: &Installed,
) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?.canonicalize()?;
    let cache_dir = match (cache_dir, &installed.shared_cache) {
        (Some(d), _) => Some(std::path::absolute(d)?),
        (None, Some(_)) => None,
        (None, None) => Some(location.cache_dir()?),
    };
    if let Some(shared) = &installed.shared_cache
        && !shared.join("templates").is_dir()
    {
        anyhow::bail!(
            "{} holds no dl-core build: run `dl-kernel warm-up --cache-dir {0}` first",
            shared.display()
        );
    }
    let dir = location.data_dir()?.join("kernels").join(KERNEL_NAME);
    write_spec(&dir, &kernel_json(&exe, cache_dir.as_deref(), installed))?;
    if let Some(cache_dir) = &cache_dir {
        std::fs::create_dir_all(cache_dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", cache_dir.display()))?;
    }
    Ok(dir)
}

fn write_spec(dir: &Path, spec: &Value) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(spec)?;
    std::fs::write(dir.join("kernel.json"), json + "\n")?;
    std::fs::write(dir.join("logo-32x32.png"), LOGO_32)?;
    std::fs::write(dir.join("logo-64x64.png"), LOGO_64)?;
    Ok(())
}

/// Removes the kernelspec at `location`; returns the directory removed, if there was one.
pub fn uninstall(location: &Location) -> anyhow::Result<Option<PathBuf>> {
    let dir = location.data_dir()?.join("kernels").join(KERNEL_NAME);
    if !dir.join("kernel.json").exists() {
        return Ok(None);
    }
    std::fs::remove_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", dir.display()))?;
    Ok(Some(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_json_runs_this_binary_with_the_connection_file() {
        let spec = kernel_json(
            Path::new("/opt/k/dl-kernel"),
            Some(Path::new("/opt/cache")),
            &Installed::default(),
        );
        let argv: Vec<&str> = spec["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            argv,
            [
                "/opt/k/dl-kernel",
                "run",
                "--connection-file",
                "{connection_file}",
                "--cache-dir",
                "/opt/cache"
            ]
        );
        assert_eq!(spec["display_name"], DISPLAY_NAME);
        assert_eq!(spec["language"], "rust");
        assert_eq!(spec["interrupt_mode"], "signal");
    }

    #[test]
    fn a_standalone_kernelspec_names_the_installed_dl_core_and_shared_build() {
        let installed = Installed {
            shared_cache: Some("/opt/rust-dl/share/dl-kernel/cache".into()),
            dl_core: Some("/opt/rust-dl/share/dl-kernel/src/dl-core".into()),
        };
        let spec = kernel_json(Path::new("/opt/rust-dl/bin/dl-kernel"), None, &installed);
        let argv: Vec<&str> = spec["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            argv[4..],
            [
                "--shared-cache",
                "/opt/rust-dl/share/dl-kernel/cache",
                "--dl-core",
                "/opt/rust-dl/share/dl-kernel/src/dl-core"
            ]
        );
        let root = std::env::temp_dir().join(format!("dlk-standalone-{}", uuid::Uuid::new_v4()));
        let missing = Installed {
            shared_cache: Some(root.join("cache")),
            dl_core: None,
        };
        let error = install(&Location::DataDir(root.join("jupyter")), None, &missing)
            .unwrap_err()
            .to_string();
        assert!(error.contains("holds no dl-core build"), "{error}");
        std::fs::create_dir_all(root.join("cache/templates")).unwrap();
        let dir = install(&Location::DataDir(root.join("jupyter")), None, &missing).unwrap();
        assert_eq!(dir, root.join("jupyter/kernels/rust-dl"));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn logos_are_pngs_of_the_right_size() {
        for (png, size) in [(LOGO_32, 32u32), (LOGO_64, 64)] {
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
            let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
            assert_eq!((w, h), (size, size));
        }
    }

    #[test]
    fn prefix_install_and_uninstall_round_trip() {
        let root = std::env::temp_dir().join(format!("dlk-install-{}", uuid::Uuid::new_v4()));
        let loc = Location::Prefix(root.clone());
        assert_eq!(loc.data_dir().unwrap(), root.join("share/jupyter"));
        assert_eq!(loc.cache_dir().unwrap(), root.join("share/dl-kernel/cache"));
        let dir = install(&loc, None, &Installed::default()).unwrap();
        assert_eq!(dir, root.join("share/jupyter/kernels/rust-dl"));
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("kernel.json")).unwrap())
                .unwrap();
        let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
        assert_eq!(spec["argv"][0], exe.to_string_lossy().as_ref());
        assert_eq!(
            spec["argv"][5],
            root.join("share/dl-kernel/cache")
                .to_string_lossy()
                .as_ref()
        );
        assert!(dir.join("logo-64x64.png").exists());
        assert_eq!(uninstall(&loc).unwrap(), Some(dir.clone()));
        assert!(!dir.exists());
        assert_eq!(uninstall(&loc).unwrap(), None);
        std::fs::remove_dir_all(root).unwrap();
    }
}
