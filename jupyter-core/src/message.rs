//! A Jupyter message as the kernel handles it: routing identities, header, parent header,
//! metadata, content and binary buffers, already verified and parsed (see [`crate::wire`]).

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The protocol version this kernel speaks (and writes into every header).
pub const PROTOCOL_VERSION: &str = "5.3";

/// A message header. Unknown fields are kept (and echoed back in `parent_header`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Unique id of this message.
    pub msg_id: String,
    /// The sender's session id.
    pub session: String,
    /// The sender's user name.
    #[serde(default)]
    pub username: String,
    /// ISO 8601 timestamp.
    #[serde(default)]
    pub date: String,
    /// What the message is, e.g. `execute_request`.
    pub msg_type: String,
    /// Protocol version of the sender.
    #[serde(default)]
    pub version: String,
    /// Any other header fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Header {
    /// A fresh header for a message this kernel sends.
    pub fn new(msg_type: &str, session: &str) -> Header {
        Header {
            msg_id: uuid::Uuid::new_v4().to_string(),
            session: session.to_owned(),
            username: "kernel".to_owned(),
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            msg_type: msg_type.to_owned(),
            version: PROTOCOL_VERSION.to_owned(),
            extra: Map::new(),
        }
    }
}

/// A decoded (or to-be-encoded) message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Routing identities (ROUTER sockets) or the topic (PUB socket).
    pub identities: Vec<Bytes>,
    /// This message's header.
    pub header: Header,
    /// The header of the message this one answers; `{}` when none.
    pub parent_header: Map<String, Value>,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
    /// The content; always a JSON object.
    pub content: Map<String, Value>,
    /// Binary buffers (not signed).
    pub buffers: Vec<Bytes>,
}

impl Message {
    /// The message type, from the header.
    pub fn msg_type(&self) -> &str {
        &self.header.msg_type
    }
}
