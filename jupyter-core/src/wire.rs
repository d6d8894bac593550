//! The wire layer: ZeroMQ frames ⇄ [`Message`], with HMAC signing and verification.
//!
//! A Jupyter message on the wire is a list of frames:
//!
//! ```text
//! [identity...] <IDS|MSG> signature header parent_header metadata content [buffer...]
//! ```
//!
//! The signature is the lowercase hex HMAC-SHA256 of exactly the four frames `header`,
//! `parent_header`, `metadata` and `content`, in that order (binary buffers are *not*
//! signed; evcxr_jupyter gets this wrong). Verification is constant-time
//! ([`Signer::verify`]); replays are caught by [`crate::replay::ReplayGuard`].
//!
//! Everything here is pure (no sockets, no clock except in [`Header::new`]) so that it can be
//! unit-tested frame by frame. A message that fails any check is returned as a
//! [`WireError`]; the caller logs it and drops the message. Nothing here panics on input.

use crate::message::{Header, Message};
use crate::signer::Signer;
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// The frame that separates routing identities from the message proper.
pub const DELIMITER: &[u8] = b"<IDS|MSG>";

/// At most this many identity frames are accepted before the delimiter.
const MAX_IDENTITIES: usize = 32;

/// Why a list of frames was not accepted as a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// No `<IDS|MSG>` delimiter frame.
    NoDelimiter,
    /// Too many identity frames before the delimiter.
    TooManyIdentities(usize),
    /// Fewer than the 5 frames (signature + 4 parts) after the delimiter.
    TooFewFrames(usize),
    /// The signature does not match (or is not hex, or is missing while a key is set).
    BadSignature,
    /// This signature was already seen: a replayed message.
    Replayed,
    /// A part is not valid JSON, or not of the expected shape.
    BadJson {
        /// Which part: `header`, `parent_header`, `metadata` or `content`.
        part: &'static str,
        /// What serde said.
        reason: String,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::NoDelimiter => write!(f, "no <IDS|MSG> delimiter"),
            WireError::TooManyIdentities(n) => write!(f, "{n} identity frames (too many)"),
            WireError::TooFewFrames(n) => {
                write!(f, "{n} frames after the delimiter (need at least 5)")
            }
            WireError::BadSignature => write!(f, "bad signature"),
            WireError::Replayed => write!(f, "replayed signature"),
            WireError::BadJson { part, reason } => write!(f, "bad {part}: {reason}"),
        }
    }
}

impl std::error::Error for WireError {}

/// The frames of one message, split but not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frames<'a> {
    /// Frames before the delimiter.
    pub identities: &'a [Bytes],
    /// The hex signature.
    pub signature: &'a Bytes,
    /// header, parent_header, metadata, content.
    pub parts: [&'a Bytes; 4],
    /// Frames after content.
    pub buffers: &'a [Bytes],
}

/// Splits frames at the delimiter and checks their count.
pub fn split(frames: &[Bytes]) -> Result<Frames<'_>, WireError> {
    let at = frames
        .iter()
        .position(|f| f.as_ref() == DELIMITER)
        .ok_or(WireError::NoDelimiter)?;
    if at > MAX_IDENTITIES {
        return Err(WireError::TooManyIdentities(at));
    }
    let rest = &frames[at + 1..];
    match rest {
        [signature, header, parent, metadata, content, buffers @ ..] => Ok(Frames {
            identities: &frames[..at],
            signature,
            parts: [header, parent, metadata, content],
            buffers,
        }),
        _ => Err(WireError::TooFewFrames(rest.len())),
    }
}

fn parse_object(part: &'static str, bytes: &[u8]) -> Result<Map<String, Value>, WireError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(WireError::BadJson {
            part,
            reason: format!("expected an object, found {}", json_kind(&other)),
        }),
        Err(e) => Err(WireError::BadJson {
            part,
            reason: e.to_string(),
        }),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Validates, verifies and parses one message. The signature is checked before any JSON is
