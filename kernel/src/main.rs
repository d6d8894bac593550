//! `dl-kernel`: a Jupyter kernel for deep learning in Rust.
//!
//! Sub-commands: `run` (what Jupyter starts), `install` / `uninstall` (the kernelspec) and
//! `warm-up` (pre-build dl-core into the cache so that sessions start fast).
//!
//! evcxr re-executes this same binary as its child process; `main` hands control to
//! `evcxr::runtime_hook()` first, which never returns in the child.

mod connection;
mod core;
mod history;
mod install;
// The language boundary is the whole protocol surface; the one implementation and the core
// do not use every part of it (`restart`, `Completeness::Unknown`, some request fields).
#[allow(dead_code)]
mod interpreter;
mod is_complete;
mod language;
mod messages;
mod server;
#[cfg(dlk_session)]
mod session;
mod wire;

use clap::{Args, Parser, Subcommand};
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
    #[cfg(dlk_session)]
    session::runtime_hook();
    #[cfg(not(dlk_session))]
    evcxr::runtime_hook();

    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,dl_kernel=info"),
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
            let conn = connection::ConnectionInfo::read(&connection_file)?;
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

/// The cache dir when none is given: the session's own rule.
#[cfg(dlk_session)]
fn default_cache_dir() -> anyhow::Result<PathBuf> {
    Ok(std::path::absolute(
        session::SessionConfig::default_cache_dir(),
    )?)
}

#[cfg(not(dlk_session))]
fn default_cache_dir() -> anyhow::Result<PathBuf> {
    install::user_cache_dir()
}

#[cfg(dlk_session)]
fn run_kernel(
    conn: connection::ConnectionInfo,
    cache_dir: PathBuf,
    preload: bool,
) -> anyhow::Result<()> {
    // Before any other thread exists: `start` sets evcxr's environment variables.
    let interpreter =
        session::EvcxrInterpreter::start(session::SessionConfig { cache_dir, preload })?;
    server::run(conn, interpreter)
}

#[cfg(dlk_session)]
fn warm_up(cache_dir: PathBuf) -> anyhow::Result<()> {
    session::warm_up(&session::SessionConfig {
        cache_dir,
        preload: true,
    })
}

#[cfg(not(dlk_session))]
fn run_kernel(
    conn: connection::ConnectionInfo,
    _cache_dir: PathBuf,
    _preload: bool,
) -> anyhow::Result<()> {
    language::prefetch();
    server::run(conn, no_session::NoSession)
}

#[cfg(not(dlk_session))]
fn warm_up(_cache_dir: PathBuf) -> anyhow::Result<()> {
    anyhow::bail!("this build has no Rust session (src/session/ is missing)")
}

/// Stand-in used only while `src/session/` does not exist: the protocol works, every cell
/// fails with a clear error.
#[cfg(not(dlk_session))]
mod no_session {
    use crate::interpreter::*;
    use std::sync::Arc;

    pub struct NoSession;

    struct Nothing;
    impl Interrupter for Nothing {
        fn interrupt(&self) {}
    }

    impl Interpreter for NoSession {
        fn execute(&mut self, _: &ExecuteRequest, _: &dyn OutputSink) -> ExecuteOutcome {
            ExecuteOutcome::Error(ExecuteError {
                ename: "NoSession".into(),
                evalue: "this build of dl-kernel has no Rust session".into(),
                traceback: vec!["this build of dl-kernel has no Rust session".into()],
            })
        }
        fn complete(&mut self, _: &str, cursor_pos: usize) -> Completions {
            Completions {
                matches: vec![],
                cursor_start: cursor_pos,
                cursor_end: cursor_pos,
            }
        }
        fn inspect(&mut self, _: &str, _: usize, _: u8) -> Inspection {
            None
        }
        fn is_complete(&mut self, code: &str) -> Completeness {
            crate::is_complete::is_complete(code)
        }
        fn interrupter(&self) -> Arc<dyn Interrupter> {
            Arc::new(Nothing)
        }
        fn restart(&mut self) {}
        fn language_info(&self) -> serde_json::Value {
            crate::language::rust_language_info()
        }
        fn banner(&self) -> String {
            crate::language::banner()
        }
    }
}
