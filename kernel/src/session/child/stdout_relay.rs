//! The relay between a cell's standard output and the pipe evcxr reads.
//!
//! evcxr reads the child's stdout line by line and looks for its control words on lines of
//! their own. The relay
//!
//! - splits text in front of a control word onto a line of its own: text printed without a
//!   newline (`print!("x")` as the last statement of a cell) would otherwise glue onto evcxr's
//!   end-of-cell marker, and evcxr would wait forever;
//! - forwards text that was flushed without a newline after a short quiet period as a
//!   `DLK_PARTIAL "json"` line, so `\r` progress bars show as they are drawn (the kernel turns
//!   it back into text, `markers.rs`);
//! - turns each display in evcxr's convention (`EVCXR_BEGIN_CONTENT mime` ... `EVCXR_END_CONTENT`,
//!   what other crates' `evcxr_display` methods print) made while the cell runs into a
//!   `DLK_DISPLAY` line, so that it keeps its place among the cell's outputs. Blocks printed
//!   back to back with different MIME types are one display. Only the content that follows
//!   evcxr's result marker (the cell's final value) goes to evcxr as the cell's result.

use std::io::Write as _;
use std::os::fd::{FromRawFd as _, RawFd};
use std::time::Duration;

use super::super::markers;

/// How long flushed text without a newline waits for the rest of its line before it is
/// forwarded on its own.
const PARTIAL_AFTER: Duration = Duration::from_millis(30);

/// The same wait on standard error, which is not buffered: a line arrives in pieces written
/// microseconds apart, and text left without a newline at the end of a cell must reach the
/// kernel within the 30 ms it waits for a cell's last output.
const STDERR_PARTIAL_AFTER: Duration = Duration::from_millis(10);

/// How long a display waits for another MIME type of the same display.
const DISPLAY_AFTER: Duration = Duration::from_millis(10);

const EXECUTION_COMPLETE: &str = "EVCXR_EXECUTION_COMPLETE";
const BEGIN_CONTENT: &str = "EVCXR_BEGIN_CONTENT";
const END_CONTENT: &str = "EVCXR_END_CONTENT";

/// evcxr's control words, which must start a line for evcxr to see them.
const CONTROL_WORDS: [&str; 9] = [
    EXECUTION_COMPLETE,
    "EVCXR_PANIC_NOTIFICATION",
    BEGIN_CONTENT,
    END_CONTENT,
    "EVCXR_VARIABLE_TYPE:",
    "EVCXR_VARIABLE_CHANGED_TYPE:",
    "EVCXR_ERROR_OCCURRED",
    evcxr::RESULT_FOLLOWS,
    evcxr::STDIN_WAIT,
];

/// Which of the child's streams a relay carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output: partial lines, control words and displays.
    Stdout,
    /// Standard error: partial lines only (evcxr reads it line by line too, so text written
    /// without a newline, `eprint!("x")`, would wait for the next line).
    Stderr,
}

/// Puts a relay on one of the child's streams.
pub fn start(stream: Stream) -> std::io::Result<()> {
    let fd = match stream {
        Stream::Stdout => 1,
        Stream::Stderr => 2,
    };
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid array of two file descriptors for pipe(2) to fill; dup/dup2/close
    // act on descriptors this function owns (1 is our stdout, the others were just created).
    let original = unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let original = libc::dup(fd);
        if original < 0 || libc::dup2(fds[1], fd) < 0 {
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
        .name(format!(
            "dlk-{}-relay",
            if fd == 1 { "stdout" } else { "stderr" }
        ))
        .spawn(move || relay(read_end, original, stream))?;
    Ok(())
}

/// Copies `input` to `output` line by line, applying the rules in the module doc.
fn relay(input: RawFd, output: RawFd, stream: Stream) {
    // SAFETY: `output` is a descriptor we own (a dup of the original stream), used only here.
    let mut out = std::io::BufWriter::new(unsafe { std::fs::File::from_raw_fd(output) });
    let mut router = Router {
        pass_through: stream == Stream::Stderr,
        ..Router::default()
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let wait = if router.holds_display() {
            DISPLAY_AFTER.as_millis() as libc::c_int
        } else if pending.is_empty() || holds_marker(&pending) {
            -1
        } else {
            let after = match stream {
                Stream::Stdout => PARTIAL_AFTER,
                Stream::Stderr => STDERR_PARTIAL_AFTER,
            };
            after.as_millis() as libc::c_int
        };
        let mut poll_fd = libc::pollfd {
            fd: input,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll_fd, 1, wait) };
        if ready == 0 {
            if router.holds_display() {
                router.flush_display(&mut out);
            } else {
                flush_partial(&mut pending, &mut out);
            }
            let _ = out.flush();
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
            for line in split_control_words(&String::from_utf8_lossy(line)) {
                router.line(&line, &mut out);
            }
            consumed += newline + 1;
        }
        pending.drain(..consumed);
        let _ = out.flush();
    }
    if !pending.is_empty() {
        for line in split_control_words(&String::from_utf8_lossy(&pending)) {
            router.line(&line, &mut out);
        }
    }
    router.flush_display(&mut out);
    let _ = out.flush();
}

