//! Every reply the kernel sends on shell and control, typed, each built here only.
//!
//! A reply is a [`Content`]: it serialises to the message's content and knows its
//! `msg_type`. The fields follow the messaging spec (version [`PROTOCOL_VERSION`]).

use crate::history::HistoryItem;
use crate::interpreter::{Completeness, Completions, ExecuteError, Inspection, KernelInfo};
use crate::interpreter::{HelpLink, LanguageInfo, MimeBundle};
use crate::message::PROTOCOL_VERSION;
use crate::outbox::Content;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `status: ok`, the one status of the replies that cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OkStatus {
    /// `ok`.
    Ok,
}

/// `kernel_info_reply`: the interpreter's [`KernelInfo`] and the protocol version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelInfoReply {
    status: OkStatus,
    protocol_version: &'static str,
    implementation: String,
    implementation_version: String,
    language_info: LanguageInfo,
    banner: String,
    debugger: bool,
    help_links: Vec<HelpLink>,
}

impl KernelInfoReply {
    /// The reply for an interpreter that describes itself as `info`.
    pub fn new(info: KernelInfo) -> KernelInfoReply {
        KernelInfoReply {
            status: OkStatus::Ok,
            protocol_version: PROTOCOL_VERSION,
            implementation: info.implementation,
            implementation_version: info.implementation_version,
            language_info: info.language_info,
            banner: info.banner,
            debugger: false,
            help_links: info.help_links,
        }
    }
}

impl Content for KernelInfoReply {
    fn msg_type(&self) -> &str {
        "kernel_info_reply"
    }
}

/// `execute_reply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ExecuteReply {
    /// The cell ran.
    Ok {
        /// The cell's execution count.
        execution_count: u32,
        /// The answers to the request's `user_expressions`.
        user_expressions: BTreeMap<String, UserExpression>,
        /// Always empty (payloads are deprecated).
        payload: Vec<Value>,
    },
    /// The cell failed.
    Error {
        /// The cell's execution count.
        execution_count: u32,
        /// The error's name.
        ename: String,
        /// The error's message.
        evalue: String,
        /// The lines to show.
        traceback: Vec<String>,
        /// Never evaluated after an error: empty.
        user_expressions: BTreeMap<String, UserExpression>,
        /// Always empty.
        payload: Vec<Value>,
    },
    /// The cell was not run: an earlier one failed with `stop_on_error`.
    Aborted {
        /// The execution count at the time.
        execution_count: u32,
    },
}

impl ExecuteReply {
    /// A cell that ran.
    pub fn ok(
        execution_count: u32,
        user_expressions: BTreeMap<String, UserExpression>,
    ) -> ExecuteReply {
        ExecuteReply::Ok {
            execution_count,
            user_expressions,
            payload: Vec::new(),
        }
    }

    /// A cell that failed with `error`.
    pub fn error(execution_count: u32, error: &ExecuteError) -> ExecuteReply {
        ExecuteReply::Error {
            execution_count,
            ename: error.ename.clone(),
            evalue: error.evalue.clone(),
            traceback: error.traceback.clone(),
            user_expressions: BTreeMap::new(),
            payload: Vec::new(),
        }
    }
}

impl Content for ExecuteReply {
    fn msg_type(&self) -> &str {
        "execute_reply"
    }
}

/// The answer to one of `user_expressions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum UserExpression {
    /// Its value.
    Ok {
        /// The value's MIME bundle.
        data: MimeBundle,
        /// Always empty.
        metadata: Map<String, Value>,
    },
    /// It failed.
    Error(ExecuteError),
}

impl UserExpression {
    /// An expression whose value is shown as `data`.
    pub fn value(data: MimeBundle) -> UserExpression {
        UserExpression::Ok {
            data,
            metadata: Map::new(),
        }
    }
}

/// `complete_reply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompleteReply {
    status: OkStatus,
    matches: Vec<String>,
    cursor_start: usize,
    cursor_end: usize,
    metadata: Map<String, Value>,
}

impl From<Completions> for CompleteReply {
    fn from(c: Completions) -> CompleteReply {
        CompleteReply {
            status: OkStatus::Ok,
            matches: c.matches,
            cursor_start: c.cursor_start,
            cursor_end: c.cursor_end,
            metadata: Map::new(),
        }
    }
}

impl Content for CompleteReply {
    fn msg_type(&self) -> &str {
        "complete_reply"
    }
}

/// `inspect_reply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectReply {
    status: OkStatus,
    found: bool,
    data: MimeBundle,
    metadata: Map<String, Value>,
}

impl From<Inspection> for InspectReply {
    fn from(found: Inspection) -> InspectReply {
        InspectReply {
            status: OkStatus::Ok,
            found: found.is_some(),
            data: found.unwrap_or_default(),
            metadata: Map::new(),
        }
    }
}

impl Content for InspectReply {
    fn msg_type(&self) -> &str {
        "inspect_reply"
    }
}

/// `is_complete_reply`: the [`Completeness`] as its `status` (and `indent`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct IsCompleteReply(pub Completeness);

impl Content for IsCompleteReply {
    fn msg_type(&self) -> &str {
        "is_complete_reply"
    }
}

/// `history_reply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryReply {
    status: OkStatus,
    history: Vec<HistoryItem>,
}

