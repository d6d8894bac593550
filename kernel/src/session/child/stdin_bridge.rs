//! The cell's standard input, bridged to the page's `input_request`.
//!
//! evcxr writes its commands (`LOAD_AND_RUN ...`) to the child's standard input. A cell that
//! reads `std::io::stdin()` would read them instead, and the kernel would never hear from the
//! child again. So at start the child
//!
//! 1. keeps evcxr's command pipe on a descriptor of its own (handed to evcxr's runtime loop),
//! 2. puts the read end of a new pipe on descriptor 0, for the cell,
//! 3. watches, every [`POLL`], whether one of its threads is blocked reading descriptor 0 with
//!    nothing to read. Then it writes `EVCXR_STDIN_WAIT` on its standard output; the kernel
//!    asks the page for a line and sends the answer on the command pipe; the bridge reads that
//!    one line and writes it into the cell's pipe. An answer of `STDIN_EOF` (input not allowed,
//!    or the cell was interrupted while waiting) ends the cell's input instead: the pipe is
//!    closed, so the read returns end of file, and a fresh pipe takes its place for later reads.
//!
//! Whether a thread waits on descriptor 0 is read from `/proc/self/task/*/syscall` (Linux): a
//! blocked thread shows the number of the system call it is in and its arguments.

use std::io::Write as _;
use std::os::fd::{FromRawFd as _, RawFd};
use std::time::Duration;

/// How often the bridge looks for a blocked read.
const POLL: Duration = Duration::from_millis(20);

/// Sets up the descriptors and starts the bridge; returns the descriptor that now carries
/// evcxr's commands.
pub fn start() -> std::io::Result<RawFd> {
    // SAFETY: dup/pipe/dup2/close/fcntl on descriptors this function owns or creates.
    let (commands, cell_input) = unsafe {
        let commands = libc::dup(0);
        if commands < 0 {
            return Err(std::io::Error::last_os_error());
        }
        libc::fcntl(commands, libc::F_SETFD, libc::FD_CLOEXEC);
        match new_cell_input() {
            Ok(write_end) => (commands, write_end),
            Err(error) => {
                libc::close(commands);
                return Err(error);
            }
        }
    };
    std::thread::Builder::new()
        .name("dlk-stdin-bridge".into())
        .spawn(move || bridge(commands, cell_input))?;
    Ok(commands)
}

/// A new pipe whose read end becomes descriptor 0; returns its write end.
///
/// # Safety
/// Replaces descriptor 0 of the process.
unsafe fn new_cell_input() -> std::io::Result<RawFd> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: see the function's contract; `fds` is a valid array for pipe(2).
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::dup2(fds[0], 0) < 0 {
            let error = std::io::Error::last_os_error();
            libc::close(fds[0]);
            libc::close(fds[1]);
            return Err(error);
        }
        libc::close(fds[0]);
        libc::fcntl(fds[1], libc::F_SETFD, libc::FD_CLOEXEC);
    }
    Ok(fds[1])
}

fn bridge(commands: RawFd, mut cell_input: RawFd) {
    loop {
        std::thread::sleep(POLL);
        if !a_thread_waits_on_stdin() {
            continue;
        }
        {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{}", evcxr::STDIN_WAIT);
            let _ = stdout.flush();
        }
        let Some(answer) = read_line(commands) else {
            return; // evcxr has gone
        };
        if answer == evcxr::STDIN_EOF {
            // SAFETY: `cell_input` is the bridge's own write end; the new pipe replaces fd 0.
            match unsafe { new_cell_input() } {
                Ok(fresh) => {
                    // SAFETY: closing our old write end makes the waiting read return 0.
                    unsafe { libc::close(cell_input) };
                    cell_input = fresh;
                }
                Err(error) => {
                    eprintln!("dl-kernel: cannot end the cell's standard input: {error}");
                }
            }
            continue;
        }
        // SAFETY: `cell_input` is the bridge's own write end, wrapped only for this write.
        let mut pipe =
            std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(cell_input) });
        let _ = pipe.write_all(answer.as_bytes());
        let _ = pipe.write_all(b"\n");
        // The reader may not have run yet: wait until it has taken the line, so that the same
        // blocked read is not reported twice.
        while bytes_waiting_on_stdin() > 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Reads one line from `fd` a byte at a time, so that nothing after it is taken from evcxr.
fn read_line(fd: RawFd) -> Option<String> {
    let mut line = Vec::new();
    loop {
        let mut byte = 0u8;
        // SAFETY: reading one byte into a valid buffer.
        let n = unsafe { libc::read(fd, (&raw mut byte).cast(), 1) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return None;
        }
        if byte == b'\n' {
            return Some(String::from_utf8_lossy(&line).into_owned());
        }
        line.push(byte);
    }
}

/// Bytes written to the cell's standard input and not read yet.
fn bytes_waiting_on_stdin() -> libc::c_int {
    let mut waiting: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    if unsafe { libc::ioctl(0, libc::FIONREAD, &mut waiting) } < 0 {
        return 0;
    }
    waiting
}

/// Whether a thread of this process is blocked in `read(0, ...)` with nothing to read.
fn a_thread_waits_on_stdin() -> bool {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return false;
    };
    let waiting = tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("syscall"))
            .is_ok_and(|syscall| reads_stdin(&syscall))
    });
    waiting && bytes_waiting_on_stdin() == 0
}

/// Whether a `/proc/<tid>/syscall` line shows a read of descriptor 0: the system call's
/// number, then its arguments in hexadecimal.
fn reads_stdin(syscall: &str) -> bool {
    let mut fields = syscall.split_whitespace();
    let number = fields.next().and_then(|n| n.parse::<libc::c_long>().ok());
    let fd = fields.next();
    matches!(number, Some(n) if n == libc::SYS_read || n == libc::SYS_readv) && fd == Some("0x0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_of_descriptor_zero_is_recognised() {
        let read = libc::SYS_read;
        assert!(reads_stdin(&format!(
            "{read} 0x0 0x7ffd 0x2000 0x0 0x0 0x0 0x7ffc 0x7f"
        )));
        assert!(!reads_stdin(&format!(
            "{read} 0x5 0x7ffd 0x2000 0x0 0x0 0x0 0x7ffc 0x7f"
        )));
        assert!(!reads_stdin("running"));
        assert!(!reads_stdin(&format!("{} 0x0 0x1", libc::SYS_write)));
    }
}
