//! `dl-kernel`: a Jupyter kernel for deep learning in Rust.
//!
//! Sub-commands: `run` (what Jupyter starts), `install` / `uninstall` (the kernelspec) and
//! `warm-up` (pre-build dl-core into the cache so that sessions start fast).
//!
//! evcxr re-executes this same binary as its child process. In the child, `main` ignores
//! SIGINT and hands control to the session's runtime hook (output relay, standard input,
//! then evcxr's runtime), which never returns.

mod install;

use clap::{Args, Parser, Subcommand};
use dl_kernel::session::{self, EvcxrInterpreter, SessionConfig};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "dl-kernel",
    version,
    about = "A Jupyter kernel for deep learning in Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the kernel (Jupyter starts this, from kernel.json).
    Run {
        /// The connection file written by Jupyter.
        #[arg(long)]
        connection_file: PathBuf,
        /// Where dl-core's prebuilt build is cached (default: the user cache dir).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        #[command(flatten)]
        installed: InstalledArgs,
        /// Do not preload dl-core and its prelude.
        #[arg(long)]
        no_preload: bool,
    },
    /// Install the kernelspec `rust-dl`.
    Install {
        #[command(flatten)]
        location: LocationArgs,
        /// The cache dir the kernel will use (default: chosen from the location; with
        /// `--shared-cache`, each reader's own, `$XDG_CACHE_HOME/dl-kernel` or
        /// `~/.cache/dl-kernel`).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        #[command(flatten)]
        installed: InstalledArgs,
    },
    /// Remove the kernelspec `rust-dl`.
    Uninstall {
        #[command(flatten)]
        location: LocationArgs,
    },
    /// Build dl-core into the cache so that new sessions start without compiling it.
    WarmUp {
        /// The cache dir (default: the user cache dir).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// dl-core's sources (default: `$DL_CORE_PATH`, else the checkout's).
        #[arg(long, value_name = "DIR")]
        dl_core: Option<PathBuf>,
    },
}

/// A standalone install (`scripts/install-standalone.sh`): dl-core's sources and the shared,
/// read-only build of it that every reader's sessions copy.
#[derive(Args, Debug)]
struct InstalledArgs {
    /// A cache made once by the installer's `warm-up`, read and never written by sessions
    /// (sets `DL_KERNEL_SHARED_CACHE`).
    #[arg(long, value_name = "DIR")]
    shared_cache: Option<PathBuf>,
    /// dl-core's sources (sets `DL_CORE_PATH`; default: the checkout's).
    #[arg(long, value_name = "DIR")]
    dl_core: Option<PathBuf>,
}

impl InstalledArgs {
    fn absolute(&self) -> anyhow::Result<install::Installed> {
        let absolute = |dir: &Option<PathBuf>| dir.as_ref().map(std::path::absolute).transpose();
        Ok(install::Installed {
            shared_cache: absolute(&self.shared_cache)?,
            dl_core: absolute(&self.dl_core)?,
        })
    }
}

#[derive(Args, Debug)]
#[group(multiple = false)]
struct LocationArgs {
    /// The user's Jupyter data dir (the default).
    #[arg(long)]
    user: bool,
    /// The prefix of the `python3` on PATH (e.g. the active virtual environment).
    #[arg(long)]
    sys_prefix: bool,
    /// A given prefix: the kernelspec goes to DIR/share/jupyter/kernels.
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
    /// A given Jupyter data dir: the kernelspec goes to DIR/kernels.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl LocationArgs {
    fn location(&self) -> install::Location {
        match (&self.prefix, &self.data_dir, self.sys_prefix) {
            (Some(p), _, _) => install::Location::Prefix(p.clone()),
            (None, Some(d), _) => install::Location::DataDir(d.clone()),
            (None, None, true) => install::Location::SysPrefix,
            (None, None, false) => install::Location::User,
        }
    }
}

