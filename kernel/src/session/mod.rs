//! The Rust side of the kernel: an [`Interpreter`] over evcxr, with dl-core preloaded.
//!
//! - `worker`: one thread owns evcxr's context (start, preload, compile, run, completions).
//! - `cache`: dl-core and its dependencies built once into a template, copied per session.
//! - `markers`: the display protocol's parser (`DLK_DISPLAY` ... lines → outputs).
//! - `child`: what runs in evcxr's child before evcxr's runtime (output relay, standard input).
//! - `interrupt`: the interrupt file, then a forced stop after a grace period.
//! - `report`: compile errors, panics and crashes as the reader sees them.
//!
//! Choices, measured on a two-core machine: cells are compiled at opt-level 0 while
//! dependencies are built at 3 (a `.cargo/config.toml` in the cache directory, an ancestor
//! of every evcxr crate); dependencies are linked statically into
//! each cell (evcxr's default), so each cell has its own copy of dl-core, and dl-core keeps
//! the state that must outlive a cell process-wide (`dl_core::process_wide`). evcxr is
//! vendored so that rust-analyzer, which it asks for the types of new variables, is loaded and
//! warmed in the background and never runs for a cell without `let`
//! (`kernel/vendor/README.md`).

pub mod cache;
mod child;
mod interrupt;
pub mod markers;
mod report;
mod worker;

pub use child::runtime_hook;

