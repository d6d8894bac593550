//! Typed contents of the messages this kernel reads and writes.
//!
//! Why our own serde types rather than the `jupyter-protocol` crate: that crate's decoding is
//! deliberately tolerant (unknown or ill-typed fields fall back to defaults), while this
//! kernel must *reject* a request whose fields have the wrong type (the issue: "wrong field
//! types → logged and dropped"). Here every request is decoded strictly: required fields must
//! be present, every present field must have its documented type, and absent optional fields
//! take the defaults of the messaging spec. The types are also small enough to read in one
//! screen, and the core is unit-tested against them directly.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A shell or control request, decoded by `msg_type`.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
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
    /// `kernel_info_request`.
    KernelInfo,
    /// `comm_info_request`.
    CommInfo(CommInfoRequest),
    /// `comm_open`.
    CommOpen(CommOpen),
    /// `comm_msg` or `comm_close` (no comms exist: ignored).
    CommOther,
    /// `shutdown_request`.
    Shutdown(ShutdownRequest),
    /// `interrupt_request`.
    Interrupt,
    /// Any other message type.
    Unknown(String),
}

impl Request {
    /// Decodes `content` strictly according to `msg_type`.
    pub fn parse(msg_type: &str, content: &Map<String, Value>) -> Result<Request, String> {
        fn de<T: for<'de> Deserialize<'de>>(c: &Map<String, Value>) -> Result<T, String> {
            T::deserialize(Value::Object(c.clone())).map_err(|e| e.to_string())
        }
        Ok(match msg_type {
            "execute_request" => Request::Execute(de(content)?),
            "complete_request" => Request::Complete(de(content)?),
            "inspect_request" => Request::Inspect(de(content)?),
            "is_complete_request" => Request::IsComplete(de(content)?),
            "history_request" => Request::History(de(content)?),
            "kernel_info_request" => Request::KernelInfo,
            "comm_info_request" => Request::CommInfo(de(content)?),
            "comm_open" => Request::CommOpen(de(content)?),
            "comm_msg" | "comm_close" => Request::CommOther,
            "shutdown_request" => Request::Shutdown(de(content)?),
            "interrupt_request" => Request::Interrupt,
            other => Request::Unknown(other.to_owned()),
        })
    }
}

fn yes() -> bool {
    true
}

/// An optional field sent as `null` takes its default, as if absent (some clients write
/// `"user_expressions": null`); any other wrong type is still an error.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_as_yes<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(true))
}

/// `execute_request` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExecuteRequest {
    /// The cell.
    pub code: String,
    /// Run quietly: no `execute_input`, no `execute_result`, no count increment.
    #[serde(default, deserialize_with = "null_as_default")]
    pub silent: bool,
    /// Store in history (forced off when `silent`). Default: `!silent`.
    #[serde(default)]
    pub store_history: Option<bool>,
    /// Expressions to evaluate after the cell.
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_expressions: Map<String, Value>,
    /// Whether the kernel may send `input_request`.
    #[serde(default = "yes", deserialize_with = "null_as_yes")]
    pub allow_stdin: bool,
    /// Abort queued execute requests after an error.
    #[serde(default = "yes", deserialize_with = "null_as_yes")]
    pub stop_on_error: bool,
}

impl ExecuteRequest {
    /// `store_history` as the spec defines it: defaults to `!silent`, forced off by `silent`.
    pub fn stores_history(&self) -> bool {
        !self.silent && self.store_history.unwrap_or(true)
    }
}

/// `complete_request` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CompleteRequest {
    /// The cell.
    pub code: String,
    /// Cursor position in code points; default: end of `code`.
    #[serde(default)]
    pub cursor_pos: Option<usize>,
}

/// `inspect_request` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InspectRequest {
    /// The cell.
    pub code: String,
    /// Cursor position in code points; default: end of `code`.
    #[serde(default)]
    pub cursor_pos: Option<usize>,
    /// 0 or 1.
    #[serde(default)]
    pub detail_level: u8,
}

/// `is_complete_request` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IsCompleteRequest {
    /// The code typed so far.
    pub code: String,
}

