//! Comms: the messaging spec's custom messages between the front end and the kernel's code,
//! in both directions (`comm_open`, `comm_msg`, `comm_close`, `comm_info_request`).
//!
//! ```text
//! page ── comm_open / comm_msg / comm_close ──► shell ──► CommHub::handle ──► CommReceiver
//!                                                        (busy now, idle at `finished`)
//! kernel code ── KernelComm via an OutputSink ──► CommHub::send ──► iopub comm_* ──► page
//! ```
//!
//! The hub is served from the shell's receiving task, not from the interpreter's thread, so a
//! slider moved while a cell runs reaches the code that owns it at once. It keeps
//!
//! - the open comms and their targets (opened by either side), for `comm_info_request`, so a
//!   reloaded page finds the live widgets again;
//! - the front end's comm messages still being handled: each gets `busy` when it arrives and
//!   `idle` when the interpreter says it is [`finished`](CommHub::finished) (ipywidgets sends
//!   the next slider value only after that `idle`), and whatever the handler prints or
//!   displays meanwhile goes out with that message as parent ([`CommHub::sink`]);
//! - the last `execute_request`, the parent of output made while no cell runs and no comm
//!   message is being handled.
//!
//! A comm message whose content does not decode is logged and dropped; one for a comm that
//! is not open is logged and answered with `busy` and `idle` only; a `comm_open` for a target
//! the interpreter does not accept is answered with `comm_close`. None of them is fatal.

use crate::dispatch::{Request, ShellRequest};
use crate::interpreter::{
    CommReceiver, Display, KernelComm, OutputSink, PageComm, PageCommEvent, StreamName,
};
use crate::iopub::{
    ClearOutput, CommClose, CommMsg, CommOpen, DisplayData, ExecutionState, Stream,
};
use crate::message::Message;
use crate::outbox::{Channel, Outbox};
use crate::reply::CommInfoReply;
use serde_json::Map;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The kernel's comms: open comms, messages in flight, and where comm messages go.
#[derive(Clone)]
pub struct CommHub {
    inner: Arc<Inner>,
}

