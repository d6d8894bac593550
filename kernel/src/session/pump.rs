//! Output of a running cell on its way to the page: text batched per stream, markers turned
//! into displays, and Rust's default panic message on stderr turned into the cell's error.

use super::markers::{self, Piece};
use super::panic_message::{self, PanicReport};
use super::route::OutputRoute;
use crossbeam_channel::Receiver;
use jupyter_core::interpreter::{OutputSink, StreamName};

/// Whether a batch of `count` lines holding `text` may take another waiting line.
fn room_for_more(text: &str, count: usize) -> bool {
    text.len() < 64 * 1024 && count < 10_000
}

/// Output of a running cell on its way to the sink: text is batched per stream.
pub(super) struct Pump<'a> {
    sink: &'a dyn OutputSink,
    route: &'a OutputRoute,
    /// Whether output follows the route to a page's comm message being handled.
    routed: bool,
    panic: Option<PanicReport>,
    /// A panic message read from stderr, while its lines are still arriving.
    panicking: Option<PanicReport>,
    /// The last lines of stderr (shown when the cell's process dies).
    pub(super) stderr_tail: Vec<String>,
}

impl<'a> Pump<'a> {
    /// A pump writing to `sink`, or where `route` says while the child handles a page's comm
    /// message (the widget socket, and the child's output between cells).
    pub(super) fn new(sink: &'a dyn OutputSink, route: &'a OutputRoute) -> Self {
        Pump {
            sink,
            route,
            routed: true,
            panic: None,
            panicking: None,
            stderr_tail: Vec::new(),
        }
    }

    /// A pump for a running cell's output: always to the cell's `sink`, since the child sends
    /// what it does for the page's comm messages on the widget socket.
    pub(super) fn for_cell(sink: &'a dyn OutputSink, route: &'a OutputRoute) -> Self {
        Pump {
            sink,
            route,
            routed: false,
            panic: None,
            panicking: None,
            stderr_tail: Vec::new(),
        }
    }

    /// Handles `first` and every line already waiting on the same channel, as few messages.
    pub(super) fn lines(&mut self, name: StreamName, first: String, more: &Receiver<String>) {
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
                        self.to_target(|sink| sink.stream(StreamName::Stderr, &w));
                    }
                    Piece::Display(display) => {
                        self.flush(name, &mut text);
                        self.to_target(|sink| sink.display(display));
                    }
                    Piece::Clear { wait } => {
                        self.flush(name, &mut text);
                        self.to_target(|sink| sink.clear_output(wait));
                    }
                    Piece::Comm(comm) => {
                        self.flush(name, &mut text);
                        self.to_target(|sink| sink.comm(comm));
                    }
                    Piece::CommBegin(msg_id) => {
                        self.flush(name, &mut text);
                        self.route.begin(msg_id);
                    }
                    Piece::CommEnd(msg_id) => {
                        self.flush(name, &mut text);
                        self.route.end(&msg_id);
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
            if panic_message::is_backtrace_start(line) {
                self.panic = self.panicking.take();
                return false;
            }
            if panic_message::is_panic_note(line) {
                self.panic = self.panicking.take();
            } else {
                if !report.message.is_empty() {
                    report.message.push('\n');
                }
                report.message.push_str(line.trim_end_matches('\n'));
            }
            return true;
        }
        match panic_message::default_panic_header(line) {
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
    pub(super) fn panic_report(&self) -> Option<&PanicReport> {
        self.panic.as_ref().or(self.panicking.as_ref())
    }

    fn flush(&self, name: StreamName, text: &mut String) {
        if !text.is_empty() {
            self.to_target(|sink| sink.stream(name, text));
            text.clear();
        }
    }

    /// Calls `f` with the sink output goes to now: the page's comm message being handled, or
    /// this pump's own sink.
    fn to_target(&self, f: impl FnOnce(&dyn OutputSink)) {
        let handling = self.routed.then(|| self.route.handling()).flatten();
        match (handling, self.route.hub()) {
            (Some(msg_id), Some(hub)) => f(&hub.sink(Some(&msg_id))),
            _ => f(self.sink),
        }
    }
}