/// The directory of the toolchain's `libstd-*.so` (`rustc --print target-libdir`).
///
/// A compiled cell finds libstd through a RUNPATH relative to where rustc wrote it
/// (`$ORIGIN/../..`), but evcxr loads it from one directory higher. That path is still right
/// when the toolchain and the cache share no directory but `/` (extra `..` stop there, as
/// with `~/.rustup` and `~/.cache` of different users), and wrong otherwise (a toolchain and
/// readers' homes both under `/srv`): then the cell's process cannot load the cell.
/// An installed kernel names the directory in `LD_LIBRARY_PATH`, which is searched first.
fn toolchain_library_dir() -> Option<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(rustc)
        .args(["--print", "target-libdir"])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && dir.is_dir()).then_some(dir)
}

/// Points this process at an installed dl-core and shared cache. Call before any other
/// thread exists.
fn use_installed(installed: &install::Installed) {
    let library_path = installed
        .shared_cache
        .as_ref()
        .and_then(|_| toolchain_library_dir())
        .map(|dir| {
            let mut paths = vec![dir];
            if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
                paths.extend(std::env::split_paths(&old));
            }
            std::env::join_paths(paths)
        });
    // SAFETY: called from `real_main` before the session or the protocol core start any
    // thread; nothing reads the environment concurrently.
    unsafe {
        if let Some(dir) = &installed.dl_core {
            std::env::set_var("DL_CORE_PATH", dir);
        }
        if let Some(dir) = &installed.shared_cache {
            std::env::set_var(dl_kernel::session::cache::SHARED_CACHE_ENV, dir);
        }
        if let Some(Ok(paths)) = library_path {
            std::env::set_var("LD_LIBRARY_PATH", paths);
        }
    }
}

fn main() {
    if std::env::var_os("EVCXR_IS_RUNTIME").is_some() {
        // evcxr's child: jupyter_client sends SIGINT to the whole process group, and the
        // child must survive it (the kernel decides how to interrupt a cell).
        // SAFETY: setting a signal disposition to SIG_IGN has no preconditions.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
        }
    }
    // In evcxr's child this never returns.
    session::runtime_hook();

    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,dl_kernel=info,jupyter_core=info"),
    )
    .format_timestamp_millis()
    .init();
    if let Err(e) = real_main(Cli::parse()) {
        log::error!("{e:#}");
        eprintln!("dl-kernel: {e:#}");
        std::process::exit(1);
    }
}

fn real_main(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            connection_file,
            cache_dir,
            installed,
            no_preload,
        } => {
            use_installed(&installed.absolute()?);
            let conn = jupyter_core::ConnectionInfo::read(&connection_file)?;
            let cache_dir = match cache_dir {
                Some(d) => std::path::absolute(d)?,
                None => default_cache_dir()?,
            };
            run_kernel(conn, cache_dir, !no_preload)
        }
        Command::Install {
            location,
            cache_dir,
            installed,
        } => {
            let dir = install::install(&location.location(), cache_dir, &installed.absolute()?)?;
            println!(
                "Installed kernelspec {} in {}",
                install::KERNEL_NAME,
                dir.display()
            );
            Ok(())
        }
        Command::Uninstall { location } => {
            match install::uninstall(&location.location())? {
                Some(dir) => println!("Removed {}", dir.display()),
                None => println!("No kernelspec {} there", install::KERNEL_NAME),
            }
            Ok(())
        }
        Command::WarmUp { cache_dir, dl_core } => {
            use_installed(&install::Installed {
                shared_cache: None,
                dl_core: dl_core.map(std::path::absolute).transpose()?,
            });
            let cache_dir = match cache_dir {
                Some(d) => std::path::absolute(d)?,
                None => default_cache_dir()?,
            };
            warm_up(cache_dir)
        }
    }
}

/// The cache dir when none is given: the session's rule.
fn default_cache_dir() -> anyhow::Result<PathBuf> {
    Ok(std::path::absolute(SessionConfig::default_cache_dir())?)
}

fn run_kernel(
    conn: jupyter_core::ConnectionInfo,
    cache_dir: PathBuf,
    preload: bool,
) -> anyhow::Result<()> {
    // Before any other thread exists: `start` sets evcxr's environment variables.
    let interpreter = EvcxrInterpreter::start(SessionConfig { cache_dir, preload })?;
    jupyter_core::run(conn, interpreter)
}

fn warm_up(cache_dir: PathBuf) -> anyhow::Result<()> {
    session::warm_up(&SessionConfig {
        cache_dir,
        preload: true,
    })
}
