//! The marker protocol, kernel side: one line of a cell's output → what to show.
//!
//! A running cell talks to the kernel through its standard output (see
//! `docs/display-protocol.md`). Each line that evcxr hands us is split here into ordinary text
//! and the markers it carries:
//!
//! - `DLK_DISPLAY {json}`: a rich output, or an in-place update of one (`display_id`, `update`);
//! - `DLK_CLEAR_OUTPUT {json}`: `clear_output`;
//! - `DLK_PARTIAL "json string"`: written by the child's output relay for text that was flushed
//!   without a newline (`print!` + flush, a `\r` progress bar);
//! - `DLK_COMM {json}`: a comm message to the page (`comm_open`, `comm_msg`, `comm_close`);
//! - `DLK_COMM_BEGIN {"msg_id": ...}` … `DLK_COMM_END {"msg_id": ...}`: the child handles the
//!   page's comm message `msg_id` in between (its output goes with that message as parent;
//!   the end also means the message is done).
//!
//! A marker may start anywhere in a line; text before it is ordinary output. A marker whose JSON
//! is malformed is shown as ordinary text, with a warning. This file is pure: no I/O.

use jupyter_core::interpreter::{Display, KernelComm, MimeBundle};
use serde_json::{Map, Value};

/// Prefix of a rich-output marker.
pub const DISPLAY: &str = "DLK_DISPLAY ";
/// Prefix of a clear-output marker.
pub const CLEAR_OUTPUT: &str = "DLK_CLEAR_OUTPUT ";
/// Prefix of a partial line forwarded by the child's output relay.
pub const PARTIAL: &str = "DLK_PARTIAL ";
/// Prefix of a comm message to the page.
pub const COMM: &str = "DLK_COMM ";
/// Prefix of the start of the child's handling of a page's comm message.
pub const COMM_BEGIN: &str = "DLK_COMM_BEGIN ";
/// Prefix of the end of the child's handling of a page's comm message.
pub const COMM_END: &str = "DLK_COMM_END ";

/// One piece of a line of output.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Ordinary text, to show as it is (it carries its own `\n` where the line had one).
    Text(String),
    /// A rich output or an in-place update.
    Display(Display),
    /// Clear the cell's output.
    Clear {
        /// Wait for the next output before clearing.
        wait: bool,
    },
    /// A comm message to the page.
    Comm(KernelComm),
    /// The child starts handling the page's comm message with this `msg_id`.
    CommBegin(String),
    /// The child is done with the page's comm message with this `msg_id`.
    CommEnd(String),
    /// A malformed marker: shown as text, and this warning goes to stderr.
    Warning(String),
}

const PREFIXES: [&str; 6] = [DISPLAY, CLEAR_OUTPUT, PARTIAL, COMM, COMM_BEGIN, COMM_END];

/// Splits one line (without its trailing newline) into pieces.
///
/// Text that ends the line gets the line's `\n` back; text before a marker does not (it was
/// printed without a newline). A partial line (`DLK_PARTIAL`) never gets a newline.
pub fn parse_line(line: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let Some((start, prefix)) = find_marker(line) else {
        pieces.push(Piece::Text(format!("{line}\n")));
        return pieces;
    };
    if start > 0 {
        pieces.push(Piece::Text(line[..start].to_owned()));
    }
    let payload = &line[start + prefix.len()..];
    match parse_marker(prefix, payload) {
        Ok(piece) => pieces.push(piece),
        Err(why) => {
            pieces.push(Piece::Warning(format!(
                "dl-kernel: ignored a malformed {} marker ({why})\n",
                prefix.trim_end()
            )));
            pieces.push(Piece::Text(format!("{}\n", &line[start..])));
        }
    }
    merge_text(pieces)
}

/// The first marker in `line`: its byte offset and prefix.
fn find_marker(line: &str) -> Option<(usize, &'static str)> {
    // Fast path: nearly every line has no marker at all.
    if !line.contains("DLK_") {
        return None;
    }
    PREFIXES
        .iter()
        .filter_map(|prefix| line.find(prefix).map(|at| (at, *prefix)))
        .min_by_key(|(at, _)| *at)
}

