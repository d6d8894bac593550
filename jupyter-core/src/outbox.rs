//! Where handlers put outgoing messages: one queue per socket, drained by that socket's
//! sender task (`server`). A message is built here from its typed [`Content`]: a fresh
//! header with this kernel's session, the request's header as parent, and the requester's
//! routing identities (or, on iopub, the topic).

use crate::iopub::{ExecutionState, Status};
use crate::message::{Header, Message};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;

/// The content of a message the kernel sends, with the `msg_type` it goes out as.
pub trait Content: Serialize {
    /// The `msg_type` of the message that carries this content.
    fn msg_type(&self) -> &str;
}

/// Which socket a message leaves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Shell (ROUTER): replies to shell requests.
    Shell,
    /// Control (ROUTER): replies to control requests.
    Control,
    /// Stdin (ROUTER): `input_request`.
    Stdin,
    /// IOPub (PUB): status, outputs.
    Iopub,
}

/// An item in a socket's outgoing queue.
#[derive(Debug)]
pub enum Outgoing {
    /// A message to sign and send.
    Msg(Box<Message>),
    /// Answered once every message queued before it has been handed to the socket.
    Flush(oneshot::Sender<()>),
}

/// Where the handlers put outgoing messages: one queue per socket.
#[derive(Debug, Clone)]
pub struct Outbox {
    shell: UnboundedSender<Outgoing>,
    control: UnboundedSender<Outgoing>,
    stdin: UnboundedSender<Outgoing>,
    iopub: UnboundedSender<Outgoing>,
    /// This kernel's session id (in every header it sends).
    session: String,
}

/// The receiving ends of an [`Outbox`].
#[derive(Debug)]
pub struct OutboxQueues {
    /// Shell replies.
    pub shell: UnboundedReceiver<Outgoing>,
    /// Control replies.
    pub control: UnboundedReceiver<Outgoing>,
    /// Stdin requests.
    pub stdin: UnboundedReceiver<Outgoing>,
    /// IOPub messages.
    pub iopub: UnboundedReceiver<Outgoing>,
}

impl Outbox {
    /// A new outbox and its queues.
    pub fn new(session: String) -> (Outbox, OutboxQueues) {
        let (shell, shell_rx) = tokio::sync::mpsc::unbounded_channel();
        let (control, control_rx) = tokio::sync::mpsc::unbounded_channel();
        let (stdin, stdin_rx) = tokio::sync::mpsc::unbounded_channel();
        let (iopub, iopub_rx) = tokio::sync::mpsc::unbounded_channel();
        (
            Outbox {
                shell,
                control,
                stdin,
                iopub,
                session,
            },
            OutboxQueues {
                shell: shell_rx,
                control: control_rx,
                stdin: stdin_rx,
                iopub: iopub_rx,
            },
        )
    }

    fn queue(&self, channel: Channel) -> &UnboundedSender<Outgoing> {
        match channel {
            Channel::Shell => &self.shell,
            Channel::Control => &self.control,
            Channel::Stdin => &self.stdin,
            Channel::Iopub => &self.iopub,
        }
    }

    /// A message carrying `content`, answering `parent`.
    fn build(&self, parent: &Message, content: &impl Content) -> Message {
        Message {
            identities: Vec::new(),
            header: Header::new(content.msg_type(), &self.session),
            parent_header: object(&parent.header),
            metadata: Map::new(),
            content: object(content),
            buffers: Vec::new(),
        }
    }

    /// Sends `content` on `channel` in reply to `parent`, routed to the requester.
    pub fn reply(&self, channel: Channel, parent: &Message, content: &impl Content) {
        let mut msg = self.build(parent, content);
        msg.identities = parent.identities.clone();
        self.send(channel, msg);
    }

    /// Publishes `content` on iopub with `parent` as the parent header.
    pub fn publish(&self, parent: &Message, content: &impl Content) {
        let mut msg = self.build(parent, content);
        let topic = format!("kernel.{}.{}", self.session, msg.msg_type());
        msg.identities = vec![Bytes::from(topic)];
        self.send(Channel::Iopub, msg);
    }

    /// Publishes `content` on iopub, as [`publish`](Self::publish), with message `metadata`
    /// (a widget's `comm_open` carries its protocol version there).
    pub fn publish_with_metadata(
        &self,
        parent: &Message,
        content: &impl Content,
        metadata: Map<String, Value>,
    ) {
        let mut msg = self.build(parent, content);
        msg.metadata = metadata;
        let topic = format!("kernel.{}.{}", self.session, msg.msg_type());
        msg.identities = vec![Bytes::from(topic)];
        self.send(Channel::Iopub, msg);
    }

    /// Publishes `status` (`busy` or `idle`) for `parent`.
    pub fn status(&self, parent: &Message, execution_state: ExecutionState) {
        self.publish(parent, &Status { execution_state });
    }

    fn send(&self, channel: Channel, msg: Message) {
        // A closed queue means the kernel is shutting down: nothing left to tell anyone.
        let _ = self.queue(channel).send(Outgoing::Msg(Box::new(msg)));
    }

    /// Waits (at most `timeout`) until everything queued so far was handed to the sockets.
    pub async fn flush(&self, timeout: Duration) {
        let mut waits = Vec::new();
        for ch in [
            Channel::Shell,
            Channel::Control,
            Channel::Stdin,
            Channel::Iopub,
        ] {
            let (tx, rx) = oneshot::channel();
            if self.queue(ch).send(Outgoing::Flush(tx)).is_ok() {
                waits.push(rx);
            }
        }
        let all = async {
            for w in waits {
                let _ = w.await;
            }
        };
        let _ = tokio::time::timeout(timeout, all).await;
    }
}

/// A content or header as a JSON object. They are structs of strings, numbers and maps, so
/// serialising cannot fail; `{}` is the fallback.
fn object(value: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}
