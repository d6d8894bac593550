//! The Rust side of the kernel: an [`Interpreter`] over evcxr, with dl-core preloaded.
//!
//! - `worker`: one thread owns evcxr's context (start, preload, compile, run, completions).
//! - `cache`: dl-core and its dependencies built once into a template, copied per session.
//! - `markers`: the display protocol's parser (`DLK_DISPLAY` ... lines → outputs).
//! - `pump`: a running cell's output on its way to the page; `panic_message` reads its panic.
//! - comms: `comm_channel` carries the page's comm messages to the child (a Unix socket);
//!   `route` sends the child's output to the comm message it handles; `idle_relay` reads the
//!   child's output between cells.
//! - `outcome`: how a cell ended, as the page is told; `cursor`: code points and bytes.
//! - `child`: what runs in evcxr's child before evcxr's runtime (output relay, standard input).
//! - `interrupt`: the interrupt file, then a forced stop after a grace period.
//! - `report`: compile errors, panics and crashes as the reader sees them.
//!
//! Choices, measured on a two-core machine: cells are compiled at opt-level 0 while
//! dependencies are built at 3 (a `.cargo/config.toml` in the cache directory, an ancestor
//! of every evcxr crate); dependencies are linked statically into
//! each cell (evcxr's default), so each cell has its own copy of dl-core, and dl-core keeps
//! the state that must outlive a cell process-wide (`dl_core::process_wide`). evcxr is
//! vendored (`kernel/vendor/README.md`): the types of new variables come from the cell's own
//! compile, so rust-analyzer is loaded only for a completion or an inspection.

pub mod cache;
mod child;
mod comm_channel;
mod cursor;
mod idle_relay;
mod interrupt;
pub mod markers;
mod outcome;
mod panic_message;
mod pump;
mod report;
mod route;
mod template_copy;
mod worker;

pub use child::runtime_hook;

use anyhow::{Context as _, Result};
use comm_channel::ChildComms;
use crossbeam_channel::{Receiver, Sender, never, select};
use cursor::{byte_offset, char_offset, end_of_name};
use idle_relay::IdleRelay;
use interrupt::{CellInterrupter, CellState};
use jupyter_core::comms::CommHub;
use jupyter_core::interpreter::CommReceiver;
use jupyter_core::interpreter::{
    Completeness, Completions, ExecuteOutcome, ExecuteRequest, Inspection, Interpreter,
    Interrupter, KernelInfo, MimeBundle, OutputSink, StreamName,
};
use outcome::error_outcome;
use pump::Pump;
use route::OutputRoute;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use worker::{Event, Finished, Job, Worker};

/// How a session is set up.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Where the prebuilt dl-core templates and the per-session directories live.
    pub cache_dir: PathBuf,
    /// Start every session with dl-core as a dependency and its prelude in scope.
    pub preload: bool,
}

impl SessionConfig {
    /// `$DL_KERNEL_CACHE_DIR`, else `$XDG_CACHE_HOME/dl-kernel`, else `~/.cache/dl-kernel`
    /// (an empty variable counts as unset). The kernel's one rule: `run`, `warm-up` and
    /// `install --user` all use it.
    pub fn default_cache_dir() -> PathBuf {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("DL_KERNEL_CACHE_DIR") {
            return PathBuf::from(dir);
        }
        if let Some(dir) = var("XDG_CACHE_HOME") {
            return PathBuf::from(dir).join("dl-kernel");
        }
        let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
        home.join(".cache").join("dl-kernel")
    }
}

/// dl-core's directory: `$DL_CORE_PATH`, else the `dl-core` next to this crate's sources.
pub fn dl_core_path() -> PathBuf {
    let path = std::env::var_os("DL_CORE_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dl-core"));
    std::fs::canonicalize(&path).unwrap_or(path)
}