fn parse_marker(prefix: &str, payload: &str) -> Result<Piece, String> {
    let value: Value = serde_json::from_str(payload.trim_end()).map_err(|e| e.to_string())?;
    match prefix {
        DISPLAY => parse_display(value).map(Piece::Display),
        CLEAR_OUTPUT => {
            let wait = match &value {
                Value::Object(map) => map.get("wait").and_then(Value::as_bool).unwrap_or(false),
                _ => return Err("expected a JSON object".into()),
            };
            Ok(Piece::Clear { wait })
        }
        PARTIAL => match value {
            Value::String(text) => Ok(Piece::Text(text)),
            _ => Err("expected a JSON string".into()),
        },
        COMM => parse_comm(value).map(Piece::Comm),
        COMM_BEGIN | COMM_END => match value.get("msg_id") {
            Some(Value::String(id)) if prefix == COMM_BEGIN => Ok(Piece::CommBegin(id.clone())),
            Some(Value::String(id)) => Ok(Piece::CommEnd(id.clone())),
            _ => Err("expected {\"msg_id\": string}".into()),
        },
        _ => Err(format!("unknown marker {prefix}")),
    }
}

fn parse_display(value: Value) -> Result<Display, String> {
    let Value::Object(mut map) = value else {
        return Err("expected a JSON object".into());
    };
    let data: MimeBundle = match map.remove("data") {
        Some(Value::Object(data)) => data,
        Some(_) => return Err("`data` must be an object".into()),
        None => return Err("`data` is missing".into()),
    };
    let metadata = match map.remove("metadata") {
        Some(Value::Object(metadata)) => metadata,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err("`metadata` must be an object".into()),
    };
    let display_id = match map.remove("display_id") {
        Some(Value::String(id)) => Some(id),
        None | Some(Value::Null) => None,
        Some(_) => return Err("`display_id` must be a string".into()),
    };
    let update = match map.remove("update") {
        Some(Value::Bool(update)) => update,
        None | Some(Value::Null) => false,
        Some(_) => return Err("`update` must be a boolean".into()),
    };
    if update && display_id.is_none() {
        return Err("`update` needs a `display_id`".into());
    }
    Ok(Display {
        data,
        metadata,
        display_id,
        update,
    })
}

/// `{"msg_type": "comm_open" | "comm_msg" | "comm_close", "comm_id": ..., "data": {...}}`,
/// with `target_name` (and optional `metadata`) for an open.
fn parse_comm(value: Value) -> Result<KernelComm, String> {
    let Value::Object(mut map) = value else {
        return Err("expected a JSON object".into());
    };
    let mut string = |key: &str| match map.remove(key) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(format!("`{key}` must be a string")),
    };
    let msg_type = string("msg_type")?;
    let comm_id = string("comm_id")?;
    let target_name = if msg_type == "comm_open" {
        Some(string("target_name")?)
    } else {
        None
    };
    let mut object = |key: &str| match map.remove(key) {
        Some(Value::Object(o)) => Ok(o),
        None | Some(Value::Null) => Ok(Map::new()),
        Some(_) => Err(format!("`{key}` must be an object")),
    };
    let data = object("data")?;
    Ok(match (msg_type.as_str(), target_name) {
        ("comm_open", Some(target_name)) => KernelComm::Open {
            comm_id,
            target_name,
            data,
            metadata: object("metadata")?,
        },
        ("comm_msg", _) => KernelComm::Message { comm_id, data },
        ("comm_close", _) => KernelComm::Close { comm_id, data },
        (other, _) => return Err(format!("unknown comm msg_type {other:?}")),
    })
}

/// Adjacent text pieces become one.
fn merge_text(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        if let (Some(Piece::Text(last)), Piece::Text(text)) = (out.last_mut(), &piece) {
            last.push_str(text);
            continue;
        }
        out.push(piece);
    }
    out
}

