//! The dispatch table: which request each `msg_type` is, and which channels answer it.
//!
//! One table serves shell and control, as ipykernel's `control_msg_types` and xeus' handler
//! map do. [`ControlRequest`]s (kernel_info, interrupt, shutdown, debug) are answered by
//! [`Control`](crate::control::Control) on whichever channel they arrive, so control answers
//! them while shell is busy with a cell. [`ShellRequest`]s need the interpreter or the
//! session's state and are answered on shell only, one at a time, in order.
//!
//! Every message that decodes is served the same way ([`serve`]): `busy` on iopub, the
//! handler, `idle`. A request whose content does not decode is logged and dropped.

use crate::iopub::ExecutionState;
use crate::message::Message;
use crate::outbox::Outbox;
use crate::request::{
    CommInfoRequest, CommMsg, CommOpen, CompleteRequest, ExecuteRequest, HistoryRequest,
    InspectRequest, IsCompleteRequest, ShutdownRequest,
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A shell or control request, decoded by `msg_type`.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Answered on control and on shell.
    Control(ControlRequest),
    /// Answered on shell only.
    Shell(ShellRequest),
    /// Any other message type (logged and ignored, between busy and idle).
    Unknown(String),
}

/// The requests control answers (shell answers them too).
#[derive(Debug, Clone, PartialEq)]
pub enum ControlRequest {
    /// `kernel_info_request`.
    KernelInfo,
    /// `interrupt_request`.
    Interrupt,
    /// `shutdown_request`.
    Shutdown(ShutdownRequest),
    /// `debug_request` (this kernel has no debugger: the reply is empty, as ipykernel's
    /// without debugpy).
    Debug,
}

/// The requests only shell answers.
#[derive(Debug, Clone, PartialEq)]
pub enum ShellRequest {
    /// `execute_request`.
    Execute(ExecuteRequest),
    /// `complete_request`.
    Complete(CompleteRequest),
    /// `inspect_request`.
    Inspect(InspectRequest),
    /// `is_complete_request`.
    IsComplete(IsCompleteRequest),
    /// `history_request`.
    History(HistoryRequest),
    /// `comm_info_request`.
    CommInfo(CommInfoRequest),
    /// `comm_open` from the front end.
    CommOpen(CommOpen),
    /// `comm_msg` from the front end.
    CommMsg(CommMsg),
    /// `comm_close` from the front end.
    CommClose(CommMsg),
}

impl Request {
    /// Decodes `content` strictly according to `msg_type`: the table itself.
    pub fn parse(msg_type: &str, content: &Map<String, Value>) -> Result<Request, String> {
        fn de<T: for<'de> Deserialize<'de>>(c: &Map<String, Value>) -> Result<T, String> {
            T::deserialize(Value::Object(c.clone())).map_err(|e| e.to_string())
        }
        use ControlRequest as C;
        use ShellRequest as S;
        Ok(match msg_type {
            "kernel_info_request" => Request::Control(C::KernelInfo),
            "interrupt_request" => Request::Control(C::Interrupt),
            "shutdown_request" => Request::Control(C::Shutdown(de(content)?)),
            "debug_request" => Request::Control(C::Debug),
            "execute_request" => Request::Shell(S::Execute(de(content)?)),
            "complete_request" => Request::Shell(S::Complete(de(content)?)),
            "inspect_request" => Request::Shell(S::Inspect(de(content)?)),
            "is_complete_request" => Request::Shell(S::IsComplete(de(content)?)),
            "history_request" => Request::Shell(S::History(de(content)?)),
            "comm_info_request" => Request::Shell(S::CommInfo(de(content)?)),
            "comm_open" => Request::Shell(S::CommOpen(de(content)?)),
            "comm_msg" => Request::Shell(S::CommMsg(de(content)?)),
            "comm_close" => Request::Shell(S::CommClose(de(content)?)),
            other => Request::Unknown(other.to_owned()),
        })
    }
}

/// What the caller should do after a message was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// An execute failed with `stop_on_error`: abort the execute requests already queued.
    AbortQueued,
    /// Shut the kernel down (`shutdown_request`; the reply has been sent).
    Shutdown,
}

