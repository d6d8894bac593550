//! Everything the kernel publishes on iopub, typed, each built here only: the status around
//! every request, the cell's input, outputs and result, errors, and comm closes.

use crate::interpreter::{Display, ExecuteError, MimeBundle, StreamName};
use crate::outbox::Content;
use serde::Serialize;
use serde_json::{Map, Value};

/// The kernel's state in a `status` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionState {
    /// Handling a request.
    Busy,
    /// Done with it.
    Idle,
}

/// `status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// Busy or idle.
    pub execution_state: ExecutionState,
}

impl Content for Status {
    fn msg_type(&self) -> &str {
        "status"
    }
}

/// `execute_input`: the cell about to run, as the kernel numbered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecuteInput<'a> {
    /// The cell's source.
    pub code: &'a str,
    /// Its execution count.
    pub execution_count: u32,
}

impl Content for ExecuteInput<'_> {
    fn msg_type(&self) -> &str {
        "execute_input"
    }
}

/// `execute_result`: the value of the cell's last expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecuteResult<'a> {
    /// The cell's execution count.
    pub execution_count: u32,
    /// The value's MIME bundle.
    pub data: &'a MimeBundle,
    /// Always empty.
    pub metadata: Map<String, Value>,
}

impl Content for ExecuteResult<'_> {
    fn msg_type(&self) -> &str {
        "execute_result"
    }
}

/// `error`: a cell failed.
impl Content for ExecuteError {
    fn msg_type(&self) -> &str {
        "error"
    }
}

/// `stream`: text on stdout or stderr.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stream<'a> {
    /// Which stream.
    pub name: StreamName,
    /// The text, as it was written.
    pub text: &'a str,
}

impl Content for Stream<'_> {
    fn msg_type(&self) -> &str {
        "stream"
    }
}

/// `display_data`, or `update_display_data` for an update of an earlier display.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisplayData {
    data: MimeBundle,
    metadata: Map<String, Value>,
    transient: Transient,
    #[serde(skip)]
    update: bool,
}

/// `transient` of a display: its id, when it has one (`{}` otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Transient {
    #[serde(skip_serializing_if = "Option::is_none")]
    display_id: Option<String>,
}

impl From<Display> for DisplayData {
    fn from(display: Display) -> DisplayData {
        DisplayData {
            data: display.data,
            metadata: display.metadata,
            // Only a display with an id can be updated.
            update: display.update && display.display_id.is_some(),
            transient: Transient {
                display_id: display.display_id,
            },
        }
    }
}

impl Content for DisplayData {
    fn msg_type(&self) -> &str {
        if self.update {
            "update_display_data"
        } else {
            "display_data"
        }
    }
}

/// `clear_output`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClearOutput {
    /// Clear only when the next output arrives.
    pub wait: bool,
}

impl Content for ClearOutput {
    fn msg_type(&self) -> &str {
        "clear_output"
    }
}

/// `comm_open` from the kernel: a comm the kernel's code created (a widget's model).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommOpen<'a> {
    /// The new comm's id.
    pub comm_id: &'a str,
    /// The front end's handler for it (`jupyter.widget`).
    pub target_name: &'a str,
    /// Opening data (a widget's whole state).
    pub data: &'a Map<String, Value>,
}

impl Content for CommOpen<'_> {
    fn msg_type(&self) -> &str {
        "comm_open"
    }
}

/// `comm_msg` from the kernel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommMsg<'a> {
    /// The comm it is for.
    pub comm_id: &'a str,
    /// The message (a widget's state update).
    pub data: &'a Map<String, Value>,
}

impl Content for CommMsg<'_> {
    fn msg_type(&self) -> &str {
        "comm_msg"
    }
}

/// `comm_close`: a comm the kernel closes (or a `comm_open` for a target it does not have).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommClose<'a> {
    /// The comm being closed.
    pub comm_id: &'a str,
    /// Closing data.
    pub data: Map<String, Value>,
}

impl Content for CommClose<'_> {
    fn msg_type(&self) -> &str {
        "comm_close"
    }
}