impl HistoryReply {
    /// The reply listing `history`.
    pub fn new(history: Vec<HistoryItem>) -> HistoryReply {
        HistoryReply {
            status: OkStatus::Ok,
            history,
        }
    }
}

impl Content for HistoryReply {
    fn msg_type(&self) -> &str {
        "history_reply"
    }
}

/// `comm_info_reply`: the open comms, `{comm_id: {"target_name": ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommInfoReply {
    status: OkStatus,
    comms: Map<String, Value>,
}

impl CommInfoReply {
    /// The reply listing `comms`, pairs of comm id and target name.
    pub fn new<'a>(comms: impl IntoIterator<Item = (&'a str, &'a str)>) -> CommInfoReply {
        let comms = comms
            .into_iter()
            .map(|(id, target)| (id.to_owned(), serde_json::json!({ "target_name": target })))
            .collect();
        CommInfoReply {
            status: OkStatus::Ok,
            comms,
        }
    }
}

impl Default for CommInfoReply {
    fn default() -> CommInfoReply {
        CommInfoReply::new([])
    }
}

impl Content for CommInfoReply {
    fn msg_type(&self) -> &str {
        "comm_info_reply"
    }
}

/// `shutdown_reply`, sent to the requester and published on iopub.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShutdownReply {
    status: OkStatus,
    restart: bool,
}

impl ShutdownReply {
    /// The reply to a shutdown with or without `restart`.
    pub fn new(restart: bool) -> ShutdownReply {
        ShutdownReply {
            status: OkStatus::Ok,
            restart,
        }
    }
}

impl Content for ShutdownReply {
    fn msg_type(&self) -> &str {
        "shutdown_reply"
    }
}

/// `interrupt_reply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterruptReply {
    status: OkStatus,
}

impl Default for InterruptReply {
    fn default() -> InterruptReply {
        InterruptReply {
            status: OkStatus::Ok,
        }
    }
}

impl Content for InterruptReply {
    fn msg_type(&self) -> &str {
        "interrupt_reply"
    }
}

/// `debug_reply` of a kernel without a debugger: empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DebugReply {}

impl Content for DebugReply {
    fn msg_type(&self) -> &str {
        "debug_reply"
    }
}

/// The error reply to a request whose handler panicked (other than `execute_request`, whose
/// reply is an [`ExecuteReply::Error`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelErrorReply {
    #[serde(skip)]
    msg_type: String,
    status: &'static str,
    ename: &'static str,
    evalue: String,
    traceback: Vec<String>,
    execution_count: u32,
}

impl KernelErrorReply {
    /// The reply to a request of `request_type` that failed with `evalue`.
    pub fn new(request_type: &str, evalue: String, execution_count: u32) -> KernelErrorReply {
        let stem = request_type
            .strip_suffix("_request")
            .unwrap_or(request_type);
        KernelErrorReply {
            msg_type: format!("{stem}_reply"),
            status: "error",
            ename: "KernelError",
            traceback: vec![evalue.clone()],
            evalue,
            execution_count,
        }
    }
}

impl Content for KernelErrorReply {
    fn msg_type(&self) -> &str {
        &self.msg_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, to_value};

    #[test]
    fn execute_replies_have_the_fields_of_their_status() {
        let error = ExecuteError {
            ename: "Panic".into(),
            evalue: "boom".into(),
            traceback: vec!["at line 1".into()],
        };
        assert_eq!(
            to_value(ExecuteReply::ok(3, BTreeMap::new())).unwrap(),
            json!({ "status": "ok", "execution_count": 3, "user_expressions": {}, "payload": [] })
        );
        assert_eq!(
            to_value(ExecuteReply::error(3, &error)).unwrap(),
            json!({
                "status": "error", "execution_count": 3, "ename": "Panic", "evalue": "boom",
                "traceback": ["at line 1"], "user_expressions": {}, "payload": [],
            })
        );
        assert_eq!(
            to_value(ExecuteReply::Aborted { execution_count: 3 }).unwrap(),
            json!({ "status": "aborted", "execution_count": 3 })
        );
        let answers = BTreeMap::from([
            ("v".to_owned(), UserExpression::value(Map::new())),
            ("e".to_owned(), UserExpression::Error(error)),
        ]);
        assert_eq!(
            to_value(answers).unwrap(),
            json!({
                "v": { "status": "ok", "data": {}, "metadata": {} },
                "e": { "status": "error", "ename": "Panic", "evalue": "boom",
                       "traceback": ["at line 1"] },
            })
        );
    }

    #[test]
    fn is_complete_and_error_replies() {
        let incomplete = Completeness::Incomplete {
            indent: "    ".into(),
        };
        assert_eq!(
            to_value(IsCompleteReply(incomplete)).unwrap(),
            json!({ "status": "incomplete", "indent": "    " })
        );
        assert_eq!(
            to_value(IsCompleteReply(Completeness::Invalid)).unwrap(),
            json!({ "status": "invalid" })
        );
        let reply = KernelErrorReply::new("complete_request", "it broke".into(), 2);
        assert_eq!(reply.msg_type(), "complete_reply");
        assert_eq!(
            to_value(reply).unwrap(),
            json!({
                "status": "error", "ename": "KernelError", "evalue": "it broke",
                "traceback": ["it broke"], "execution_count": 2,
            })
        );
    }
}
