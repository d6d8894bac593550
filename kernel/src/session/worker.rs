//! The evcxr worker: one thread that owns evcxr's `CommandContext` and does everything slow
//! (start, preload, compile, run, completions), one job at a time.
//!
//! `execute` on the protocol core's thread sends a job and then pumps the cell's output
//! channels while the worker runs it (evcxr blocks until its stdout channel is drained, so the
//! pumping must happen elsewhere: FACTS).

use super::SessionConfig;
use super::cache::{self, Layout, SessionDir};
use super::interrupt::CellState;
use anyhow::{Context as _, Result, anyhow};
use crossbeam_channel::{Receiver, Sender};
use evcxr::{CommandContext, EvalCallbacks, EvalOutputs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Opt level of cell code (`[profile.dev]` of evcxr's crate); dependencies get
/// `cache::deps_profile()`. `DL_KERNEL_CELL_OPT_LEVEL` overrides it (for measurements).
pub fn cell_opt_level() -> String {
    std::env::var("DL_KERNEL_CELL_OPT_LEVEL")
        .ok()
        .filter(|l| ["0", "1", "2", "3", "s", "z"].contains(&l.as_str()))
        .unwrap_or_else(|| "0".to_owned())
}

/// Whether dependencies are linked statically into every cell (evcxr's default, the default
/// here). `DL_KERNEL_STATIC_LINKING=0` links them dynamically, which would give one copy of
/// dl-core's statics for the session, but evcxr's forced-dylib mode failed on dl-core's
/// dependency tree ("only metadata stub found for `dylib` dependency `core`"), so it is off
/// until that is solved.
pub fn static_linking() -> bool {
    !std::env::var("DL_KERNEL_STATIC_LINKING").is_ok_and(|v| v == "0")
}

/// A job for the worker.
pub enum Job {
    /// Run a cell; events go to `events`.
    Execute {
        /// The cell.
        code: String,
        /// Where the worker reports.
        events: Sender<Event>,
    },
    /// Completions at a byte offset.
    Complete {
        /// The cell.
        code: String,
        /// Byte offset of the cursor.
        at: usize,
        /// The answer.
        reply: Sender<Option<evcxr::Completions>>,
    },
    /// Hover text at a byte offset: (plain, html).
    Inspect {
        /// The cell.
        code: String,
        /// Byte offset of the end of the name.
        at: usize,
        /// The answer.
        reply: Sender<Option<(String, String)>>,
    },
    /// Drop everything and start a fresh context.
    Restart,
}

/// What the worker tells `execute` while a cell runs.
pub enum Event {
    /// The output channels of the current context.
    Outputs {
        /// The cell's stdout, line by line.
        stdout: Receiver<String>,
        /// The cell's stderr, line by line.
        stderr: Receiver<String>,
    },
    /// Text to show before the cell's own output (a start-up warning).
    Notice(String),
    /// The cell reads a line of input.
    Input {
        /// The prompt.
        prompt: String,
        /// Hide what is typed.
        password: bool,
        /// The line read, or `None` for end of file.
        answer: Sender<Option<String>>,
    },
    /// The cell has ended.
    Done(Box<Finished>),
}

/// The end of a cell, as evcxr reported it.
pub struct Finished {
    /// evcxr's result.
    pub result: Result<EvalOutputs, CellFailure>,
    /// Variables that existed before the cell.
    pub vars_before: Vec<String>,
    /// The source evcxr compiled last (to place panics in the cell).
    pub generated: Option<String>,
}

/// Why a cell did not run to the end.
pub enum CellFailure {
    /// evcxr's own error.
    Evcxr(evcxr::Error),
    /// The session never started.
    Start(String),
    /// Interrupted before it started.
    InterruptedBeforeStart,
}

/// The worker's state.
pub struct Worker {
    config: SessionConfig,
    session: Option<SessionDir>,
    state: Arc<CellState>,
    context: Option<Live>,
    start_error: Option<String>,
    notices: Vec<String>,
}

struct Live {
    ctx: CommandContext,
    outputs: evcxr::EvalContextOutputs,
}

impl Worker {
    /// A worker for `config`. `session` is the kernel's private directory (preload only).
    pub fn new(config: SessionConfig, session: Option<SessionDir>, state: Arc<CellState>) -> Self {
        Worker {
            config,
            session,
            state,
            context: None,
            start_error: None,
            notices: Vec::new(),
        }
    }

    /// The worker's loop: start, then serve jobs until the sender is dropped.
    pub fn run(mut self, jobs: Receiver<Job>) {
        self.start();
        while let Some(job) = self.next_job(&jobs) {
            match job {
                Job::Execute { code, events } => self.execute(&code, &events),
                Job::Complete { code, at, reply } => {
                    let answer = self.context.as_mut().and_then(|live| {
                        live.ctx
                            .completions(&code, at)
                            .map_err(|e| log::debug!("completions failed: {e}"))
                            .ok()
                    });
                    let _ = reply.send(answer);
                }
                Job::Inspect { code, at, reply } => {
                    let answer = self.context.as_mut().and_then(|live| {
                        live.ctx
                            .hover_at(&code, at)
                            .map_err(|e| log::debug!("hover failed: {e}"))
                            .ok()
                    });
                    let _ = reply.send(answer);
                }
                Job::Restart => {
                    self.stop_context();
                    self.start();
                }
            }
        }
        self.stop_context();
    }

    /// The next job. rust-analyzer is not warmed while idle: cells take their variables' types
    /// from rustc, so only a completion or an inspection loads it (and the first one waits).
    fn next_job(&mut self, jobs: &Receiver<Job>) -> Option<Job> {
        jobs.recv().ok()
    }

    fn stop_context(&mut self) {
        if let Ok(mut child) = self.state.child.lock() {
            *child = None;
        }
        // Dropping the context closes the child's stdin; it exits and is waited for.
        self.context = None;
    }

    fn start(&mut self) {
        let started = Instant::now();
        self.start_error = None;
        match self.try_start() {
            Ok(()) => log::info!("evcxr session ready in {:.2?}", started.elapsed()),
            Err(error) => {
                let message = format!("{error:#}");
                log::error!("the Rust session failed to start: {message}");
                self.start_error = Some(message);
            }
        }
    }

    fn try_start(&mut self) -> Result<()> {
        if !self.config.preload {
            let live = new_context(
                self.state.interrupt_file.as_deref(),
                self.state.comm_socket.as_deref(),
            )?;
            self.context = Some(live);
            self.after_child_start();
            return Ok(());
        }
        let session = self
            .session
            .as_ref()
            .ok_or_else(|| anyhow!("no session directory"))?;
        let evcxr_dir = session.evcxr_dir();
        let config_dir = session.config_dir();
        let dl_core = super::dl_core_path();
        if !evcxr_dir.exists() {
            let layout = Layout::create(&self.config.cache_dir)?;
            let key = template_key(&dl_core)?;
            let started = Instant::now();
            layout.copy_template(&key, &evcxr_dir, |staging| {
                log::info!(
                    "building dl-core for notebook sessions (once) in {}",
                    staging.display()
                );
                build_template(
                    staging,
                    &config_dir,
                    &dl_core,
                    self.state.interrupt_file.as_deref(),
                )
            })?;
            log::info!("session directory ready in {:.2?}", started.elapsed());
        }
        write_evcxr_toml(&config_dir, &evcxr_dir)?;
        // evcxr's first compile rewrites Cargo.lock without dl-core's packages; put the
        // template's back so that `:dep dl-core` resolves to exactly what was built.
        let lock = std::fs::read(evcxr_dir.join("Cargo.lock")).ok();
        let mut live = new_context(
            self.state.interrupt_file.as_deref(),
            self.state.comm_socket.as_deref(),
        )?;
        if let Some(lock) = lock {
            std::fs::write(evcxr_dir.join("Cargo.lock"), lock)?;
        }
        name_dl_core_crates(&mut live.ctx);
        live.ctx.add_type_paths(read_type_paths(&evcxr_dir));
        // dl-core and its prelude in one compile; apart only to tell which of them failed.
        let preload = format!("{}\nuse dl_core::prelude::*;", dep_command(&dl_core));
        if live.ctx.execute(&preload).is_err() {
            if let Err(error) = live.ctx.execute(&dep_command(&dl_core)) {
                self.context = Some(live);
                return Err(anyhow!("`:dep dl-core` failed: {error}"));
            }
            if let Err(error) = live.ctx.execute("use dl_core::prelude::*;") {
                let notice = format!(
                    "dl-kernel: `use dl_core::prelude::*;` failed, dl-core is loaded without \
                     its prelude: {error}\n"
                );
                log::warn!("{notice}");
                self.notices.push(notice);
            }
        }
        self.context = Some(live);
        self.after_child_start();
        Ok(())
    }

    /// Once per child process: publish its handle (for interrupts). What it printed while
    /// starting is dropped with any other stale output when the next cell begins.
    fn after_child_start(&mut self) {
        let Some(live) = self.context.as_mut() else {
            return;
        };
        if let Ok(mut child) = self.state.child.lock() {
            *child = Some(live.ctx.process_handle());
        }
        if let Ok(mut outputs) = self.state.outputs.lock() {
            *outputs = Some((live.outputs.stdout.clone(), live.outputs.stderr.clone()));
        }
    }

    fn execute(&mut self, code: &str, events: &Sender<Event>) {
        for notice in self.notices.drain(..) {
            let _ = events.send(Event::Notice(notice));
        }
        let Some(live) = self.context.as_mut() else {
            let why = self
                .start_error
                .clone()
                .unwrap_or_else(|| "the Rust session is not running".into());
            let _ = events.send(Event::Done(Box::new(Finished {
                result: Err(CellFailure::Start(why)),
                vars_before: Vec::new(),
                generated: None,
            })));
            return;
        };
        // Output still queued is not this cell's: a new child's start-up, or what an
        // interrupted cell printed after it was stopped. (evcxr waits for the queue to be empty
        // at the end of every cell, so it must not be left there.)
        while live.outputs.stdout.try_recv().is_ok() {}
        while live.outputs.stderr.try_recv().is_ok() {}
        let _ = events.send(Event::Outputs {
            stdout: live.outputs.stdout.clone(),
            stderr: live.outputs.stderr.clone(),
        });
        let vars_before: Vec<String> = live
            .ctx
            .variables_and_types()
            .map(|(name, _)| name.to_owned())
            .collect();
        if self.state.interrupted.load(Ordering::SeqCst) {
            let _ = events.send(Event::Done(Box::new(Finished {
                result: Err(CellFailure::InterruptedBeforeStart),
                vars_before,
                generated: None,
            })));
            return;
        }
        self.state.running.store(true, Ordering::SeqCst);
        let mut callbacks = EvalCallbacks {
            input_reader: &|request| {
                let (answer, answer_rx) = crossbeam_channel::bounded(1);
                let sent = events.send(Event::Input {
                    prompt: request.prompt.clone(),
                    password: request.is_password,
                    answer,
                });
                if sent.is_err() {
                    return None;
                }
                answer_rx.recv().ok().flatten()
            },
        };
        let result = live.ctx.execute_with_callbacks(code, &mut callbacks);
        self.state.running.store(false, Ordering::SeqCst);
        let child_died = matches!(result, Err(evcxr::Error::SubprocessTerminated(_)));
        let generated = live.ctx.last_source().ok();
        let _ = events.send(Event::Done(Box::new(Finished {
            result: result.map_err(CellFailure::Evcxr),
            vars_before,
            generated,
        })));
        if child_died {
            // evcxr has started a new child already.
            self.after_child_start();
        }
    }
}

/// `:dep` line for dl-core.
fn dep_command(dl_core: &Path) -> String {
    format!(
        ":dep dl-core = {{ path = {} }}",
        super::markers::json_string(&dl_core.to_string_lossy())
    )
}

/// What decides how dependencies are built, for the cache key.
pub(super) fn template_key(dl_core: &Path) -> Result<String> {
    let settings = format!(
        "evcxr=0.22.0 cell-opt={} static={} linker={} type-paths=1",
        cell_opt_level(),
        static_linking(),
        cache::detected_linker()
    );
    cache::cache_key(&cache::KeyInputs {
        dl_core,
        settings: &settings,
    })
}

/// Builds a template in `staging`: an evcxr crate with dl-core built and its prelude used.
pub(super) fn build_template(
    staging: &Path,
    config_dir: &Path,
    dl_core: &Path,
    interrupt_file: Option<&Path>,
) -> Result<()> {
    write_evcxr_toml(config_dir, staging)?;
    let mut live = new_context(interrupt_file, None)?;
    if let Some(lock) = cache::workspace_lock(dl_core) {
        std::fs::copy(lock, staging.join("Cargo.lock")).context("copying Cargo.lock")?;
    }
    let started = Instant::now();
    live.ctx
        .execute(&dep_command(dl_core))
        .map_err(|e| anyhow!("`:dep dl-core` failed: {e}"))?;
    // The prelude may not exist (yet); a failure here is reported at session start.
    let _ = live.ctx.execute("use dl_core::prelude::*;");
    live.ctx
        .execute("let _dlk_warm = 1;")
        .map_err(|e| anyhow!("first cell after dl-core failed: {e}"))?;
    // A tensor kept from one cell to the next: its type's names are found once here, not in
    // the first cell of every session that uses a tensor.
    name_dl_core_crates(&mut live.ctx);
    for cell in TYPE_PATH_PROBES {
        if let Err(error) = live.ctx.execute(cell) {
            // Only a head start: a session learns the same paths itself.
            log::warn!("learning type paths: the cell `{cell}` failed: {error}");
        }
    }
    write_type_paths(staging, &live.ctx.type_paths())?;
    log::info!(
        "dl-core and its dependencies built in {:.1?}",
        started.elapsed()
    );
    Ok(())
}

/// Tells evcxr how cells name the crates dl-core's types come from: ndarray's types (a tensor's)
/// are reached through dl-core's re-export.
fn name_dl_core_crates(ctx: &mut CommandContext) {
    ctx.add_crate_path("ndarray", "dl_core::ndarray");
}

/// Cells whose variables have the types a session meets first (a tensor, a model), used in a
/// later cell so that the import paths of their types' names are learned once, at build time.
const TYPE_PATH_PROBES: [&str; 2] = [
    "let _dlk_tensor = dl_core::tensor::zeros(&[1]); let _dlk_model = dl_core::nn::Sequential::new();",
    "drop(_dlk_model); drop(_dlk_tensor);",
];

/// The file in a template that keeps the import paths learned for short type names.
const TYPE_PATHS_FILE: &str = "dl-kernel-type-paths.json";

fn write_type_paths(dir: &Path, paths: &[(String, String)]) -> Result<()> {
    let json = serde_json::to_string_pretty(paths)?;
    std::fs::write(dir.join(TYPE_PATHS_FILE), json).context("writing the learned type paths")
}

/// The import paths a template learned; none if it has no file (or an unreadable one).
fn read_type_paths(dir: &Path) -> Vec<(String, String)> {
    std::fs::read(dir.join(TYPE_PATHS_FILE))
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .unwrap_or_default()
}

/// Points evcxr at `tmpdir` with this kernel's settings (`$EVCXR_CONFIG_DIR/evcxr.toml`).
pub fn write_evcxr_toml(config_dir: &Path, tmpdir: &Path) -> Result<()> {
    std::fs::create_dir_all(config_dir)?;
    let toml = format!(
        "# Written by dl-kernel for one session.\n[evcxr]\ntmpdir = {}\nopt_level = \"{}\"\n\
         allow_static_linking = {}\npreserve_vars_on_panic = true\n",
        super::markers::json_string(&tmpdir.to_string_lossy()),
        cell_opt_level(),
        static_linking()
    );
    std::fs::write(config_dir.join("evcxr.toml"), toml)?;
    Ok(())
}

/// A new evcxr context whose child gets the kernel's environment variables.
fn new_context(interrupt_file: Option<&Path>, comm_socket: Option<&Path>) -> Result<Live> {
    let exe: PathBuf = std::env::current_exe().context("finding the kernel's executable")?;
    let mut command = std::process::Command::new(exe);
    command.env("DL_KERNEL", "1");
    // Training allocates and frees the same large buffers (activations, gradients) at every
    // batch. glibc's defaults hand buffers over 128 KiB back to the system at each free and
    // fault them in again at the next batch; this keeps up to 64 MiB of freed memory for
    // reuse, as PyTorch's caching allocator does (measured: the autograd MLP 1.8× faster).
    // A reader's own setting wins.
    for (name, value) in [
        ("MALLOC_MMAP_THRESHOLD_", "16777216"),
        ("MALLOC_TRIM_THRESHOLD_", "67108864"),
    ] {
        if std::env::var_os(name).is_none() {
            command.env(name, value);
        }
    }
    if let Some(file) = interrupt_file {
        command.env("DL_KERNEL_INTERRUPT_FILE", file);
    }
    if let Some(socket) = comm_socket {
        command.env("DL_KERNEL_COMM_SOCKET", socket);
    }
    let (eval, outputs) = evcxr::EvalContext::with_subprocess_command(command)
        .map_err(|e| anyhow!("starting evcxr: {e}"))?;
    Ok(Live {
        ctx: CommandContext::with_eval_context(eval),
        outputs,
    })
}