struct Inner {
    out: Outbox,
    /// Open comms: id → target name.
    open: Mutex<BTreeMap<String, String>>,
    /// The front end's comm messages being handled, by `msg_id`.
    in_flight: Mutex<HashMap<String, Message>>,
    /// The last `execute_request`.
    last_cell: Mutex<Option<Message>>,
    receiver: OnceLock<Arc<dyn CommReceiver>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl CommHub {
    /// A hub publishing through `out`, with no receiver yet.
    pub fn new(out: Outbox) -> CommHub {
        CommHub {
            inner: Arc::new(Inner {
                out,
                open: Mutex::new(BTreeMap::new()),
                in_flight: Mutex::new(HashMap::new()),
                last_cell: Mutex::new(None),
                receiver: OnceLock::new(),
            }),
        }
    }

    /// Sets where the front end's comm messages go (once; later calls are ignored).
    pub fn set_receiver(&self, receiver: Arc<dyn CommReceiver>) {
        let _ = self.inner.receiver.set(receiver);
    }

    /// Whether the hub, not the interpreter's thread, handles messages of `msg_type`.
    pub fn handles(msg_type: &str) -> bool {
        matches!(
            msg_type,
            "comm_open" | "comm_msg" | "comm_close" | "comm_info_request"
        )
    }

    /// Remembers the `execute_request` that runs now: the parent of output made later while
    /// no comm message is being handled.
    pub fn note_cell(&self, request: &Message) {
        *lock(&self.inner.last_cell) = Some(request.clone());
    }

    /// The open comms of `target_name` (all when `None`), as (id, target) pairs.
    pub fn open_comms(&self, target_name: Option<&str>) -> Vec<(String, String)> {
        lock(&self.inner.open)
            .iter()
            .filter(|(_, target)| target_name.is_none_or(|t| t == target.as_str()))
            .map(|(id, target)| (id.clone(), target.clone()))
            .collect()
    }

    /// Handles one comm message or `comm_info_request` from the front end (see the module
    /// docs). Returns at once.
    pub fn handle(&self, msg: &Message) {
        let request = match Request::parse(msg.msg_type(), &msg.content) {
            Ok(Request::Shell(request)) => request,
            Ok(other) => {
                log::warn!("the comm hub was handed {other:?}: ignored");
                return;
            }
            Err(e) => {
                log::warn!("dropped {} with bad content: {e}", msg.msg_type());
                return;
            }
        };
        let out = &self.inner.out;
        out.status(msg, ExecutionState::Busy);
        let receiver = self.inner.receiver.get();
        let (comm_id, data, event) = match request {
            ShellRequest::CommInfo(r) => {
                let comms = self.open_comms(r.target_name.as_deref());
                let reply =
                    CommInfoReply::new(comms.iter().map(|(id, t)| (id.as_str(), t.as_str())));
                out.reply(Channel::Shell, msg, &reply);
                out.status(msg, ExecutionState::Idle);
                return;
            }
            ShellRequest::CommOpen(c) => {
                if !receiver.is_some_and(|r| r.accepts(&c.target_name)) {
                    log::info!(
                        "comm_open for unknown target {:?}: closing it",
                        c.target_name
                    );
                    let close = CommClose {
                        comm_id: &c.comm_id,
                        data: Map::new(),
                    };
                    out.publish(msg, &close);
                    out.status(msg, ExecutionState::Idle);
                    return;
                }
                lock(&self.inner.open).insert(c.comm_id.clone(), c.target_name.clone());
                let event = PageCommEvent::Open {
                    target_name: c.target_name,
                };
                (c.comm_id, c.data, event)
            }
            ShellRequest::CommMsg(c) => (c.comm_id, c.data, PageCommEvent::Message),
            ShellRequest::CommClose(c) => (c.comm_id, c.data, PageCommEvent::Close),
            other => {
                log::warn!("the comm hub was handed {other:?}: ignored");
                out.status(msg, ExecutionState::Idle);
                return;
            }
        };
        let known = match event {
            PageCommEvent::Close => lock(&self.inner.open).remove(&comm_id).is_some(),
            _ => lock(&self.inner.open).contains_key(&comm_id),
        };
        let Some(receiver) = receiver.filter(|_| known) else {
            log::warn!("{} for unknown comm {comm_id:?}: dropped", msg.msg_type());
            out.status(msg, ExecutionState::Idle);
            return;
        };
        let msg_id = msg.header.msg_id.clone();
        lock(&self.inner.in_flight).insert(msg_id.clone(), msg.clone());
        receiver.receive(PageComm {
            msg_id,
            comm_id,
            event,
            data,
        });
    }

    /// The front end's comm message `msg_id` has been handled: its `idle` is published.
    /// An unknown id (already finished) is ignored.
    pub fn finished(&self, msg_id: &str) {
        let msg = lock(&self.inner.in_flight).remove(msg_id);
        if let Some(msg) = msg {
            self.inner.out.status(&msg, ExecutionState::Idle);
        }
    }

    /// Publishes a comm message of the kernel's code with `parent` as parent header, and
    /// keeps the list of open comms.
    pub fn send(&self, parent: &Message, comm: &KernelComm) {
        let out = &self.inner.out;
        match comm {
            KernelComm::Open {
                comm_id,
                target_name,
                data,
                metadata,
            } => {
                lock(&self.inner.open).insert(comm_id.clone(), target_name.clone());
                let open = CommOpen {
                    comm_id,
                    target_name,
                    data,
                };
                out.publish_with_metadata(parent, &open, metadata.clone());
            }
            KernelComm::Message { comm_id, data } => {
                if !lock(&self.inner.open).contains_key(comm_id) {
                    log::warn!("comm_msg from the kernel's code for closed comm {comm_id:?}");
                    return;
                }
                out.publish(parent, &CommMsg { comm_id, data });
            }
            KernelComm::Close { comm_id, data } => {
                lock(&self.inner.open).remove(comm_id);
                let close = CommClose {
                    comm_id,
                    data: data.clone(),
                };
                out.publish(parent, &close);
            }
        }
    }

    /// Where output made while handling the front end's message `msg_id` goes: iopub, with
    /// that message as parent. For `None`, or a message already finished, the parent is the
    /// last `execute_request`; before any, the output is dropped.
    pub fn sink(&self, msg_id: Option<&str>) -> CommSink {
        let parent = msg_id
            .and_then(|id| lock(&self.inner.in_flight).get(id).cloned())
            .or_else(|| lock(&self.inner.last_cell).clone());
        CommSink {
            hub: self.clone(),
            parent,
        }
    }
}

/// Output outside a cell's own sink: a comm handler's, or made while no cell runs
/// ([`CommHub::sink`]). It cannot ask for input.
pub struct CommSink {
    hub: CommHub,
    parent: Option<Message>,
}

impl CommSink {
    fn publish(&self, content: &impl crate::outbox::Content) {
        match &self.parent {
            Some(parent) => self.hub.inner.out.publish(parent, content),
            None => log::info!("output made before any request: dropped"),
        }
    }
}

impl OutputSink for CommSink {
    fn stream(&self, name: StreamName, text: &str) {
        if !text.is_empty() {
            self.publish(&Stream { name, text });
        }
    }

    fn display(&self, display: Display) {
        self.publish(&DisplayData::from(display));
    }

    fn clear_output(&self, wait: bool) {
        self.publish(&ClearOutput { wait });
    }

    fn input(&self, _: &str, _: bool) -> Option<String> {
        None
    }

    fn comm(&self, comm: KernelComm) {
        match &self.parent {
            Some(parent) => self.hub.send(parent, &comm),
            None => log::info!("comm message made before any request: dropped"),
        }
    }
}