/// The `warm-up` sub-command: build dl-core's template now (it is rebuilt only when dl-core's
/// files, the lock file, the toolchain or the settings change).
pub fn warm_up(config: &SessionConfig) -> Result<()> {
    let layout = cache::Layout::create(&config.cache_dir)?;
    let session = layout.new_session()?;
    set_evcxr_env(&session.config_dir());
    let dl_core = dl_core_path();
    let started = Instant::now();
    eprintln!(
        "dl-kernel warm-up: dl-core at {}, cache at {}",
        dl_core.display(),
        config.cache_dir.display()
    );
    let key = worker::template_key(&dl_core)?;
    let built = layout.ensure_template(&key, |staging| {
        eprintln!("dl-kernel warm-up: building dl-core and its dependencies (once)...");
        worker::build_template(staging, &session.config_dir(), &dl_core, None)
    })?;
    if built {
        eprintln!(
            "dl-kernel warm-up: template {key} built in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    } else {
        eprintln!("dl-kernel warm-up: template {key} is up to date");
    }
    Ok(())
}

fn set_evcxr_env(config_dir: &std::path::Path) {
    // SAFETY: called before any other thread exists (`main` starts the session before the
    // protocol core's runtime, and `warm-up` has no other thread); evcxr only reads these
    // variables.
    unsafe {
        std::env::set_var("EVCXR_CONFIG_DIR", config_dir);
        std::env::remove_var("EVCXR_TMPDIR");
    }
}

/// The evcxr interpreter. Cheap to create: evcxr starts on its worker thread.
pub struct EvcxrInterpreter {
    jobs: Option<Sender<Job>>,
    worker: Option<std::thread::JoinHandle<()>>,
    state: Arc<CellState>,
    route: Arc<OutputRoute>,
    relay: Arc<IdleRelay>,
    comms: Option<Arc<ChildComms>>,
}

impl EvcxrInterpreter {
    /// Starts a session in the background and returns at once.
    pub fn start(config: SessionConfig) -> Result<EvcxrInterpreter> {
        let session = if config.preload {
            let layout = cache::Layout::create(&config.cache_dir)?;
            let session = layout.new_session()?;
            set_evcxr_env(&session.config_dir());
            Some(session)
        } else {
            None
        };
        let route = Arc::new(OutputRoute::default());
        let comms = ChildComms::listen(Arc::clone(&route))
            .map_err(|e| log::warn!("no comm socket, widgets will not answer: {e}"))
            .ok()
            .map(Arc::new);
        let state = Arc::new(CellState {
            comm_socket: comms.as_ref().map(|c| c.path().to_owned()),
            interrupt_file: Some(match &session {
                Some(session) => session.interrupt_file(),
                None => {
                    std::env::temp_dir().join(format!("dl-kernel-interrupt-{}", std::process::id()))
                }
            }),
            ..CellState::default()
        });
        crate::language::prefetch();
        let (jobs, jobs_rx) = crossbeam_channel::unbounded();
        let worker_state = Arc::clone(&state);
        let handle = std::thread::Builder::new()
            .name("dlk-evcxr".into())
            // The worker (and evcxr's context, which need not be `Send`) lives on its thread.
            .spawn(move || Worker::new(config, session, worker_state).run(jobs_rx))
            .context("starting the evcxr worker thread")?;
        let relay = IdleRelay::start(Arc::clone(&state), Arc::clone(&route))
            .context("starting the idle output relay")?;
        Ok(EvcxrInterpreter {
            jobs: Some(jobs),
            worker: Some(handle),
            state,
            route,
            relay,
            comms,
        })
    }

    fn send(&self, job: Job) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok())
    }
}

impl Drop for EvcxrInterpreter {
    fn drop(&mut self) {
        // Closing the job queue ends the worker, which stops evcxr's child and removes the
        // session directory. Wait a little for it, not forever.
        self.relay.stop();
        self.jobs = None;
        if let Some(worker) = self.worker.take() {
            let deadline = Instant::now() + Duration::from_secs(3);
            while !worker.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if worker.is_finished() {
                let _ = worker.join();
            }
        }
    }
}

