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
        /// Do not preload dl-core and its prelude.
        #[arg(long)]
        no_preload: bool,
    },
    /// Install the kernelspec `rust-dl`.
    Install {
        #[command(flatten)]
        location: LocationArgs,
        /// The cache dir the kernel will use (default: chosen from the location).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
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
    },
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
}

impl LocationArgs {
    fn location(&self) -> install::Location {
        match (&self.prefix, self.sys_prefix) {
            (Some(p), _) => install::Location::Prefix(p.clone()),
            (None, true) => install::Location::SysPrefix,
            (None, false) => install::Location::User,
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
            no_preload,
        } => {
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
        } => {
            let dir = install::install(&location.location(), cache_dir)?;
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
        Command::WarmUp { cache_dir } => {
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