/// Serves one message: decodes it, publishes `busy`, runs `handler`, publishes `idle`.
/// A message whose content does not decode is logged and dropped (no status either).
pub fn serve(out: &Outbox, msg: &Message, handler: impl FnOnce(Request) -> Flow) -> Flow {
    let request = match Request::parse(msg.msg_type(), &msg.content) {
        Ok(r) => r,
        Err(e) => {
            log::warn!("dropped {} with bad content: {e}", msg.msg_type());
            return Flow::Continue;
        }
    };
    out.status(msg, ExecutionState::Busy);
    let flow = handler(request);
    out.status(msg, ExecutionState::Idle);
    flow
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(msg_type: &str, v: Value) -> Result<Request, String> {
        let Value::Object(content) = v else {
            panic!("content must be an object")
        };
        Request::parse(msg_type, &content)
    }

    fn execute(v: Value) -> ExecuteRequest {
        match parse("execute_request", v) {
            Ok(Request::Shell(ShellRequest::Execute(r))) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn execute_defaults_follow_the_spec() {
        let r = execute(json!({"code": "1"}));
        assert!(!r.silent && r.allow_stdin && r.stop_on_error && r.stores_history());
        let r = execute(json!({"code": "1", "silent": true}));
        assert!(!r.stores_history());
        let r = execute(json!({"code": "1", "silent": true, "store_history": true}));
        assert!(!r.stores_history(), "silent forces store_history off");
    }

    #[test]
    fn wrong_field_types_are_errors() {
        for (t, c) in [
            ("execute_request", json!({})),
            ("execute_request", json!({"code": 5})),
            ("execute_request", json!({"code": "x", "silent": "yes"})),
            (
                "execute_request",
                json!({"code": "x", "user_expressions": []}),
            ),
            ("complete_request", json!({"code": "x", "cursor_pos": -1})),
            ("complete_request", json!({"code": "x", "cursor_pos": "3"})),
            ("inspect_request", json!({"code": "x", "detail_level": 300})),
            ("is_complete_request", json!({"code": null})),
            ("history_request", json!({"hist_access_type": 3})),
            (
                "history_request",
                json!({"hist_access_type": "tail", "n": "3"}),
            ),
            ("comm_open", json!({"comm_id": "c"})),
            ("comm_msg", json!({"data": {}})),
            ("comm_msg", json!({"comm_id": 7, "data": {}})),
            ("comm_close", json!({"comm_id": "c", "data": []})),
            ("shutdown_request", json!({"restart": 1})),
        ] {
            assert!(parse(t, c.clone()).is_err(), "{t} {c}");
        }
    }

    #[test]
    fn null_optional_fields_take_their_defaults() {
        let r = execute(json!({
            "code": "1", "silent": null, "store_history": null, "user_expressions": null,
            "allow_stdin": null, "stop_on_error": null,
        }));
        assert!(!r.silent && r.stores_history() && r.allow_stdin && r.stop_on_error);
        assert!(r.user_expressions.is_empty());
        assert!(parse("execute_request", json!({ "code": null })).is_err());
    }

    #[test]
    fn control_answers_kernel_info_interrupt_shutdown_and_debug_only() {
        for t in [
            "kernel_info_request",
            "interrupt_request",
            "shutdown_request",
            "debug_request",
        ] {
            assert!(
                matches!(parse(t, json!({})), Ok(Request::Control(_))),
                "{t}"
            );
        }
        for (t, c) in [
            ("execute_request", json!({"code": ""})),
            ("complete_request", json!({"code": ""})),
            ("inspect_request", json!({"code": ""})),
            ("is_complete_request", json!({"code": ""})),
            ("history_request", json!({"hist_access_type": "tail"})),
            ("comm_info_request", json!({})),
            ("comm_msg", json!({"comm_id": "c"})),
            ("comm_close", json!({"comm_id": "c", "data": null})),
        ] {
            assert!(matches!(parse(t, c), Ok(Request::Shell(_))), "{t}");
        }
    }

    #[test]
    fn unknown_types_are_kept_by_name() {
        assert_eq!(
            parse("usage_request", json!({})),
            Ok(Request::Unknown("usage_request".into()))
        );
        assert_eq!(
            parse("kernel_info_request", json!({"x": 1})),
            Ok(Request::Control(ControlRequest::KernelInfo))
        );
    }
}