/// parsed, so an unsigned message costs one HMAC and nothing else.
pub fn decode(frames: &[Bytes], signer: &Signer) -> Result<Message, WireError> {
    let f = split(frames)?;
    let [h, p, m, c] = f.parts;
    signer.verify(f.signature, [h, p, m, c])?;
    let header_map = parse_object("header", h)?;
    let header: Header =
        serde_json::from_value(Value::Object(header_map)).map_err(|e| WireError::BadJson {
            part: "header",
            reason: e.to_string(),
        })?;
    Ok(Message {
        identities: f.identities.to_vec(),
        header,
        parent_header: parse_object("parent_header", p)?,
        metadata: parse_object("metadata", m)?,
        content: parse_object("content", c)?,
        buffers: f.buffers.to_vec(),
    })
}

/// Serialises and signs a message into frames.
pub fn encode(msg: &Message, signer: &Signer) -> Vec<Bytes> {
    let header = to_json(&msg.header);
    let parent = to_json(&msg.parent_header);
    let metadata = to_json(&msg.metadata);
    let content = to_json(&msg.content);
    let signature = signer.sign([&header, &parent, &metadata, &content]);
    let mut frames = Vec::with_capacity(msg.identities.len() + 6 + msg.buffers.len());
    frames.extend(msg.identities.iter().cloned());
    frames.push(Bytes::from_static(DELIMITER));
    frames.push(Bytes::from(signature));
    frames.extend([header, parent, metadata, content]);
    frames.extend(msg.buffers.iter().cloned());
    frames
}