/// Whether `pending` holds the start of a marker, which is always written whole: wait for its
/// newline rather than cutting it.
fn holds_marker(pending: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pending);
    text.contains("DLK_") || text.contains("EVCXR_")
}

/// One complete line as one or two: an evcxr control word that does not start the line is
/// moved onto a line of its own, and the text before it becomes a partial line.
fn split_control_words(line: &str) -> Vec<String> {
    match CONTROL_WORDS
        .iter()
        .filter_map(|word| line.find(word))
        .filter(|&at| at > 0)
        .min()
    {
        Some(at) => vec![
            format!("{}{}", markers::PARTIAL, markers::json_string(&line[..at])),
            line[at..].to_owned(),
        ],
        None => vec![line.to_owned()],
    }
}

/// Where each complete line goes: on to evcxr, or into a display being collected.
#[derive(Default)]
struct Router {
    /// Lines go on unchanged (standard error).
    pass_through: bool,
    /// The cell's final value is being shown: content goes to evcxr as the cell's result.
    in_result: bool,
    /// The MIME type and lines of the block being read.
    block: Option<(String, Vec<String>)>,
    /// Blocks read so far of the display being collected (MIME type → content).
    display: serde_json::Map<String, serde_json::Value>,
}

impl Router {
    fn line(&mut self, line: &str, out: &mut impl std::io::Write) {
        if self.pass_through {
            write_line(out, line);
            return;
        }
        if let Some((_, lines)) = self.block.as_mut() {
            if line == END_CONTENT {
                self.end_block(out);
            } else if line.starts_with("EVCXR_PANIC_NOTIFICATION") {
                // A panic while the block was printed: what was read is shown, then the panic.
                self.end_block(out);
                self.flush_display(out);
                write_line(out, line);
            } else {
                lines.push(line.to_owned());
            }
            return;
        }
        if self.in_result {
            if line == EXECUTION_COMPLETE {
                self.in_result = false;
            }
            write_line(out, line);
            return;
        }
        if let Some(mime) = line.strip_prefix(BEGIN_CONTENT) {
            let mime = mime.trim().to_owned();
            if self.display.contains_key(&mime) {
                self.flush_display(out);
            }
            self.block = Some((mime, Vec::new()));
            return;
        }
        self.flush_display(out);
        if line == evcxr::RESULT_FOLLOWS {
            self.in_result = true;
            return;
        }
        write_line(out, line);
    }

    fn end_block(&mut self, out: &mut impl std::io::Write) {
        let Some((mime, lines)) = self.block.take() else {
            return;
        };
        let text = lines.join("\n");
        let value = if mime.contains("json") {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        } else {
            serde_json::Value::String(text)
        };
        if self.display.contains_key(&mime) {
            self.flush_display(out);
        }
        self.display.insert(mime, value);
    }

    fn holds_display(&self) -> bool {
        self.block.is_none() && !self.display.is_empty()
    }

