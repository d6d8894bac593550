//! The language boundary.
//!
//! The protocol core (sockets, signing, counts, busy/idle, `stop_on_error`) knows nothing of
//! the language it serves: it calls an [`Interpreter`], as xeus' core calls its
//! `xinterpreter` and ipykernel's `kernelbase` calls `do_execute`.
//!
//! Threading: the protocol core owns the interpreter on one dedicated OS thread and calls
//! its methods one at a time, in the order shell requests arrive. While `execute` runs,
//! the control task may call [`Interrupter::interrupt`] from another thread. At shutdown the
//! interpreter is dropped on its thread (the kernel waits up to 3 s for that), so `Drop` is
//! where it stops what it started.

use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// A MIME bundle: `{"text/plain": "...", "image/png": "<base64>", ...}`.
pub type MimeBundle = Map<String, Value>;

/// What the front end asked to execute (the interesting fields of `execute_request`).
#[derive(Debug, Clone)]
pub struct ExecuteRequest {
    /// The cell's source.
    pub code: String,
    /// `silent`: no broadcast of `execute_input`, no count increment.
    pub silent: bool,
    /// Whether the cell is stored in the history.
    pub store_history: bool,
    /// Whether the cell may ask the front end for input (`input_request`).
    pub allow_stdin: bool,
    /// The execution count this cell runs as (already incremented by the core).
    pub execution_count: u32,
}

/// Which standard stream a piece of text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamName {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One rich output made while a cell runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Display {
    /// The MIME bundle (`data`).
    pub data: MimeBundle,
    /// Per-MIME metadata (`metadata`), e.g. `{"image/png": {"width": 640}}`.
    pub metadata: Map<String, Value>,
    /// `transient.display_id`, for later in-place updates.
    pub display_id: Option<String>,
    /// `true`: an `update_display_data` of an earlier display with the same `display_id`.
    pub update: bool,
}

/// Where an interpreter sends what a running cell produces, as it is produced.
/// The core turns each call into an iopub message carrying the request's parent header.
pub trait OutputSink: Send + Sync {
    /// Text on stdout or stderr (`stream`).
    fn stream(&self, name: StreamName, text: &str);
    /// A rich output (`display_data` or `update_display_data`).
    fn display(&self, display: Display);
    /// `clear_output`.
    fn clear_output(&self, wait: bool);
    /// Ask the front end for a line of input (`input_request` on stdin). `None` when the
    /// request did not allow stdin or the front end did not answer.
    fn input(&self, prompt: &str, password: bool) -> Option<String>;
    /// A comm message from the kernel's side (`comm_open`, `comm_msg`, `comm_close` on
    /// iopub). A sink that cannot carry comms drops it.
    fn comm(&self, comm: KernelComm) {
        log::debug!(
            "dropped a comm message for {}: this output has no comms",
            comm.comm_id()
        );
    }
}

/// A comm message the interpreter's code sends to the front end (a widget's model opened,
/// updated or closed). Published on iopub with the current request as parent.
#[derive(Debug, Clone, PartialEq)]
pub enum KernelComm {
    /// `comm_open`: a new comm for the front end's `target_name` handler.
    Open {
        /// A new id, unique in the session.
        comm_id: String,
        /// The front end's handler (`jupyter.widget`).
        target_name: String,
        /// Opening data.
        data: Map<String, Value>,
        /// Message metadata (`{"version": "2.1.0"}` for widgets).
        metadata: Map<String, Value>,
    },
    /// `comm_msg` on an open comm.
    Message {
        /// The comm.
        comm_id: String,
        /// The message.
        data: Map<String, Value>,
    },
    /// `comm_close`.
    Close {
        /// The comm.
        comm_id: String,
        /// Closing data.
        data: Map<String, Value>,
    },
}

impl KernelComm {
    /// The comm the message is for.
    pub fn comm_id(&self) -> &str {
        match self {
            KernelComm::Open { comm_id, .. }
            | KernelComm::Message { comm_id, .. }
            | KernelComm::Close { comm_id, .. } => comm_id,
        }
    }
}

/// What the front end did to a comm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCommEvent {
    /// `comm_open` for a target the interpreter accepts.
    Open {
        /// The target the front end asked for.
        target_name: String,
    },
    /// `comm_msg`.
    Message,
    /// `comm_close`.
    Close,
}

/// A comm message from the front end, for the interpreter's code.
#[derive(Debug, Clone, PartialEq)]
pub struct PageComm {
    /// The message's own `msg_id`: outputs made while handling it carry it as parent
    /// ([`CommHub::sink`](crate::comms::CommHub::sink)), and
    /// [`CommHub::finished`](crate::comms::CommHub::finished) ends it.
    pub msg_id: String,
    /// The comm.
    pub comm_id: String,
    /// Open, message or close.
    pub event: PageCommEvent,
    /// The content's `data`.
    pub data: Map<String, Value>,
}