/// Escapes `text` as a JSON string literal (used to build markers in tests and the relay).
pub fn json_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(s: &str) -> Piece {
        Piece::Text(s.to_owned())
    }

    #[test]
    fn plain_line_gets_its_newline_back() {
        assert_eq!(parse_line("hello"), vec![text("hello\n")]);
        assert_eq!(parse_line(""), vec![text("\n")]);
    }

    #[test]
    fn display_marker_at_line_start() {
        let line = r#"DLK_DISPLAY {"data":{"text/plain":"hi","image/png":"iVBO"},"metadata":{"image/png":{"width":64}},"display_id":"fit-1","update":false}"#;
        let pieces = parse_line(line);
        assert_eq!(pieces.len(), 1);
        let Piece::Display(display) = &pieces[0] else {
            panic!("not a display: {pieces:?}");
        };
        assert_eq!(display.data["text/plain"], json!("hi"));
        assert_eq!(display.data["image/png"], json!("iVBO"));
        assert_eq!(display.metadata["image/png"], json!({"width": 64}));
        assert_eq!(display.display_id.as_deref(), Some("fit-1"));
        assert!(!display.update);
    }

    #[test]
    fn update_by_display_id() {
        let pieces = parse_line(
            r#"DLK_DISPLAY {"data":{"text/plain":"2/10"},"display_id":"p","update":true}"#,
        );
        let Piece::Display(display) = &pieces[0] else {
            panic!("not a display: {pieces:?}");
        };
        assert!(display.update);
        assert_eq!(display.display_id.as_deref(), Some("p"));
        assert!(display.metadata.is_empty());
    }

    #[test]
    fn text_before_a_marker_is_output_without_newline() {
        let pieces = parse_line(r#"epoch 3 DLK_DISPLAY {"data":{"text/plain":"x"}}"#);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0], text("epoch 3 "));
        assert!(matches!(pieces[1], Piece::Display(_)));
    }

    #[test]
    fn clear_output() {
        assert_eq!(
            parse_line(r#"DLK_CLEAR_OUTPUT {"wait":true}"#),
            vec![Piece::Clear { wait: true }]
        );
        assert_eq!(
            parse_line(r#"DLK_CLEAR_OUTPUT {}"#),
            vec![Piece::Clear { wait: false }]
        );
    }

    #[test]
    fn malformed_marker_is_text_with_a_warning() {
        let pieces = parse_line("DLK_DISPLAY {not json");
        assert_eq!(pieces.len(), 2);
        assert!(matches!(&pieces[0], Piece::Warning(w) if w.contains("DLK_DISPLAY")));
        assert_eq!(pieces[1], text("DLK_DISPLAY {not json\n"));
        // Valid JSON of the wrong shape is malformed too.
        let pieces = parse_line(r#"DLK_DISPLAY {"data":3}"#);
        assert!(matches!(&pieces[0], Piece::Warning(_)));
        let pieces = parse_line(r#"DLK_DISPLAY {"data":{},"update":true}"#);
        assert!(matches!(&pieces[0], Piece::Warning(w) if w.contains("display_id")));
    }

    #[test]
    fn a_word_that_only_looks_like_a_marker_is_text() {
        assert_eq!(
            parse_line("DLK_DISPLAYS are nice"),
            vec![text("DLK_DISPLAYS are nice\n")]
        );
        assert_eq!(parse_line("DLK_FOO {}"), vec![text("DLK_FOO {}\n")]);
    }

    #[test]
    fn partial_line_has_no_newline() {
        let line = format!("{PARTIAL}{}", json_string("\rEpoch 1 [===   ]"));
        assert_eq!(parse_line(&line), vec![text("\rEpoch 1 [===   ]")]);
        assert!(matches!(
            &parse_line("DLK_PARTIAL 12")[0],
            Piece::Warning(_)
        ));
    }

    #[test]
    fn unicode_before_marker() {
        let pieces = parse_line(r#"é→ DLK_CLEAR_OUTPUT {"wait":false}"#);
        assert_eq!(pieces, vec![text("é→ "), Piece::Clear { wait: false }]);
    }

    #[test]
    fn comm_markers() {
        let open = r#"DLK_COMM {"msg_type":"comm_open","comm_id":"w1","target_name":"jupyter.widget","data":{"state":{"value":1}},"metadata":{"version":"2.1.0"}}"#;
        let Piece::Comm(KernelComm::Open {
            comm_id,
            target_name,
            data,
            metadata,
        }) = &parse_line(open)[0]
        else {
            panic!("{:?}", parse_line(open));
        };
        assert_eq!(
            (comm_id.as_str(), target_name.as_str()),
            ("w1", "jupyter.widget")
        );
        assert_eq!(data["state"]["value"], json!(1));
        assert_eq!(metadata["version"], json!("2.1.0"));
        let update =
            r#"DLK_COMM {"msg_type":"comm_msg","comm_id":"w1","data":{"method":"update"}}"#;
        assert!(matches!(
            &parse_line(update)[0],
            Piece::Comm(KernelComm::Message { .. })
        ));
        assert_eq!(
            parse_line(r#"DLK_COMM_BEGIN {"msg_id":"m-1"}"#),
            vec![Piece::CommBegin("m-1".into())]
        );
        assert_eq!(
            parse_line(r#"DLK_COMM_END {"msg_id":"m-1"}"#),
            vec![Piece::CommEnd("m-1".into())]
        );
        for bad in [
            r#"DLK_COMM {"msg_type":"comm_open","comm_id":"w1","data":{}}"#,
            r#"DLK_COMM {"msg_type":"comm_shout","comm_id":"w1"}"#,
            r#"DLK_COMM {"msg_type":"comm_msg","comm_id":"w1","data":[1]}"#,
            r#"DLK_COMM_END {"msg_id":3}"#,
        ] {
            assert!(matches!(&parse_line(bad)[0], Piece::Warning(_)), "{bad}");
        }
    }

    #[test]
    fn json_string_escapes() {
        assert_eq!(json_string("a\"b\n\u{1b}"), r#""a\"b\n\u001b""#);
    }
}