    fn flush_display(&mut self, out: &mut impl std::io::Write) {
        if self.display.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.display);
        let marker = serde_json::json!({ "data": data });
        write_line(out, &format!("{}{marker}", markers::DISPLAY));
    }
}

fn write_line(out: &mut impl std::io::Write, line: &str) {
    let _ = out.write_all(line.as_bytes());
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

    /// What the router writes for `lines`, with any display still held flushed at the end.
    fn route(lines: &[&str]) -> Vec<String> {
        let mut router = Router::default();
        let mut out = Vec::new();
        for line in lines {
            router.line(line, &mut out);
        }
        router.flush_display(&mut out);
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn control_word_glued_to_text_gets_its_own_line() {
        assert_eq!(
            split_control_words("abcEVCXR_EXECUTION_COMPLETE"),
            ["DLK_PARTIAL \"abc\"", "EVCXR_EXECUTION_COMPLETE"]
        );
        assert_eq!(
            split_control_words("EVCXR_EXECUTION_COMPLETE"),
            ["EVCXR_EXECUTION_COMPLETE"]
        );
        assert_eq!(split_control_words("plain"), ["plain"]);
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

    #[test]
    fn mid_cell_blocks_become_displays_in_order() {
        let out = route(&[
            "before",
            "EVCXR_BEGIN_CONTENT text/html",
            "<b>one</b>",
            "EVCXR_END_CONTENT",
            "between",
            "EVCXR_BEGIN_CONTENT text/html",
            "<b>two</b>",
            "line 2",
            "EVCXR_END_CONTENT",
            "EVCXR_EXECUTION_COMPLETE",
        ]);
        assert_eq!(
            out,
            [
                "before",
                r#"DLK_DISPLAY {"data":{"text/html":"<b>one</b>"}}"#,
                "between",
                r#"DLK_DISPLAY {"data":{"text/html":"<b>two</b>\nline 2"}}"#,
                "EVCXR_EXECUTION_COMPLETE",
            ]
        );
    }

    #[test]
    fn back_to_back_blocks_of_different_types_are_one_display() {
        let out = route(&[
            "EVCXR_BEGIN_CONTENT text/html",
            "<i>x</i>",
            "EVCXR_END_CONTENT",
            "EVCXR_BEGIN_CONTENT text/plain",
            "x",
            "EVCXR_END_CONTENT",
            "EVCXR_BEGIN_CONTENT text/plain",
            "y",
            "EVCXR_END_CONTENT",
        ]);
        assert_eq!(
            out,
            [
                r#"DLK_DISPLAY {"data":{"text/html":"<i>x</i>","text/plain":"x"}}"#,
                r#"DLK_DISPLAY {"data":{"text/plain":"y"}}"#,
            ]
        );
    }

    #[test]
    fn the_final_value_goes_to_evcxr_as_the_result() {
        let out = route(&[
            "EVCXR_BEGIN_CONTENT image/png",
            "iVBO",
            "EVCXR_END_CONTENT",
            "EVCXR_RESULT_FOLLOWS",
            "EVCXR_BEGIN_CONTENT text/plain",
            "42",
            "EVCXR_END_CONTENT",
            "EVCXR_EXECUTION_COMPLETE",
            "EVCXR_BEGIN_CONTENT text/plain",
            "next cell",
            "EVCXR_END_CONTENT",
        ]);
        assert_eq!(
            out,
            [
                r#"DLK_DISPLAY {"data":{"image/png":"iVBO"}}"#,
                "EVCXR_BEGIN_CONTENT text/plain",
                "42",
                "EVCXR_END_CONTENT",
                "EVCXR_EXECUTION_COMPLETE",
                r#"DLK_DISPLAY {"data":{"text/plain":"next cell"}}"#,
            ]
        );
    }

    #[test]
    fn json_content_is_parsed() {
        let out = route(&[
            "EVCXR_BEGIN_CONTENT application/json",
            r#"{"a": 1}"#,
            "EVCXR_END_CONTENT",
        ]);
        assert_eq!(
            out,
            [r#"DLK_DISPLAY {"data":{"application/json":{"a":1}}}"#]
        );
    }
}
