//! Interrupting a running cell: first politely (the interrupt file), then by force.
//!
//! `interrupt()` creates the file named by `DL_KERNEL_INTERRUPT_FILE`; dl-core's loops see it
//! at their next batch and return. If the cell is still running after [`GRACE`], whatever it
//! is doing is stopped: during compilation, cargo and its rustc processes are killed (nothing
//! is lost); while the cell's code runs, evcxr's child process is killed (evcxr restarts it and
//! the cell's error names the variables that were lost).

use jupyter_core::interpreter::Interrupter;
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cell may take to stop by itself before it is stopped by force.
pub const GRACE: Duration = Duration::from_millis(1500);

/// What the interrupter, the worker and `execute` share about the running cell.
#[derive(Default)]
pub struct CellState {
    /// The interrupt file, when the session has one.
    pub interrupt_file: Option<PathBuf>,
    /// Which cell is current (incremented per cell).
    pub generation: AtomicU64,
    /// The last cell that has ended.
    pub ended_generation: AtomicU64,
    /// The worker is evaluating the current cell.
    pub running: AtomicBool,
    /// An interrupt was requested for the current cell.
    pub interrupted: AtomicBool,
    /// The cell's process was killed by the interrupt (its variables are gone).
    pub killed_child: AtomicBool,
    /// A compilation was killed by the interrupt (nothing is lost).
    pub killed_build: AtomicBool,
    /// evcxr's child, valid across evcxr's own restarts of it.
    pub child: Mutex<Option<Arc<Mutex<Child>>>>,
    /// The socket the page's comm messages reach the child on (`DL_KERNEL_COMM_SOCKET`).
    pub comm_socket: Option<PathBuf>,
    /// The current context's output channels (stdout, stderr), for the idle relay.
    pub outputs: Mutex<
        Option<(
            crossbeam_channel::Receiver<String>,
            crossbeam_channel::Receiver<String>,
        )>,
    >,
}

