//! Typed contents of the requests the kernel reads on shell and control.
//!
//! Why our own serde types rather than the `jupyter-protocol` crate: that crate's decoding is
//! deliberately tolerant (unknown or ill-typed fields fall back to defaults), while this
//! kernel *rejects* a request whose fields have the wrong type: it is logged and dropped,
//! never run. Here every request is decoded strictly: required fields must be present, every
//! present field must have its documented type, and absent optional fields take the defaults
//! of the messaging spec. Which `msg_type` decodes to which of these types is the dispatch
//! table in [`crate::dispatch`].

use serde::Deserialize;
use serde_json::{Map, Value};

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
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Map<String, Value>,
}

/// `comm_msg` or `comm_close` content from the front end.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CommMsg {
    /// The comm it is for.
    pub comm_id: String,
    /// The message's data.
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Map<String, Value>,
}

/// `shutdown_request` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShutdownRequest {
    /// Whether the manager will start a new kernel afterwards.
    #[serde(default)]
    pub restart: bool,
}