/// Serialising a map of JSON values or a [`Header`] cannot fail; `{}` is a safe fallback.
fn to_json<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Header;
    use serde_json::json;

    fn signer() -> Signer {
        Signer::new("hmac-sha256", b"secret-key").unwrap()
    }

    fn sample(msg_type: &str) -> Message {
        Message {
            identities: vec![Bytes::from_static(b"peer-1")],
            header: Header::new(msg_type, "sess"),
            parent_header: Map::new(),
            metadata: Map::new(),
            content: json!({"code": "1 + 1"}).as_object().unwrap().clone(),
            buffers: vec![],
        }
    }

    #[test]
    fn round_trip_keeps_every_part() {
        let s = signer();
        let mut msg = sample("execute_request");
        msg.buffers.push(Bytes::from_static(b"\x00\x01binary"));
        msg.header.extra.insert("subshell_id".into(), json!(null));
        let frames = encode(&msg, &s);
        assert_eq!(frames[1].as_ref(), DELIMITER);
        assert_eq!(decode(&frames, &s).unwrap(), msg);
    }

    #[test]
    fn buffers_are_not_signed() {
        let s = signer();
        let mut frames = encode(&sample("comm_msg"), &s);
        frames.push(Bytes::from_static(b"added after signing"));
        let msg = decode(&frames, &s).unwrap();
        assert_eq!(msg.buffers.len(), 1);
    }

    #[test]
    fn tampered_parts_are_rejected() {
        let s = signer();
        let frames = encode(&sample("execute_request"), &s);
        for i in 3..7 {
            let mut bad = frames.clone();
            let mut bytes = bad[i].to_vec();
            bytes.push(b' ');
            bad[i] = Bytes::from(bytes);
            assert_eq!(decode(&bad, &s), Err(WireError::BadSignature), "frame {i}");
        }
    }

    #[test]
    fn wrong_key_missing_or_non_hex_signature_is_rejected() {
        let frames = encode(&sample("execute_request"), &signer());
        let other = Signer::new("hmac-sha256", b"other").unwrap();
        assert_eq!(decode(&frames, &other), Err(WireError::BadSignature));
        for sig in [&b""[..], b"zz", b"00", &[0xff; 64][..]] {
            let mut bad = frames.clone();
            bad[2] = Bytes::copy_from_slice(sig);
            assert_eq!(decode(&bad, &signer()), Err(WireError::BadSignature));
        }
    }

    #[test]
    fn empty_key_disables_signing() {
        let none = Signer::new("hmac-sha256", b"").unwrap();
        assert!(!none.is_signing());
        let frames = encode(&sample("kernel_info_request"), &none);
        assert!(frames[2].is_empty());
        assert!(decode(&frames, &none).is_ok());
    }

    #[test]
    fn frame_count_and_delimiter_are_checked() {
        let s = signer();
        let frames = encode(&sample("kernel_info_request"), &s);
        assert_eq!(decode(&[], &s), Err(WireError::NoDelimiter));
        assert_eq!(decode(&frames[..1], &s), Err(WireError::NoDelimiter));
        for n in 2..frames.len() {
            assert_eq!(
                decode(&frames[..n], &s),
                Err(WireError::TooFewFrames(n - 2)),
                "{n} frames"
            );
        }
        let mut many = vec![Bytes::from_static(b"id"); 40];
        many.extend(frames[1..].iter().cloned());
        assert_eq!(decode(&many, &s), Err(WireError::TooManyIdentities(40)));
    }

    fn signed(parts: [&str; 4]) -> Vec<Bytes> {
        let s = signer();
        let p = parts.map(|x| Bytes::copy_from_slice(x.as_bytes()));
        let sig = s.sign([&p[0], &p[1], &p[2], &p[3]]);
        let mut frames = vec![Bytes::from_static(DELIMITER), Bytes::from(sig)];
        frames.extend(p);
        frames
    }

    #[test]
    fn bad_json_and_wrong_types_are_rejected_even_when_signed() {
        let good_header = r#"{"msg_id":"1","session":"s","username":"u","date":"","msg_type":"x","version":"5.3"}"#;
        let cases: Vec<([&str; 4], &str)> = vec![
            (["not json", "{}", "{}", "{}"], "header"),
            (["[]", "{}", "{}", "{}"], "header"),
            (
                [
                    r#"{"msg_id":1,"session":"s","msg_type":"x"}"#,
                    "{}",
                    "{}",
                    "{}",
                ],
                "header",
            ),
            (
                [r#"{"session":"s","msg_type":"x"}"#, "{}", "{}", "{}"],
                "header",
            ),
            (
                [
                    r#"{"msg_id":"1","session":"s","msg_type":null}"#,
                    "{}",
                    "{}",
                    "{}",
                ],
                "header",
            ),
            ([good_header, "null", "{}", "{}"], "parent_header"),
            ([good_header, "{}", "\u{0}", "{}"], "metadata"),
            ([good_header, "{}", "{}", "\"code\""], "content"),
            ([good_header, "{}", "{}", "{\"code\": "], "content"),
        ];
        for (parts, which) in cases {
            match decode(&signed(parts), &signer()) {
                Err(WireError::BadJson { part, .. }) => assert_eq!(part, which, "{parts:?}"),
                other => panic!("{parts:?} gave {other:?}"),
            }
        }
        assert!(decode(&signed([good_header, "{}", "{}", "{}"]), &signer()).is_ok());
    }

    #[test]
    fn damaged_frames_never_panic_and_decode_only_with_the_signed_parts_intact() {
        let s = signer();
        let good = encode(&sample("execute_request"), &s);
        let mut state: u64 = 42;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..20_000 {
            // Start from a good message and break it: drop, duplicate, swap or corrupt frames.
            let mut frames = good.clone();
            for _ in 0..1 + next() % 3 {
                let i = next() % frames.len().max(1);
                match next() % 4 {
                    0 if !frames.is_empty() => {
                        frames.remove(i);
                    }
                    1 => frames.insert(i, Bytes::from(vec![(next() % 256) as u8; next() % 8])),
                    2 if frames.len() > 1 => {
                        let j = next() % frames.len();
                        frames.swap(i, j);
                    }
                    _ if !frames.is_empty() => {
                        let mut bytes = frames[i].to_vec();
                        if !bytes.is_empty() {
                            let at = next() % bytes.len();
                            bytes[at] ^= 1 + (next() % 255) as u8;
                        }
                        frames[i] = Bytes::from(bytes);
                    }
                    _ => {}
                }
            }
            if frames == good {
                continue;
            }
            if let Ok(msg) = decode(&frames, &s) {
                // Only changes that keep the signed parts intact may decode: extra identities
                // in front, or buffers after content.
                assert_eq!(msg.header, sample_header_of(&good), "{frames:?}");
            }
        }
    }

    fn sample_header_of(frames: &[Bytes]) -> Header {
        decode(frames, &signer()).unwrap().header
    }
}