impl CellState {
    /// Called before a cell starts: clears the flags and removes a stale interrupt file.
    pub fn begin_cell(&self) -> u64 {
        if let Some(file) = &self.interrupt_file {
            let _ = std::fs::remove_file(file);
        }
        self.interrupted.store(false, Ordering::SeqCst);
        self.killed_child.store(false, Ordering::SeqCst);
        self.killed_build.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Called when the cell has ended.
    pub fn end_cell(&self) {
        self.running.store(false, Ordering::SeqCst);
        self.ended_generation
            .store(self.generation.load(Ordering::SeqCst), Ordering::SeqCst);
        if let Some(file) = &self.interrupt_file {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// The [`Interrupter`] handed to the protocol core.
pub struct CellInterrupter {
    /// Shared with the session.
    pub state: Arc<CellState>,
}

impl Interrupter for CellInterrupter {
    fn interrupt(&self) {
        let state = &self.state;
        let generation = state.generation.load(Ordering::SeqCst);
        if state.interrupted.swap(true, Ordering::SeqCst) {
            return; // already being interrupted
        }
        if let Some(file) = &state.interrupt_file {
            let _ = std::fs::write(file, b"interrupt\n");
        }
        let state = Arc::clone(state);
        let spawned = std::thread::Builder::new()
            .name("dlk-interrupt".into())
            .spawn(move || enforce(&state, generation));
        if let Err(error) = spawned {
            log::warn!("cannot start the interrupt timer: {error}");
        }
    }
}

/// After the grace period, stops the cell of `generation` if it is still running, and goes on
/// stopping whatever it is doing (another compilation, then its process) until it has ended.
///
/// Only the end of the cell (`end_cell`) releases this loop: `running` is briefly false while
/// the worker starts the cell, and an interrupt landing then must not be forgotten.
fn enforce(state: &CellState, generation: u64) {
    let ended = || {
        state.ended_generation.load(Ordering::SeqCst) >= generation
            || state.generation.load(Ordering::SeqCst) != generation
    };
    let mut next_step = Instant::now() + GRACE;
    while !ended() {
        std::thread::sleep(Duration::from_millis(20));
        if Instant::now() < next_step || !state.running.load(Ordering::SeqCst) {
            continue;
        }
        next_step = Instant::now() + GRACE;
        let builds = build_processes();
        if !builds.is_empty() {
            log::info!("interrupt: stopping the compilation ({builds:?})");
            state.killed_build.store(true, Ordering::SeqCst);
            for pid in builds {
                kill(pid);
            }
            continue;
        }
        // After a stopped compilation the cell ends by itself with an error; after a killed
        // process evcxr is starting the next one. Neither is a reason to kill a process.
        if state.killed_build.load(Ordering::SeqCst) || state.killed_child.load(Ordering::SeqCst) {
            continue;
        }
        let child = state.child.lock().ok().and_then(|c| c.clone());
        if let Some(child) = child {
            let pid = child.lock().map(|c| c.id()).unwrap_or(0);
            if waiting_for_a_command(pid) {
                // evcxr is still preparing the cell (analysing it, before any compilation):
                // its code has not started, and will see the interrupt file when it does.
                continue;
            }
            state.killed_child.store(true, Ordering::SeqCst);
            log::info!("interrupt: the cell did not stop; restarting its process");
            if let Ok(mut child) = child.lock() {
                let _ = child.kill();
            }
        }
    }
}

/// Whether evcxr's child `pid` is idle: its main thread blocked reading its standard input,
/// where evcxr sends the next cell to run (`/proc/<pid>/syscall`: number, then arguments).
fn waiting_for_a_command(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .is_ok_and(|text| is_read_of_stdin(&text))
}

fn is_read_of_stdin(syscall: &str) -> bool {
    let mut fields = syscall.split_whitespace();
    fields.next() == Some(libc::SYS_read.to_string().as_str()) && fields.next() == Some("0x0")
}

fn kill(pid: i32) {
    // SAFETY: sending a signal to a process id has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Cargo (or `mold -run cargo`, or rustc run directly for a cell: see the vendored evcxr's
/// `DirectRustc`) started by this process, and every live process under it, deepest first.
/// Zombies (ended, not yet reaped) are not running anything.
fn build_processes() -> Vec<i32> {
    let me = std::process::id() as i32;
    let table = process_table();
    let mut roots: Vec<i32> = table
        .iter()
        .filter(|p| {
            p.ppid == me && p.state != 'Z' && ["cargo", "mold", "rustc"].contains(&p.name.as_str())
        })
        .map(|p| p.pid)
        .collect();
    let mut all = Vec::new();
    while let Some(pid) = roots.pop() {
        all.push(pid);
        roots.extend(
            table
                .iter()
                .filter(|p| p.ppid == pid && p.state != 'Z')
                .map(|p| p.pid),
        );
    }
    all.reverse();
    all
}

struct ProcessEntry {
    pid: i32,
    ppid: i32,
    name: String,
    /// `R` running, `S` sleeping, `Z` zombie, ...
    state: char,
}

fn process_table() -> Vec<ProcessEntry> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            parse_stat(pid, &stat)
        })
        .collect()
}

/// `/proc/<pid>/stat`: `pid (name) state ppid ...`; the name may contain spaces and parens.
fn parse_stat(pid: i32, stat: &str) -> Option<ProcessEntry> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(ProcessEntry {
        pid,
        ppid,
        name,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_line_with_odd_name() {
        let entry = parse_stat(42, "42 (my (odd) name) S 7 42 42 0").unwrap();
        assert_eq!(entry.name, "my (odd) name");
        assert_eq!(entry.ppid, 7);
        assert_eq!(entry.state, 'S');
    }

    #[test]
    fn idle_child_is_recognised() {
        let read = libc::SYS_read;
        assert!(is_read_of_stdin(&format!(
            "{read} 0x0 0x7f00 0x2000 0x0 0x0 0x0 0x7ffd 0x7f01"
        )));
        assert!(!is_read_of_stdin(&format!(
            "{read} 0x5 0x7f00 0x2000 0x0 0x0 0x0 0x7ffd 0x7f01"
        )));
        assert!(!is_read_of_stdin("running"));
        assert!(!is_read_of_stdin(
            "230 0x1 0x0 0x7ffd 0x0 0x0 0x0 0x7ffd 0x7f01"
        ));
        // This process's main thread is not reading its standard input.
        assert!(!waiting_for_a_command(std::process::id()));
    }

    #[test]
    fn interrupt_of_an_idle_session_only_writes_the_file() {
        let file = std::env::temp_dir().join(format!("dlk-int-{}", std::process::id()));
        let state = Arc::new(CellState {
            interrupt_file: Some(file.clone()),
            ..CellState::default()
        });
        let generation = state.begin_cell();
        assert_eq!(generation, 1);
        CellInterrupter {
            state: Arc::clone(&state),
        }
        .interrupt();
        assert!(file.exists());
        assert!(state.interrupted.load(Ordering::SeqCst));
        state.end_cell();
        assert!(!file.exists());
        assert!(!state.killed_child.load(Ordering::SeqCst));
    }
}