/// `history_request` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryRequest {
    /// Include outputs: entries become `[session, line, [input, output]]`.
    #[serde(default)]
    pub output: bool,
    /// Raw input (this kernel stores only raw input).
    #[serde(default = "yes")]
    pub raw: bool,
    /// `tail`, `range` or `search`.
    pub hist_access_type: String,
    /// Session number; 0 is the current session.
    #[serde(default)]
    pub session: Option<i64>,
    /// First line of a range.
    #[serde(default)]
    pub start: Option<i64>,
    /// One past the last line of a range.
    #[serde(default)]
    pub stop: Option<i64>,
    /// How many entries (`tail`, `search`).
    #[serde(default)]
    pub n: Option<i64>,
    /// Glob for `search` (`*`, `?`).
    #[serde(default)]
    pub pattern: Option<String>,
    /// `search`: one entry per distinct input.
    #[serde(default)]
    pub unique: bool,
}

/// `comm_info_request` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CommInfoRequest {
    /// Only comms of this target.
    #[serde(default)]
    pub target_name: Option<String>,
}

/// `comm_open` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CommOpen {
    /// The comm's id, chosen by the front end.
    pub comm_id: String,
    /// The target the front end wants to reach.
    pub target_name: String,
    /// Opening data.
    #[serde(default)]
    pub data: Map<String, Value>,
}

/// `shutdown_request` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShutdownRequest {
    /// Whether the manager will start a new kernel afterwards.
    #[serde(default)]
    pub restart: bool,
}

/// `input_reply` content (stdin).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InputReply {
    /// The line the user typed.
    pub value: String,
}

/// A help link in `kernel_info_reply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HelpLink {
    /// Link text.
    pub text: String,
    /// URL.
    pub url: String,
}

/// `kernel_info_reply` content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelInfoReply {
    /// Always `ok`.
    pub status: &'static str,
    /// Protocol version implemented.
    pub protocol_version: &'static str,
    /// Kernel implementation name.
    pub implementation: &'static str,
    /// Kernel implementation version.
    pub implementation_version: &'static str,
    /// The language's info, from the interpreter.
    pub language_info: Value,
    /// Banner text.
    pub banner: String,
    /// Whether the kernel supports debugging (it does not).
    pub debugger: bool,
    /// Help links.
    pub help_links: Vec<HelpLink>,
}

/// Serialises a typed content into a JSON object.
pub fn content<T: Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Converts a `json!({...})` literal into a content map.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(msg_type: &str, v: Value) -> Result<Request, String> {
        Request::parse(msg_type, &object(v))
    }

    #[test]
    fn execute_defaults_follow_the_spec() {
        let Ok(Request::Execute(r)) = parse("execute_request", json!({"code": "1"})) else {
            panic!()
        };
        assert!(!r.silent && r.allow_stdin && r.stop_on_error && r.stores_history());
        let Ok(Request::Execute(r)) =
            parse("execute_request", json!({"code": "1", "silent": true}))
        else {
            panic!()
        };
        assert!(!r.stores_history());
        let Ok(Request::Execute(r)) = parse(
            "execute_request",
            json!({"code": "1", "silent": true, "store_history": true}),
        ) else {
            panic!()
        };
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
            ("shutdown_request", json!({"restart": 1})),
        ] {
            assert!(parse(t, c.clone()).is_err(), "{t} {c}");
        }
    }

    #[test]
    fn null_optional_fields_take_their_defaults() {
        let Ok(Request::Execute(r)) = parse(
            "execute_request",
            json!({
                "code": "1", "silent": null, "store_history": null, "user_expressions": null,
                "allow_stdin": null, "stop_on_error": null,
            }),
        ) else {
            panic!()
        };
        assert!(!r.silent && r.stores_history() && r.allow_stdin && r.stop_on_error);
        assert!(r.user_expressions.is_empty());
        assert!(parse("execute_request", json!({ "code": null })).is_err());
    }

    #[test]
    fn unknown_types_are_kept_by_name() {
        assert_eq!(
            parse("debug_request", json!({})),
            Ok(Request::Unknown("debug_request".into()))
        );
        assert_eq!(
            parse("kernel_info_request", json!({"x": 1})),
            Ok(Request::KernelInfo)
        );
    }
}
