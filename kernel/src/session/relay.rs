//! The child's side: what runs in evcxr's child process before evcxr's own runtime loop.
//!
//! evcxr's child is this same binary, started again with `EVCXR_IS_RUNTIME` set. Before
//! handing over to `evcxr::runtime_hook()` we
//!
//! - ignore SIGINT: Jupyter signals the kernel's whole process group, and the child must
//!   survive it (the kernel decides what an interrupt does);
//! - put a relay between the cell's standard output and the pipe evcxr reads. evcxr reads the
//!   child's stdout line by line and looks for its end-of-cell marker on a line of its own, so
//!   text printed without a newline (`print!("x")` as the last statement of a cell) glues onto
//!   that marker and evcxr waits forever. The relay (a) splits text in front of an evcxr control
//!   word onto a line of its own, and (b) forwards text that was flushed without a newline after
//!   a short quiet period as a `DLK_PARTIAL "json"` line, so `\r` progress bars show as they are
//!   drawn. The kernel turns `DLK_PARTIAL` back into text (`markers.rs`).

use std::io::Write as _;
use std::os::fd::{FromRawFd as _, RawFd};
use std::time::Duration;

use super::markers;

/// How long flushed text without a newline waits for the rest of its line before it is
/// forwarded on its own.
const PARTIAL_AFTER: Duration = Duration::from_millis(30);

/// evcxr's control words, which must start a line for evcxr to see them.
const CONTROL_WORDS: [&str; 4] = [
    "EVCXR_EXECUTION_COMPLETE",
    "EVCXR_PANIC_NOTIFICATION",
    "EVCXR_BEGIN_CONTENT",
    "EVCXR_END_CONTENT",
];

/// Call first in `main`. In evcxr's child (or when the binary runs as evcxr's rustc wrapper)
/// control never returns; in the kernel process it returns at once.
pub fn runtime_hook() {
    if std::env::var_os("EVCXR_IS_RUNTIME").is_some() {
        ignore_sigint();
        if let Err(error) = start_stdout_relay() {
            eprintln!("dl-kernel: cannot relay the cell's output ({error}); continuing without");
        }
    }
    evcxr::runtime_hook();
}

fn ignore_sigint() {
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
}

fn start_stdout_relay() -> std::io::Result<()> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid array of two file descriptors for pipe(2) to fill; dup/dup2/close
    // act on descriptors this function owns (1 is our stdout, the others were just created).
    let original = unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let original = libc::dup(1);
        if original < 0 || libc::dup2(fds[1], 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        libc::close(fds[1]);
        // The read end and the saved stdout must not leak into processes a cell starts.
        libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(original, libc::F_SETFD, libc::FD_CLOEXEC);
        original
    };
    let read_end = fds[0];
    std::thread::Builder::new()
        .name("dlk-stdout-relay".into())
        .spawn(move || relay(read_end, original))?;
    Ok(())
}

/// Copies `input` to `output` line by line, applying the two rules in the module doc.
fn relay(input: RawFd, output: RawFd) {
    // SAFETY: `output` is a descriptor we own (a dup of the original stdout), used only here.
    let mut out = std::io::BufWriter::new(unsafe { std::fs::File::from_raw_fd(output) });
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let wait = if pending.is_empty() || holds_marker(&pending) {
            -1
        } else {
            PARTIAL_AFTER.as_millis() as libc::c_int
        };
        let mut poll_fd = libc::pollfd {
            fd: input,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll_fd, 1, wait) };
        if ready == 0 {
            flush_partial(&mut pending, &mut out);
            continue;
        }
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        // SAFETY: `chunk` is a writable buffer of the given length.
        let n = unsafe { libc::read(input, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&chunk[..n as usize]);
        let mut consumed = 0;
        while let Some(newline) = pending[consumed..].iter().position(|&b| b == b'\n') {
            let line = &pending[consumed..consumed + newline];
            write_line(line, &mut out);
            consumed += newline + 1;
        }
        pending.drain(..consumed);
        let _ = out.flush();
    }
    if !pending.is_empty() {
        write_line(&pending, &mut out);
    }
    let _ = out.flush();
}

/// Whether `pending` holds the start of a marker, which is always written whole: wait for its
/// newline rather than cutting it.
fn holds_marker(pending: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pending);
    text.contains("DLK_") || text.contains("EVCXR_")
}

/// Writes one complete line, moving any evcxr control word that does not start it onto a line
/// of its own (the text before it is forwarded as a partial line).
fn write_line(line: &[u8], out: &mut impl std::io::Write) {
    let text = String::from_utf8_lossy(line);
    if let Some(at) = CONTROL_WORDS
        .iter()
        .filter_map(|word| text.find(word))
        .filter(|&at| at > 0)
        .min()
    {
        let _ = writeln!(
            out,
            "{}{}",
            markers::PARTIAL,
            markers::json_string(&text[..at])
        );
        let _ = out.write_all(&line[at..]);
    } else {
        let _ = out.write_all(line);
    }
    let _ = out.write_all(b"\n");
}

/// Forwards the text that waits for its newline, up to the last whole UTF-8 character.
fn flush_partial(pending: &mut Vec<u8>, out: &mut impl std::io::Write) {
    let valid = match std::str::from_utf8(pending) {
        Ok(text) => text.len(),
        Err(error) if error.error_len().is_none() => error.valid_up_to(),
        Err(_) => pending.len(),
    };
    if valid == 0 {
        return;
    }
    let text = String::from_utf8_lossy(&pending[..valid]).into_owned();
    let _ = writeln!(out, "{}{}", markers::PARTIAL, markers::json_string(&text));
    let _ = out.flush();
    pending.drain(..valid);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(line: &str) -> String {
        let mut out = Vec::new();
        write_line(line.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn control_word_glued_to_text_gets_its_own_line() {
        assert_eq!(
            lines("abcEVCXR_EXECUTION_COMPLETE"),
            "DLK_PARTIAL \"abc\"\nEVCXR_EXECUTION_COMPLETE\n"
        );
        assert_eq!(
            lines("EVCXR_EXECUTION_COMPLETE"),
            "EVCXR_EXECUTION_COMPLETE\n"
        );
        assert_eq!(lines("plain"), "plain\n");
    }

    #[test]
    fn partial_keeps_an_unfinished_character() {
        let mut pending = "é→".as_bytes().to_vec();
        pending.pop(); // cut the arrow in the middle
        let mut out = Vec::new();
        flush_partial(&mut pending, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "DLK_PARTIAL \"é\"\n");
        assert_eq!(pending.len(), 2);
    }

    #[test]
    fn markers_are_never_cut() {
        assert!(holds_marker(b"x DLK_DISPLAY {\"data\""));
        assert!(!holds_marker(b"\rEpoch 3"));
    }
}