impl Interpreter for EvcxrInterpreter {
    fn execute(&mut self, request: &ExecuteRequest, sink: &dyn OutputSink) -> ExecuteOutcome {
        let _turn = self.relay.take_turn(&self.state, &self.route);
        self.state.begin_cell();
        let (events_tx, events) = crossbeam_channel::unbounded();
        if !self.send(Job::Execute {
            code: request.code.clone(),
            events: events_tx,
        }) {
            return error_outcome(report::other_error("the Rust session has stopped"));
        }
        let mut pump = Pump::for_cell(sink, &self.route);
        let mut stdout: Receiver<String> = never();
        let mut stderr: Receiver<String> = never();
        let mut told_no_stdin = false;
        let finished: Finished = loop {
            select! {
                recv(stdout) -> line => match line {
                    Ok(line) => pump.lines(StreamName::Stdout, line, &stdout),
                    Err(_) => stdout = never(),
                },
                recv(stderr) -> line => match line {
                    Ok(line) => pump.lines(StreamName::Stderr, line, &stderr),
                    Err(_) => stderr = never(),
                },
                recv(events) -> event => match event {
                    Ok(Event::Outputs { stdout: out, stderr: err }) => {
                        stdout = out;
                        stderr = err;
                    }
                    Ok(Event::Notice(text)) => sink.stream(StreamName::Stderr, &text),
                    Ok(Event::Input { prompt, password, answer }) => {
                        let line = if request.allow_stdin {
                            sink.input(&prompt, password)
                        } else {
                            if !told_no_stdin {
                                told_no_stdin = true;
                                sink.stream(
                                    StreamName::Stderr,
                                    "The cell reads from standard input, but this run does not \
                                     take input (the request did not allow stdin): the read \
                                     got end of file.\n",
                                );
                            }
                            None
                        };
                        let _ = answer.send(line);
                    }
                    Ok(Event::Done(finished)) => break *finished,
                    Err(_) => {
                        self.state.end_cell();
                        return error_outcome(report::other_error(
                            "the Rust session stopped while running the cell",
                        ));
                    }
                },
            }
        };
        // evcxr has drained stdout when a cell succeeds; stderr comes through its own thread
        // and may trail a little. After an interrupt, what is still queued is dropped.
        let interrupted = self.state.interrupted.load(Ordering::SeqCst);
        let quiet_for = Duration::from_millis(if interrupted { 0 } else { 30 });
        let deadline = Instant::now() + Duration::from_millis(if interrupted { 100 } else { 2000 });
        while Instant::now() < deadline {
            select! {
                recv(stdout) -> line => match line {
                    Ok(line) => pump.lines(StreamName::Stdout, line, &stdout),
                    Err(_) => stdout = never(),
                },
                recv(stderr) -> line => match line {
                    Ok(line) => pump.lines(StreamName::Stderr, line, &stderr),
                    Err(_) => stderr = never(),
                },
                default(quiet_for) => break,
            }
        }
        if let Ok(outputs) = &finished.result {
            for why in &outputs.not_kept {
                sink.stream(
                    StreamName::Stderr,
                    &format!("note: not kept for later cells: {why}.\n"),
                );
            }
        }
        let outcome = outcome::cell_outcome(&self.state, request, finished, &pump);
        self.state.end_cell();
        outcome
    }

    fn complete(&mut self, code: &str, cursor_pos: usize) -> Completions {
        let at = byte_offset(code, cursor_pos);
        let (reply, answer) = crossbeam_channel::bounded(1);
        let empty = Completions {
            matches: Vec::new(),
            cursor_start: cursor_pos,
            cursor_end: cursor_pos,
        };
        if !self.send(Job::Complete {
            code: code.to_owned(),
            at,
            reply,
        }) {
            return empty;
        }
        match answer.recv() {
            Ok(Some(found)) => {
                let mut matches = Vec::new();
                for completion in found.completions {
                    if !matches.contains(&completion.code) {
                        matches.push(completion.code);
                    }
                }
                Completions {
                    matches,
                    cursor_start: char_offset(code, found.start_offset),
                    cursor_end: char_offset(code, found.end_offset),
                }
            }
            _ => empty,
        }
    }

    fn inspect(&mut self, code: &str, cursor_pos: usize, _detail_level: u8) -> Inspection {
        let at = end_of_name(code, byte_offset(code, cursor_pos));
        if at == 0 {
            return None;
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        if !self.send(Job::Inspect {
            code: code.to_owned(),
            at,
            reply,
        }) {
            return None;
        }
        let (plain, html) = answer.recv().ok().flatten()?;
        if plain.trim().is_empty() || plain == "No documentation found" {
            return None;
        }
        let mut bundle = MimeBundle::new();
        bundle.insert("text/plain".into(), Value::String(plain));
        bundle.insert("text/html".into(), Value::String(html));
        Some(bundle)
    }

    fn is_complete(&mut self, code: &str) -> Completeness {
        crate::is_complete::is_complete(code)
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        Arc::new(CellInterrupter {
            state: Arc::clone(&self.state),
        })
    }

    fn restart(&mut self) {
        self.send(Job::Restart);
    }

    fn attach_comms(&mut self, hub: CommHub) -> Option<Arc<dyn CommReceiver>> {
        self.route.attach(hub);
        self.comms
            .clone()
            .map(|comms| comms as Arc<dyn CommReceiver>)
    }

    fn kernel_info(&self) -> KernelInfo {
        crate::language::kernel_info(format!(
            "{}\ndl-core is loaded and `use dl_core::prelude::*;` is in scope.",
            crate::language::banner()
        ))
    }
}
