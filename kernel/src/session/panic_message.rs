//! Rust's default panic message, as a cell's own copy of std prints it on stderr: read back
//! into the cell's error (its message and where in the cell it happened).

/// A cell panicked: its message and where, read from Rust's default panic message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PanicReport {
    /// The panic message.
    pub message: String,
    /// Source file of the panic, as rustc recorded it (`src/lib.rs` for the cell itself).
    pub file: String,
    /// 1-based line in `file`.
    pub line: u32,
    /// 1-based column in `file`.
    pub column: u32,
}

/// The first line of Rust's default panic message, as a cell's own copy of std prints it to
/// stderr (each cell is a library with its own std, so a panic hook set in one cell does not
/// reach the next): `thread 'main' (4711) panicked at src/lib.rs:12:5:`. Returns the
/// thread's name and the location; the message follows on the next lines.
pub fn default_panic_header(line: &str) -> Option<(String, PanicReport)> {
    let rest = line.trim_end().strip_prefix("thread '")?;
    let (thread, rest) = rest.split_once('\'')?;
    let rest = rest.trim_start();
    // Since Rust 1.89 the thread's id follows its name: `(4711) `.
    let rest = match rest.strip_prefix('(') {
        Some(id) => id.split_once(')')?.1.trim_start(),
        None => rest,
    };
    let location = rest.strip_prefix("panicked at ")?.strip_suffix(':')?;
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?.to_owned();
    Some((
        thread.to_owned(),
        PanicReport {
            message: String::new(),
            file,
            line,
            column,
        },
    ))
}

/// The line that ends Rust's default panic message (when no backtrace is asked for).
pub fn is_panic_note(line: &str) -> bool {
    line.starts_with("note: run with `RUST_BACKTRACE=1`")
}

/// The line that starts the backtrace after a panic message (with `RUST_BACKTRACE` set): the
/// message has ended, and the backtrace is shown as it is.
pub fn is_backtrace_start(line: &str) -> bool {
    line.starts_with("stack backtrace:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_panic_message_is_recognised() {
        let (thread, report) =
            default_panic_header("thread 'main' (4711) panicked at src/lib.rs:12:5:\n").unwrap();
        assert_eq!(thread, "main");
        assert_eq!(
            (report.file.as_str(), report.line, report.column),
            ("src/lib.rs", 12, 5)
        );
        let (thread, report) =
            default_panic_header("thread 'worker' panicked at C:\\x\\lib.rs:3:9:").unwrap();
        assert_eq!(thread, "worker");
        assert_eq!(report.file, "C:\\x\\lib.rs");
        assert!(default_panic_header("thread 'main' panicked at nowhere").is_none());
        assert!(default_panic_header("a thread 'main' panicked at src/lib.rs:1:1:").is_none());
        assert!(is_panic_note(
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
        ));
        assert!(is_backtrace_start("stack backtrace:"));
        assert!(!is_backtrace_start("boom"));
    }
}