/// The interpreter's side of comms: where the front end's comm messages go.
///
/// Called from the kernel's shell receiving task, as the messages arrive, whether or not a
/// cell runs: `receive` must return at once (hand the message to another thread). When the
/// message has been handled, the interpreter calls
/// [`CommHub::finished`](crate::comms::CommHub::finished) with its `msg_id`, which publishes
/// its `idle` status.
pub trait CommReceiver: Send + Sync {
    /// Whether a front end may open a comm for `target_name`.
    fn accepts(&self, target_name: &str) -> bool;
    /// A message for a comm that is open.
    fn receive(&self, comm: PageComm);
}

/// How a cell ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecuteOutcome {
    /// It ran; `result` is the cell's value, if it had one (`execute_result`).
    Ok {
        /// The value of the cell's last expression.
        result: Option<MimeBundle>,
    },
    /// It failed to compile, panicked, was interrupted or crashed the child.
    Error(ExecuteError),
}

/// An error as Jupyter shows it (`error` on iopub, `status: error` in the reply).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecuteError {
    /// e.g. `CompilationError`, `Panic`, `KeyboardInterrupt`, `ChildCrash`.
    pub ename: String,
    /// One line saying what went wrong.
    pub evalue: String,
    /// Lines to show, ANSI colours allowed, pointing at the cell's line and column.
    pub traceback: Vec<String>,
}

/// Result of `is_complete_request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Completeness {
    /// Ready to execute.
    Complete,
    /// More input needed; the indent for the next line.
    Incomplete {
        /// Whitespace to insert on the next line.
        indent: String,
    },
    /// Can never become valid by appending.
    Invalid,
    /// Cannot tell.
    Unknown,
}

/// Result of `complete_request`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completions {
    /// Candidate texts.
    pub matches: Vec<String>,
    /// Start of the text to replace (in Unicode code points, as the protocol says).
    pub cursor_start: usize,
    /// End of the text to replace.
    pub cursor_end: usize,
}

/// Result of `inspect_request`: `None` when nothing is known at the cursor.
pub type Inspection = Option<MimeBundle>;

/// Raises the interrupt of a running cell from another thread.
pub trait Interrupter: Send + Sync {
    /// Ask the running cell to stop. Returns at once; the cell's `execute` returns a
    /// `KeyboardInterrupt` error when it has stopped (cooperatively, or by restarting the
    /// child after a grace period).
    fn interrupt(&self);
}

/// A language implementation, driven by the protocol core.
pub trait Interpreter {
    /// Run a cell. Outputs go to `sink` as they are produced.
    fn execute(&mut self, request: &ExecuteRequest, sink: &dyn OutputSink) -> ExecuteOutcome;
    /// Completions at `cursor_pos` (code points).
    fn complete(&mut self, code: &str, cursor_pos: usize) -> Completions;
    /// What is known about the name at `cursor_pos`.
    fn inspect(&mut self, code: &str, cursor_pos: usize, detail_level: u8) -> Inspection;
    /// Whether `code` is a complete cell.
    fn is_complete(&mut self, code: &str) -> Completeness;
    /// A handle the control task uses to interrupt a running `execute`.
    fn interrupter(&self) -> Arc<dyn Interrupter>;
    /// Restart the language runtime (`shutdown_request` with `restart: true`): all
    /// variables are dropped.
    fn restart(&mut self);
    /// What `kernel_info_reply` says about the implementation and its language. Asked once,
    /// when the kernel starts; must be cheap.
    fn kernel_info(&self) -> KernelInfo;
    /// Called once, before any request, with the kernel's comms. An interpreter that speaks
    /// comms keeps `hub` (to publish outside a cell) and returns its receiver; the default has
    /// none, so every `comm_open` from the front end is closed at once.
    fn attach_comms(&mut self, hub: crate::comms::CommHub) -> Option<Arc<dyn CommReceiver>> {
        let _ = hub;
        None
    }
}

/// The interpreter's part of `kernel_info_reply` (the core adds the protocol version and
/// `status`).
#[derive(Debug, Clone, PartialEq)]
pub struct KernelInfo {
    /// The kernel implementation's name, e.g. `dl-kernel`.
    pub implementation: String,
    /// Its version.
    pub implementation_version: String,
    /// The language the cells are written in.
    pub language_info: LanguageInfo,
    /// Text a front end shows when it connects.
    pub banner: String,
    /// Documentation links front ends put in their help menu.
    pub help_links: Vec<HelpLink>,
}

/// `language_info` of `kernel_info_reply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LanguageInfo {
    /// The language's name, e.g. `rust`.
    pub name: String,
    /// The language's version, e.g. `1.95.0`.
    pub version: String,
    /// MIME type of a script in the language, e.g. `text/rust`.
    pub mimetype: String,
    /// File extension of a script, with its dot, e.g. `.rs`.
    pub file_extension: String,
    /// Pygments lexer for highlighting, if it is not `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pygments_lexer: Option<String>,
    /// CodeMirror mode for highlighting, if it is not `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codemirror_mode: Option<String>,
}

/// A help link in `kernel_info_reply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HelpLink {
    /// Link text.
    pub text: String,
    /// URL.
    pub url: String,
}