use anyhow::{Context as _, Result};
use crossbeam_channel::{Receiver, Sender, never, select};
use interrupt::{CellInterrupter, CellState};
use jupyter_core::interpreter::{
    Completeness, Completions, ExecuteError, ExecuteOutcome, ExecuteRequest, Inspection,
    Interpreter, Interrupter, KernelInfo, MimeBundle, OutputSink, StreamName,
};
use markers::Piece;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use worker::{CellFailure, Event, Finished, Job, Worker};

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
        let state = Arc::new(CellState {
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
        Ok(EvcxrInterpreter {
            jobs: Some(jobs),
            worker: Some(handle),
            state,
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

/// Whether a batch of `count` lines holding `text` may take another waiting line.
fn room_for_more(text: &str, count: usize) -> bool {
    text.len() < 64 * 1024 && count < 10_000
}

/// Output of a running cell on its way to the sink: text is batched per stream.
struct Pump<'a> {
    sink: &'a dyn OutputSink,
    panic: Option<markers::PanicReport>,
    /// A panic message read from stderr, while its lines are still arriving.
    panicking: Option<markers::PanicReport>,
    stderr_tail: Vec<String>,
}

impl Pump<'_> {
    /// Handles `first` and every line already waiting on the same channel, as few messages.
    fn lines(&mut self, name: StreamName, first: String, more: &Receiver<String>) {
        let mut text = String::new();
        let mut line = Some(first);
        let mut count = 0;
        while let Some(current) = line.take() {
            if name == StreamName::Stderr {
                if self.stderr_tail.len() == 20 {
                    self.stderr_tail.remove(0);
                }
                self.stderr_tail.push(current.clone());
            }
            if name == StreamName::Stderr && self.panic_line(&current, &mut text) {
                count += 1;
                if room_for_more(&text, count) {
                    line = more.try_recv().ok();
                }
                continue;
            }
            for piece in markers::parse_line(&current) {
                match piece {
                    Piece::Text(t) => text.push_str(&t),
                    Piece::Warning(w) => {
                        self.flush(name, &mut text);
                        self.sink.stream(StreamName::Stderr, &w);
                    }
                    Piece::Display(display) => {
                        self.flush(name, &mut text);
                        self.sink.display(display);
                    }
                    Piece::Clear { wait } => {
                        self.flush(name, &mut text);
                        self.sink.clear_output(wait);
                    }
                }
            }
            count += 1;
            if room_for_more(&text, count) {
                line = more.try_recv().ok();
            }
        }
        self.flush(name, &mut text);
    }

    /// Rust's default panic message on stderr (the cell's own std printed it) becomes the
    /// cell's `Panic` error instead of text. Returns whether `line` belonged to it.
    fn panic_line(&mut self, line: &str, text: &mut String) -> bool {
        if let Some(report) = self.panicking.as_mut() {
            if markers::is_backtrace_start(line) {
                self.panic = self.panicking.take();
                return false;
            }
            if markers::is_panic_note(line) {
                self.panic = self.panicking.take();
            } else {
                if !report.message.is_empty() {
                    report.message.push('\n');
                }
                report.message.push_str(line.trim_end_matches('\n'));
            }
            return true;
        }
        match markers::default_panic_header(line) {
            // The cell's copy of std does not know the main thread's name: "<unnamed>".
            Some((thread, report))
                if (thread == "main" || thread == "<unnamed>") && self.panic.is_none() =>
            {
                self.flush(StreamName::Stderr, text);
                self.panicking = Some(report);
                true
            }
            _ => false,
        }
    }

    /// The cell's panic, once its output has been read.
    fn panic_report(&self) -> Option<&markers::PanicReport> {
        self.panic.as_ref().or(self.panicking.as_ref())
    }

    fn flush(&self, name: StreamName, text: &mut String) {
        if !text.is_empty() {
            self.sink.stream(name, text);
            text.clear();
        }
    }
}

impl Interpreter for EvcxrInterpreter {
    fn execute(&mut self, request: &ExecuteRequest, sink: &dyn OutputSink) -> ExecuteOutcome {
        self.state.begin_cell();
        let (events_tx, events) = crossbeam_channel::unbounded();
        if !self.send(Job::Execute {
            code: request.code.clone(),
            events: events_tx,
        }) {
            return error_outcome(report::other_error("the Rust session has stopped"));
        }
        let mut pump = Pump {
            sink,
            panic: None,
            panicking: None,
            stderr_tail: Vec::new(),
        };
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
        let outcome = self.outcome(request, finished, &pump);
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

    fn kernel_info(&self) -> KernelInfo {
        crate::language::kernel_info(format!(
            "{}\ndl-core is loaded and `use dl_core::prelude::*;` is in scope.",
            crate::language::banner()
        ))
    }
}

impl EvcxrInterpreter {
    fn outcome(&self, request: &ExecuteRequest, finished: Finished, pump: &Pump) -> ExecuteOutcome {
        let state = &self.state;
        let interrupted = state.interrupted.load(Ordering::SeqCst);
        let killed_child = state.killed_child.load(Ordering::SeqCst);
        let killed_build = state.killed_build.load(Ordering::SeqCst);
        match finished.result {
            Ok(outputs) => {
                if let Some(panic) = pump.panic_report() {
                    return error_outcome(report::panic_error(
                        panic,
                        &request.code,
                        finished.generated.as_deref(),
                    ));
                }
                if interrupted {
                    return error_outcome(report::cooperative_interrupt());
                }
                let result = (!outputs.content_by_mime_type.is_empty())
                    .then(|| bundle(outputs.content_by_mime_type));
                ExecuteOutcome::Ok { result }
            }
            Err(CellFailure::Evcxr(evcxr::Error::SubprocessTerminated(detail))) => {
                let mut detail = detail;
                for line in &pump.stderr_tail {
                    detail.push('\n');
                    detail.push_str(line);
                }
                if killed_child {
                    error_outcome(report::lost_state_error(
                        "KeyboardInterrupt",
                        &format!(
                            "Interrupted: the cell did not stop within {:.1} s, so its process \
                             was restarted.",
                            interrupt::GRACE.as_secs_f64()
                        ),
                        &finished.vars_before,
                        "",
                    ))
                } else {
                    error_outcome(report::lost_state_error(
                        "ChildCrash",
                        &format!(
                            "The process running the cell died ({}); it has been restarted.",
                            exit_summary(&detail)
                        ),
                        &finished.vars_before,
                        &detail,
                    ))
                }
            }
            Err(_) if killed_build => error_outcome(ExecuteError {
                ename: "KeyboardInterrupt".into(),
                evalue: "interrupted while compiling; no variables were lost".into(),
                traceback: vec![
                    "\x1b[1;31mKeyboardInterrupt\x1b[0m: the compilation was stopped; no \
                     variables were lost."
                        .into(),
                ],
            }),
            Err(CellFailure::InterruptedBeforeStart) => {
                error_outcome(report::cooperative_interrupt())
            }
            Err(CellFailure::Evcxr(evcxr::Error::CompilationErrors(errors))) => {
                error_outcome(report::compilation_error(&errors, &request.code))
            }
            Err(CellFailure::Evcxr(error)) => {
                error_outcome(report::other_error(&error.to_string()))
            }
            Err(CellFailure::Start(why)) => error_outcome(report::other_error(&format!(
                "The Rust session failed to start: {why}"
            ))),
        }
    }
}

/// "signal: 6 (SIGABRT)" or "exit status: 3" out of evcxr's termination message.
fn exit_summary(detail: &str) -> String {
    detail
        .lines()
        .find_map(|l| l.split("Subprocess terminated with status: ").nth(1))
        .map_or_else(|| "unknown cause".to_owned(), |s| s.trim().to_owned())
}

fn error_outcome(error: ExecuteError) -> ExecuteOutcome {
    ExecuteOutcome::Error(error)
}

/// evcxr's content (mime → text) as a MIME bundle; JSON types are parsed.
fn bundle(content: std::collections::HashMap<String, String>) -> MimeBundle {
    let mut bundle = MimeBundle::new();
    for (mime, text) in content {
        let value = if mime.contains("json") {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        } else {
            Value::String(text)
        };
        bundle.insert(mime, value);
    }
    bundle
}

/// Byte offset of code point `chars` (the protocol counts code points).
fn byte_offset(code: &str, chars: usize) -> usize {
    code.char_indices()
        .nth(chars)
        .map_or(code.len(), |(at, _)| at)
}

/// Code-point offset of byte `at`.
fn char_offset(code: &str, at: usize) -> usize {
    let mut at = at.min(code.len());
    while !code.is_char_boundary(at) {
        at -= 1;
    }
    code[..at].chars().count()
}

/// The end (byte offset) of the identifier the cursor at byte `at` is in or just after.
fn end_of_name(code: &str, at: usize) -> usize {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    let rest = &code[at..];
    let extra: usize = rest
        .chars()
        .take_while(|&c| is_name(c))
        .map(char::len_utf8)
        .sum();
    at + extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_code_points() {
        let code = "let é = \"→\"; é.";
        assert_eq!(byte_offset(code, 5), 6);
        assert_eq!(char_offset(code, 6), 5);
        assert_eq!(byte_offset(code, 100), code.len());
        assert_eq!(char_offset(code, code.len()), code.chars().count());
        // A byte inside a character rounds down.
        assert_eq!(char_offset(code, 5), 4);
    }

    #[test]
    fn name_end() {
        let code = "let v = vec_of(1);";
        assert_eq!(end_of_name(code, 9), 14);
        assert_eq!(end_of_name(code, 14), 14);
    }

    #[test]
    fn exit_summary_reads_evcxr_message() {
        assert_eq!(
            exit_summary("x\nSubprocess terminated with status: signal: 6 (SIGABRT) (core dumped)"),
            "signal: 6 (SIGABRT) (core dumped)"
        );
        assert_eq!(exit_summary("other"), "unknown cause");
    }
}
