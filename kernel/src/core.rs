//! The protocol core: what the kernel does with each verified, decoded message.
//!
//! It knows nothing of Rust or of sockets. It owns the execution count, the history,
//! busy/idle, `execute_input`, `stop_on_error` and every reply's shape, and calls an
//! [`Interpreter`] for the language-specific work (as xeus' `xkernel_core` and ipykernel's
//! `kernelbase` do). Messages leave through an [`Outbox`]: one queue per socket, drained by
//! the socket tasks in `server`.
//!
//! Two cores run side by side:
//! - [`ShellCore`] on the interpreter's own OS thread, handling shell requests one at a time;
//! - [`ControlCore`] on the control task, so `interrupt_request`, `shutdown_request` and
//!   `kernel_info_request` are answered while a cell runs.

use crate::history::{History, Query};
use crate::interpreter::{
    Completeness, Display, ExecuteOutcome, ExecuteRequest as CellRequest, Interpreter, Interrupter,
    MimeBundle, OutputSink, StreamName,
};
use crate::messages::{self, HelpLink, HistoryRequest, KernelInfoReply, Request, object};
use crate::wire::{Header, Message, PROTOCOL_VERSION};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;

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

/// Where the cores put outgoing messages: one queue per socket.
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

    fn build(
        &self,
        msg_type: &str,
        parent: Option<&Message>,
        content: Map<String, Value>,
    ) -> Message {
        let parent_header = match parent {
            Some(p) => messages::content(&p.header),
            None => Map::new(),
        };
        Message {
            identities: Vec::new(),
            header: Header::new(msg_type, &self.session),
            parent_header,
            metadata: Map::new(),
            content,
            buffers: Vec::new(),
        }
    }

    /// Sends a reply to `parent` on `channel`, routed to the requester's identities.
    pub fn reply(
        &self,
        channel: Channel,
        parent: &Message,
        msg_type: &str,
        content: Map<String, Value>,
    ) {
        let mut msg = self.build(msg_type, Some(parent), content);
        msg.identities = parent.identities.clone();
        self.send(channel, msg);
    }

    /// Publishes on IOPub with `parent` as the parent header.
    pub fn publish(&self, parent: Option<&Message>, msg_type: &str, content: Map<String, Value>) {
        let mut msg = self.build(msg_type, parent, content);
        let topic = format!("kernel.{}.{}", self.session, msg_type);
        msg.identities = vec![Bytes::from(topic)];
        self.send(Channel::Iopub, msg);
    }

    /// Publishes `status` (`busy` or `idle`).
    pub fn status(&self, parent: &Message, state: &str) {
        self.publish(
            Some(parent),
            "status",
            object(json!({ "execution_state": state })),
        );
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

/// Hands `input_reply` values from the stdin socket to a cell waiting in
/// [`OutputSink::input`], and lets an interrupt stop the wait.
#[derive(Debug)]
pub struct StdinBridge {
    tx: Mutex<std_mpsc::Sender<String>>,
    rx: Mutex<std_mpsc::Receiver<String>>,
    cancels: AtomicU64,
}

impl Default for StdinBridge {
    fn default() -> Self {
        let (tx, rx) = std_mpsc::channel();
        StdinBridge {
            tx: Mutex::new(tx),
            rx: Mutex::new(rx),
            cancels: AtomicU64::new(0),
        }
    }
}

impl StdinBridge {
    /// Delivers a value typed by the user.
    pub fn deliver(&self, value: String) {
        if let Ok(tx) = self.tx.lock() {
            let _ = tx.send(value);
        }
    }

    /// Stops any wait for input (interrupt, shutdown).
    pub fn cancel(&self) {
        self.cancels.fetch_add(1, Ordering::SeqCst);
    }

    fn wait(&self, send_request: impl FnOnce()) -> Option<String> {
        let rx = self.rx.lock().ok()?;
        while rx.try_recv().is_ok() {} // stale answers from an earlier, abandoned request
        let generation = self.cancels.load(Ordering::SeqCst);
        send_request();
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(v) => return Some(v),
                Err(std_mpsc::RecvTimeoutError::Timeout) => {
                    if self.cancels.load(Ordering::SeqCst) != generation {
                        return None;
                    }
                }
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return None,
            }
        }
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

/// The fixed `kernel_info_reply` content, computed once at start.
pub fn kernel_info(language_info: Value, banner: String) -> Map<String, Value> {
    messages::content(&KernelInfoReply {
        status: "ok",
        protocol_version: PROTOCOL_VERSION,
        implementation: "dl-kernel",
        implementation_version: env!("CARGO_PKG_VERSION"),
        language_info,
        banner,
        debugger: false,
        help_links: vec![
            HelpLink {
                text: "Rust standard library".into(),
                url: "https://doc.rust-lang.org/std/".into(),
            },
            HelpLink {
                text: "The Rust book".into(),
                url: "https://doc.rust-lang.org/book/".into(),
            },
            HelpLink {
                text: "evcxr".into(),
                url: "https://github.com/evcxr/evcxr".into(),
            },
        ],
    })
}

fn shutdown_reply(restart: bool) -> Map<String, Value> {
    object(json!({ "status": "ok", "restart": restart }))
}

/// The outputs of one cell, published with its request as parent.
struct CellSink<'a> {
    out: &'a Outbox,
    parent: &'a Message,
    allow_stdin: bool,
    stdin: &'a StdinBridge,
}

impl OutputSink for CellSink<'_> {
    fn stream(&self, name: StreamName, text: &str) {
        if text.is_empty() {
            return;
        }
        self.out.publish(
            Some(self.parent),
            "stream",
            object(json!({ "name": name.as_str(), "text": text })),
        );
    }

    fn display(&self, display: Display) {
        let mut content = object(json!({ "data": display.data, "metadata": display.metadata }));
        let transient = match &display.display_id {
            Some(id) => json!({ "display_id": id }),
            None => json!({}),
        };
        content.insert("transient".into(), transient);
        let msg_type = if display.update && display.display_id.is_some() {
            "update_display_data"
        } else {
            "display_data"
        };
        self.out.publish(Some(self.parent), msg_type, content);
    }

    fn clear_output(&self, wait: bool) {
        self.out.publish(
            Some(self.parent),
            "clear_output",
            object(json!({ "wait": wait })),
        );
    }

    fn input(&self, prompt: &str, password: bool) -> Option<String> {
        if !self.allow_stdin {
            return None;
        }
        self.stdin.wait(|| {
            self.out.reply(
                Channel::Stdin,
                self.parent,
                "input_request",
                object(json!({ "prompt": prompt, "password": password })),
            )
        })
    }
}

/// Discards everything (for evaluating `user_expressions`).
struct NullSink;

impl OutputSink for NullSink {
    fn stream(&self, _: StreamName, _: &str) {}
    fn display(&self, _: Display) {}
    fn clear_output(&self, _: bool) {}
    fn input(&self, _: &str, _: bool) -> Option<String> {
        None
    }
}

/// Handles shell requests, in order, on the interpreter's thread.
pub struct ShellCore<I: Interpreter> {
    interpreter: I,
    out: Outbox,
    stdin: Arc<StdinBridge>,
    kernel_info: Map<String, Value>,
    /// Number of cells run with `store_history` so far; the next such cell is `count + 1`.
    count: u32,
    history: History,
}

impl<I: Interpreter> ShellCore<I> {
    /// A core around `interpreter`.
    pub fn new(interpreter: I, out: Outbox, stdin: Arc<StdinBridge>) -> ShellCore<I> {
        let kernel_info = kernel_info(interpreter.language_info(), interpreter.banner());
        ShellCore {
            interpreter,
            out,
            stdin,
            kernel_info,
            count: 0,
            history: History::new(),
        }
    }

    /// The `kernel_info_reply` content (shared with the control task).
    pub fn kernel_info(&self) -> Map<String, Value> {
        self.kernel_info.clone()
    }

    /// The interpreter's interrupter (for the control task and SIGINT).
    pub fn interrupter(&self) -> Arc<dyn Interrupter> {
        self.interpreter.interrupter()
    }

    /// Handles requests from `queue` until it closes or a shutdown is requested.
    /// After an error with `stop_on_error`, the execute requests already queued are answered
    /// `aborted`; other queued requests are still handled normally. `stop` set by another
    /// thread ends the loop before the next request. Returns `true` when it ended because of
    /// a `shutdown_request`.
    pub fn run(&mut self, queue: &mut UnboundedReceiver<Message>, stop: &AtomicBool) -> bool {
        let mut pending: VecDeque<Message> = VecDeque::new();
        loop {
            if stop.load(Ordering::SeqCst) {
                return false;
            }
            let msg = match pending.pop_front() {
                Some(m) => m,
                None => match queue.blocking_recv() {
                    Some(m) => m,
                    None => return false,
                },
            };
            match self.handle_guarded(&msg) {
                Flow::Continue => {}
                Flow::Shutdown => return true,
                Flow::AbortQueued => {
                    pending.extend(std::iter::from_fn(|| queue.try_recv().ok()));
                    let (aborted, kept): (Vec<_>, Vec<_>) = pending
                        .drain(..)
                        .partition(|m| m.msg_type() == "execute_request");
                    for m in &aborted {
                        self.abort(m);
                    }
                    pending.extend(kept);
                }
            }
        }
    }

    /// [`handle`](Self::handle), but a panic in the interpreter becomes an error reply and an
    /// idle status instead of a dead shell (the heartbeat would go on beating for a kernel
    /// that can no longer answer).
    fn handle_guarded(&mut self, msg: &Message) -> Flow {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(msg)));
        match outcome {
            Ok(flow) => flow,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                log::error!("the kernel panicked handling {}: {what}", msg.msg_type());
                let evalue = format!("the kernel failed while handling this request: {what}");
                let reply_type = match msg.msg_type().strip_suffix("_request") {
                    Some(stem) => format!("{stem}_reply"),
                    None => format!("{}_reply", msg.msg_type()),
                };
                if msg.msg_type() == "execute_request" {
                    self.out.publish(
                        Some(msg),
                        "error",
                        object(json!({ "ename": "KernelError", "evalue": evalue, "traceback": [evalue] })),
                    );
                }
                self.out.reply(
                    Channel::Shell,
                    msg,
                    &reply_type,
                    object(json!({
                        "status": "error", "ename": "KernelError", "evalue": evalue,
                        "traceback": [evalue], "execution_count": self.count,
                    })),
                );
                self.out.status(msg, "idle");
                Flow::Continue
            }
        }
    }

    /// Answers an execute request with `aborted` without running it.
    pub fn abort(&mut self, msg: &Message) {
        self.out.status(msg, "busy");
        self.out.reply(
            Channel::Shell,
            msg,
            "execute_reply",
            object(json!({ "status": "aborted", "execution_count": self.count })),
        );
        self.out.status(msg, "idle");
    }

    /// Handles one shell message: busy, the handler, idle.
    pub fn handle(&mut self, msg: &Message) -> Flow {
        let request = match Request::parse(msg.msg_type(), &msg.content) {
            Ok(r) => r,
            Err(e) => {
                log::warn!("dropped {} with bad content: {e}", msg.msg_type());
                return Flow::Continue;
            }
        };
        self.out.status(msg, "busy");
        let flow = self.dispatch(msg, request);
        self.out.status(msg, "idle");
        flow
    }

    fn dispatch(&mut self, msg: &Message, request: Request) -> Flow {
        let reply = |msg_type: &str, content: Value| {
            self.out
                .reply(Channel::Shell, msg, msg_type, object(content))
        };
        match request {
            Request::Execute(r) => return self.execute(msg, r),
            Request::KernelInfo => {
                self.out.reply(
                    Channel::Shell,
                    msg,
                    "kernel_info_reply",
                    self.kernel_info.clone(),
                );
            }
            Request::Complete(r) => {
                let cursor = clamp_cursor(&r.code, r.cursor_pos);
                let c = self.interpreter.complete(&r.code, cursor);
                reply(
                    "complete_reply",
                    json!({
                        "status": "ok", "matches": c.matches, "cursor_start": c.cursor_start,
                        "cursor_end": c.cursor_end, "metadata": {},
                    }),
                );
            }
            Request::Inspect(r) => {
                let cursor = clamp_cursor(&r.code, r.cursor_pos);
                let found = self.interpreter.inspect(&r.code, cursor, r.detail_level);
                reply(
                    "inspect_reply",
                    json!({
                        "status": "ok", "found": found.is_some(),
                        "data": found.unwrap_or_default(), "metadata": {},
                    }),
                );
            }
            Request::IsComplete(r) => {
                let content = match self.interpreter.is_complete(&r.code) {
                    Completeness::Complete => json!({ "status": "complete" }),
                    Completeness::Incomplete { indent } => {
                        json!({ "status": "incomplete", "indent": indent })
                    }
                    Completeness::Invalid => json!({ "status": "invalid" }),
                    Completeness::Unknown => json!({ "status": "unknown" }),
                };
                reply("is_complete_reply", content);
            }
            Request::History(r) => {
                let history = match history_query(&r) {
                    Some(q) => self.history.reply(&q, r.output),
                    None => Vec::new(),
                };
                reply(
                    "history_reply",
                    json!({ "status": "ok", "history": history }),
                );
            }
            Request::CommInfo(_) => {
                reply("comm_info_reply", json!({ "status": "ok", "comms": {} }))
            }
            Request::CommOpen(c) => {
                log::info!(
                    "comm_open for unknown target {:?}: closing it",
                    c.target_name
                );
                self.out.publish(
                    Some(msg),
                    "comm_close",
                    object(json!({ "comm_id": c.comm_id, "data": {} })),
                );
            }
            Request::CommOther => {}
            Request::Shutdown(s) => {
                self.out.reply(
                    Channel::Shell,
                    msg,
                    "shutdown_reply",
                    shutdown_reply(s.restart),
                );
                self.out
                    .publish(Some(msg), "shutdown_reply", shutdown_reply(s.restart));
                return Flow::Shutdown;
            }
            Request::Interrupt => {
                self.interpreter.interrupter().interrupt();
                reply("interrupt_reply", json!({ "status": "ok" }));
            }
            Request::Unknown(t) => log::warn!("unknown shell message type {t:?}: ignored"),
        }
        Flow::Continue
    }

    fn execute(&mut self, msg: &Message, r: messages::ExecuteRequest) -> Flow {
        let store = r.stores_history();
        if store {
            self.count += 1;
        }
        let count = self.count;
        if !r.silent {
            self.out.publish(
                Some(msg),
                "execute_input",
                object(json!({ "code": r.code, "execution_count": count })),
            );
        }
        if store {
            self.history.push(i64::from(count), &r.code);
        }
        let cell = CellRequest {
            code: r.code.clone(),
            silent: r.silent,
            store_history: store,
            allow_stdin: r.allow_stdin,
            execution_count: count,
        };
        let sink = CellSink {
            out: &self.out,
            parent: msg,
            allow_stdin: r.allow_stdin,
            stdin: &self.stdin,
        };
        let outcome = self.interpreter.execute(&cell, &sink);
        match outcome {
            ExecuteOutcome::Ok { result } => {
                if let Some(data) = result
                    && !r.silent
                {
                    if store && let Some(Value::String(text)) = data.get("text/plain") {
                        self.history.set_output(i64::from(count), text);
                    }
                    self.out.publish(
                        Some(msg),
                        "execute_result",
                        object(json!({ "execution_count": count, "data": data, "metadata": {} })),
                    );
                }
                let user_expressions = self.user_expressions(&r.user_expressions, count);
                self.out.reply(
                    Channel::Shell,
                    msg,
                    "execute_reply",
                    object(json!({
                        "status": "ok", "execution_count": count,
                        "user_expressions": user_expressions, "payload": [],
                    })),
                );
                Flow::Continue
            }
            ExecuteOutcome::Error(e) => {
                self.out.publish(
                    Some(msg),
                    "error",
                    object(
                        json!({ "ename": e.ename, "evalue": e.evalue, "traceback": e.traceback }),
                    ),
                );
                self.out.reply(
                    Channel::Shell,
                    msg,
                    "execute_reply",
                    object(json!({
                        "status": "error", "execution_count": count, "ename": e.ename,
                        "evalue": e.evalue, "traceback": e.traceback, "user_expressions": {},
                        "payload": [],
                    })),
                );
                if r.stop_on_error {
                    Flow::AbortQueued
                } else {
                    Flow::Continue
                }
            }
        }
    }

    /// Evaluates each user expression as a silent cell; its value's MIME bundle is the
    /// answer, or an error dict.
    fn user_expressions(&mut self, exprs: &Map<String, Value>, count: u32) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, expr) in exprs {
            let answer = match expr {
                Value::String(code) => {
                    let cell = CellRequest {
                        code: code.clone(),
                        silent: true,
                        store_history: false,
                        allow_stdin: false,
                        execution_count: count,
                    };
                    match self.interpreter.execute(&cell, &NullSink) {
                        ExecuteOutcome::Ok { result } => json!({
                            "status": "ok",
                            "data": result.unwrap_or_else(MimeBundle::new),
                            "metadata": {},
                        }),
                        ExecuteOutcome::Error(e) => json!({
                            "status": "error", "ename": e.ename, "evalue": e.evalue,
                            "traceback": e.traceback,
                        }),
                    }
                }
                _ => json!({
                    "status": "error", "ename": "TypeError",
                    "evalue": "a user expression must be a string", "traceback": [],
                }),
            };
            out.insert(name.clone(), answer);
        }
        out
    }
}

fn clamp_cursor(code: &str, cursor: Option<usize>) -> usize {
    let len = code.chars().count();
    cursor.map_or(len, |c| c.min(len))
}

fn history_query(r: &HistoryRequest) -> Option<Query> {
    let count = |n: Option<i64>| n.and_then(|n| usize::try_from(n).ok());
    match r.hist_access_type.as_str() {
        "tail" => Some(Query::Tail {
            n: count(r.n).unwrap_or(10),
        }),
        "range" => Some(Query::Range {
            session: r.session.unwrap_or(0),
            start: r.start.unwrap_or(1),
            stop: r.stop,
        }),
        "search" => Some(Query::Search {
            pattern: r.pattern.clone().unwrap_or_else(|| "*".into()),
            n: count(r.n),
            unique: r.unique,
        }),
        other => {
            log::warn!("unknown hist_access_type {other:?}");
            None
        }
    }
}

/// Handles control requests on the control task; never waits for the interpreter.
pub struct ControlCore {
    out: Outbox,
    kernel_info: Map<String, Value>,
    interrupter: Arc<dyn Interrupter>,
    stdin: Arc<StdinBridge>,
}

impl ControlCore {
    /// A control core.
    pub fn new(
        out: Outbox,
        kernel_info: Map<String, Value>,
        interrupter: Arc<dyn Interrupter>,
        stdin: Arc<StdinBridge>,
    ) -> ControlCore {
        ControlCore {
            out,
            kernel_info,
            interrupter,
            stdin,
        }
    }

    /// Interrupts the running cell (also used for SIGINT).
    pub fn interrupt(&self) {
        self.stdin.cancel();
        self.interrupter.interrupt();
    }

    /// Handles one control message: busy, the handler, idle.
    pub fn handle(&self, msg: &Message) -> Flow {
        let request = match Request::parse(msg.msg_type(), &msg.content) {
            Ok(r) => r,
            Err(e) => {
                log::warn!("dropped control {} with bad content: {e}", msg.msg_type());
                return Flow::Continue;
            }
        };
        self.out.status(msg, "busy");
        let mut flow = Flow::Continue;
        match request {
            Request::KernelInfo => {
                self.out.reply(
                    Channel::Control,
                    msg,
                    "kernel_info_reply",
                    self.kernel_info.clone(),
                );
            }
            Request::Interrupt => {
                self.interrupt();
                self.out.reply(
                    Channel::Control,
                    msg,
                    "interrupt_reply",
                    object(json!({ "status": "ok" })),
                );
            }
            Request::Shutdown(s) => {
                self.stdin.cancel();
                self.out.reply(
                    Channel::Control,
                    msg,
                    "shutdown_reply",
                    shutdown_reply(s.restart),
                );
                self.out
                    .publish(Some(msg), "shutdown_reply", shutdown_reply(s.restart));
                flow = Flow::Shutdown;
            }
            _ => log::warn!("{:?} is not handled on control: ignored", msg.msg_type()),
        }
        self.out.status(msg, "idle");
        flow
    }
}

#[cfg(test)]
mod tests {
    //! The core against a scripted interpreter (a mock, as xeus tests its core): every
    //! message the core emits is read back from the outbox queues.

    use super::*;
    use crate::interpreter::{Completions, ExecuteError, Inspection};
    use std::sync::atomic::AtomicUsize;

    #[derive(Default)]
    struct Log {
        executed: Mutex<Vec<String>>,
        interrupts: AtomicUsize,
    }

    struct Counter(Arc<Log>);
    impl Interrupter for Counter {
        fn interrupt(&self) {
            self.0.interrupts.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Cells are tiny scripts: `print X`, `value X`, `fail`, `display`, `input`.
    struct Scripted(Arc<Log>);

    impl Interpreter for Scripted {
        fn execute(&mut self, r: &CellRequest, sink: &dyn OutputSink) -> ExecuteOutcome {
            self.0.executed.lock().unwrap().push(r.code.clone());
            let (cmd, arg) = r.code.split_once(' ').unwrap_or((r.code.as_str(), ""));
            match cmd {
                "print" => {
                    sink.stream(StreamName::Stdout, arg);
                    ExecuteOutcome::Ok { result: None }
                }
                "value" => ExecuteOutcome::Ok {
                    result: Some(object(json!({ "text/plain": arg }))),
                },
                "display" => {
                    sink.display(Display {
                        data: object(json!({ "image/png": "iVBOR" })),
                        metadata: Map::new(),
                        display_id: Some("d1".into()),
                        update: arg == "update",
                    });
                    ExecuteOutcome::Ok { result: None }
                }
                "panic" => panic!("scripted panic"),
                "input" => {
                    let got = sink.input("name: ", false);
                    sink.stream(StreamName::Stdout, &format!("{got:?}"));
                    ExecuteOutcome::Ok { result: None }
                }
                _ => ExecuteOutcome::Error(ExecuteError {
                    ename: "CompilationError".into(),
                    evalue: format!("cannot run {cmd}"),
                    traceback: vec!["line 1".into()],
                }),
            }
        }
        fn complete(&mut self, code: &str, cursor_pos: usize) -> Completions {
            Completions {
                matches: vec![format!("{code}_done")],
                cursor_start: 0,
                cursor_end: cursor_pos,
            }
        }
        fn inspect(&mut self, code: &str, _: usize, _: u8) -> Inspection {
            (code == "Vec").then(|| object(json!({ "text/plain": "struct Vec<T>" })))
        }
        fn is_complete(&mut self, code: &str) -> Completeness {
            crate::is_complete::is_complete(code)
        }
        fn interrupter(&self) -> Arc<dyn Interrupter> {
            Arc::new(Counter(self.0.clone()))
        }
        fn restart(&mut self) {}
        fn language_info(&self) -> Value {
            json!({ "name": "scripted" })
        }
        fn banner(&self) -> String {
            "scripted".into()
        }
    }

    struct Harness {
        core: ShellCore<Scripted>,
        queues: OutboxQueues,
        log: Arc<Log>,
    }

    fn harness() -> Harness {
        let log = Arc::new(Log::default());
        let (out, queues) = Outbox::new("kernel-session".into());
        let core = ShellCore::new(Scripted(log.clone()), out, Arc::new(StdinBridge::default()));
        Harness { core, queues, log }
    }

    fn request(msg_type: &str, content: Value) -> Message {
        Message {
            identities: vec![Bytes::from_static(b"client-id")],
            header: Header::new(msg_type, "client-session"),
            parent_header: Map::new(),
            metadata: Map::new(),
            content: object(content),
            buffers: vec![],
        }
    }

    fn drain(rx: &mut UnboundedReceiver<Outgoing>) -> Vec<Message> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|o| match o {
                Outgoing::Msg(m) => Some(*m),
                Outgoing::Flush(_) => None,
            })
            .collect()
    }

    fn types(msgs: &[Message]) -> Vec<String> {
        msgs.iter()
            .map(|m| match m.msg_type() {
                "status" => format!("status:{}", m.content["execution_state"].as_str().unwrap()),
                t => t.to_owned(),
            })
            .collect()
    }

    fn parent_id(m: &Message) -> &str {
        m.parent_header["msg_id"].as_str().unwrap()
    }

    #[test]
    fn execute_publishes_in_order_with_parent_and_count() {
        let mut h = harness();
        let req = request("execute_request", json!({ "code": "print hello, world" }));
        assert_eq!(h.core.handle(&req), Flow::Continue);
        let iopub = drain(&mut h.queues.iopub);
        assert_eq!(
            types(&iopub),
            ["status:busy", "execute_input", "stream", "status:idle"]
        );
        assert!(iopub.iter().all(|m| parent_id(m) == req.header.msg_id));
        assert_eq!(iopub[1].content["execution_count"], 1);
        assert_eq!(iopub[2].content["text"], "hello, world");
        assert_eq!(
            iopub[2].identities[0].as_ref(),
            b"kernel.kernel-session.stream"
        );
        let shell = drain(&mut h.queues.shell);
        assert_eq!(types(&shell), ["execute_reply"]);
        assert_eq!(shell[0].identities, req.identities);
        assert_eq!(shell[0].content["status"], "ok");
        assert_eq!(shell[0].content["execution_count"], 1);
        assert_eq!(shell[0].header.session, "kernel-session");
        assert_eq!(shell[0].header.version, "5.3");
    }

    #[test]
    fn count_starts_at_one_and_skips_silent_and_unstored_cells() {
        let mut h = harness();
        let counts: Vec<Value> = [
            json!({ "code": "value 1" }),
            json!({ "code": "value 2", "silent": true }),
            json!({ "code": "value 3", "store_history": false }),
            json!({ "code": "value 4" }),
        ]
        .into_iter()
        .map(|c| {
            h.core.handle(&request("execute_request", c));
            drain(&mut h.queues.shell)[0].content["execution_count"].clone()
        })
        .collect();
        assert_eq!(counts, [json!(1), json!(1), json!(1), json!(2)]);
        let iopub = drain(&mut h.queues.iopub);
        let results: Vec<&Value> = iopub
            .iter()
            .filter(|m| m.msg_type() == "execute_result")
            .map(|m| &m.content["data"]["text/plain"])
            .collect();
        assert_eq!(
            results,
            ["1", "3", "4"],
            "a silent cell has no execute_result"
        );
        let inputs = iopub
            .iter()
            .filter(|m| m.msg_type() == "execute_input")
            .count();
        assert_eq!(inputs, 3, "a silent cell has no execute_input");
    }

    #[test]
    fn error_is_published_and_replied_with_details() {
        let mut h = harness();
        let req = request("execute_request", json!({ "code": "boom" }));
        assert_eq!(h.core.handle(&req), Flow::AbortQueued);
        let iopub = drain(&mut h.queues.iopub);
        assert_eq!(
            types(&iopub),
            ["status:busy", "execute_input", "error", "status:idle"]
        );
        assert_eq!(iopub[2].content["ename"], "CompilationError");
        let reply = &drain(&mut h.queues.shell)[0];
        assert_eq!(reply.content["status"], "error");
        assert_eq!(reply.content["evalue"], "cannot run boom");
        assert_eq!(reply.content["traceback"], json!(["line 1"]));
        let no_stop = request(
            "execute_request",
            json!({ "code": "boom", "stop_on_error": false }),
        );
        assert_eq!(h.core.handle(&no_stop), Flow::Continue);
    }

    #[test]
    fn stop_on_error_aborts_queued_executes_only() {
        let mut h = harness();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let queued = [
            request("execute_request", json!({ "code": "boom" })),
            request("execute_request", json!({ "code": "print never" })),
            request("kernel_info_request", json!({})),
            request("execute_request", json!({ "code": "print never either" })),
        ];
        for m in &queued {
            tx.send(m.clone()).unwrap();
        }
        drop(tx);
        h.core.run(&mut rx, &AtomicBool::new(false));
        assert_eq!(*h.log.executed.lock().unwrap(), ["boom"]);
        let shell = drain(&mut h.queues.shell);
        let statuses: Vec<(&str, &str)> = shell
            .iter()
            .map(|m| (parent_id(m), m.content["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            statuses,
            [
                (queued[0].header.msg_id.as_str(), "error"),
                (queued[1].header.msg_id.as_str(), "aborted"),
                (queued[3].header.msg_id.as_str(), "aborted"),
                (queued[2].header.msg_id.as_str(), "ok"),
            ]
        );
        let busy = drain(&mut h.queues.iopub)
            .iter()
            .filter(|m| m.content.get("execution_state") == Some(&json!("busy")))
            .count();
        assert_eq!(busy, 4, "busy/idle around aborted requests too");
    }

    #[test]
    fn a_panicking_interpreter_gets_an_error_reply_and_the_loop_goes_on() {
        let mut h = harness();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let boom = request("execute_request", json!({ "code": "panic" }));
        let after = request("execute_request", json!({ "code": "print still here" }));
        tx.send(boom.clone()).unwrap();
        tx.send(after.clone()).unwrap();
        drop(tx);
        h.core.run(&mut rx, &AtomicBool::new(false));
        let shell = drain(&mut h.queues.shell);
        assert_eq!(shell.len(), 2);
        assert_eq!(parent_id(&shell[0]), boom.header.msg_id);
        assert_eq!(shell[0].msg_type(), "execute_reply");
        assert_eq!(shell[0].content["status"], "error");
        assert!(
            shell[0].content["evalue"]
                .as_str()
                .unwrap()
                .contains("scripted panic")
        );
        assert_eq!(parent_id(&shell[1]), after.header.msg_id);
        assert_eq!(shell[1].content["status"], "ok");
        let idles = drain(&mut h.queues.iopub)
            .iter()
            .filter(|m| {
                parent_id(m) == boom.header.msg_id
                    && m.content.get("execution_state") == Some(&json!("idle"))
            })
            .count();
        assert_eq!(idles, 1);
    }

    #[test]
    fn stop_flag_ends_the_loop_before_the_next_request() {
        let mut h = harness();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tx.send(request("execute_request", json!({ "code": "print x" })))
            .unwrap();
        h.core.run(&mut rx, &AtomicBool::new(true));
        assert!(h.log.executed.lock().unwrap().is_empty());
    }

    #[test]
    fn bad_content_is_dropped_silently() {
        let mut h = harness();
        for c in [
            json!({ "code": 42 }),
            json!({ "silent": true }),
            json!({ "code": "print x", "silent": "no" }),
        ] {
            assert_eq!(
                h.core.handle(&request("execute_request", c)),
                Flow::Continue
            );
        }
        assert!(h.log.executed.lock().unwrap().is_empty());
        assert!(drain(&mut h.queues.iopub).is_empty());
        assert!(drain(&mut h.queues.shell).is_empty());
    }

    #[test]
    fn display_and_update_display() {
        let mut h = harness();
        h.core
            .handle(&request("execute_request", json!({ "code": "display" })));
        h.core.handle(&request(
            "execute_request",
            json!({ "code": "display update" }),
        ));
        let iopub = drain(&mut h.queues.iopub);
        let shown: Vec<&Message> = iopub
            .iter()
            .filter(|m| m.msg_type().contains("display"))
            .collect();
        assert_eq!(shown[0].msg_type(), "display_data");
        assert_eq!(shown[1].msg_type(), "update_display_data");
        for m in shown {
            assert_eq!(m.content["transient"]["display_id"], "d1");
            assert_eq!(m.content["data"]["image/png"], "iVBOR");
        }
    }

    #[test]
    fn small_requests_are_forwarded_and_answered() {
        let mut h = harness();
        let ask = |h: &mut Harness, t: &str, c: Value| {
            h.core.handle(&request(t, c));
            drain(&mut h.queues.shell).remove(0)
        };
        let r = ask(
            &mut h,
            "complete_request",
            json!({ "code": "pri", "cursor_pos": 99 }),
        );
        assert_eq!(r.msg_type(), "complete_reply");
        assert_eq!(r.content["matches"], json!(["pri_done"]));
        assert_eq!(r.content["cursor_end"], 3, "cursor clamped to the code");
        let r = ask(
            &mut h,
            "inspect_request",
            json!({ "code": "Vec", "cursor_pos": 1 }),
        );
        assert_eq!(r.content["found"], true);
        assert_eq!(r.content["data"]["text/plain"], "struct Vec<T>");
        let r = ask(&mut h, "inspect_request", json!({ "code": "nothing" }));
        assert_eq!(r.content["found"], false);
        let r = ask(&mut h, "is_complete_request", json!({ "code": "fn f() {" }));
        assert_eq!(r.content["status"], "incomplete");
        assert_eq!(r.content["indent"], "    ");
        let r = ask(&mut h, "is_complete_request", json!({ "code": "fn f() }" }));
        assert_eq!(r.content["status"], "invalid");
        let r = ask(&mut h, "kernel_info_request", json!({}));
        assert_eq!(r.content["protocol_version"], "5.3");
        assert_eq!(r.content["language_info"]["name"], "scripted");
        assert_eq!(r.content["implementation"], "dl-kernel");
        let r = ask(&mut h, "comm_info_request", json!({}));
        assert_eq!(r.content["comms"], json!({}));
    }

    #[test]
    fn comm_open_for_unknown_target_is_closed() {
        let mut h = harness();
        let req = request(
            "comm_open",
            json!({ "comm_id": "c-1", "target_name": "jupyter.widget", "data": {} }),
        );
        h.core.handle(&req);
        let iopub = drain(&mut h.queues.iopub);
        assert_eq!(types(&iopub), ["status:busy", "comm_close", "status:idle"]);
        assert_eq!(iopub[1].content["comm_id"], "c-1");
        assert!(drain(&mut h.queues.shell).is_empty());
    }

    #[test]
    fn history_sees_stored_cells_only() {
        let mut h = harness();
        for c in [
            json!({ "code": "value 1" }),
            json!({ "code": "value 2", "silent": true }),
            json!({ "code": "print x" }),
        ] {
            h.core.handle(&request("execute_request", c));
        }
        drain(&mut h.queues.shell);
        h.core.handle(&request(
            "history_request",
            json!({ "hist_access_type": "tail", "n": 5, "output": true, "raw": true }),
        ));
        let r = drain(&mut h.queues.shell).remove(0);
        assert_eq!(
            r.content["history"],
            json!([[1, 1, ["value 1", "1"]], [1, 2, ["print x", null]]])
        );
        h.core.handle(&request(
            "history_request",
            json!({ "hist_access_type": "search", "pattern": "print*", "output": false, "raw": true }),
        ));
        let r = drain(&mut h.queues.shell).remove(0);
        assert_eq!(r.content["history"], json!([[1, 2, "print x"]]));
    }

    #[test]
    fn user_expressions_are_evaluated_after_a_good_cell() {
        let mut h = harness();
        h.core.handle(&request(
            "execute_request",
            json!({ "code": "print x", "user_expressions": { "a": "value 7", "b": "oops", "c": 3 } }),
        ));
        let r = drain(&mut h.queues.shell).remove(0);
        let ue = &r.content["user_expressions"];
        assert_eq!(ue["a"]["status"], "ok");
        assert_eq!(ue["a"]["data"]["text/plain"], "7");
        assert_eq!(ue["b"]["status"], "error");
        assert_eq!(ue["c"]["status"], "error");
    }

    #[test]
    fn input_request_goes_to_stdin_and_waits_for_the_reply() {
        let log = Arc::new(Log::default());
        let (out, mut queues) = Outbox::new("k".into());
        let bridge = Arc::new(StdinBridge::default());
        let mut core = ShellCore::new(Scripted(log), out, bridge.clone());
        let req = request("execute_request", json!({ "code": "input" }));
        let worker = std::thread::spawn(move || {
            core.handle(&req);
            core
        });
        let asked = loop {
            if let Ok(Outgoing::Msg(m)) = queues.stdin.try_recv() {
                break *m;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(asked.msg_type(), "input_request");
        assert_eq!(asked.identities[0].as_ref(), b"client-id");
        assert_eq!(asked.content["prompt"], "name: ");
        bridge.deliver("Ada".into());
        worker.join().unwrap();
        let texts: Vec<Value> = drain(&mut queues.iopub)
            .into_iter()
            .filter(|m| m.msg_type() == "stream")
            .map(|m| m.content["text"].clone())
            .collect();
        assert_eq!(texts, [json!("Some(\"Ada\")")]);
    }

    #[test]
    fn input_without_allow_stdin_and_cancelled_input_give_none() {
        let mut h = harness();
        h.core.handle(&request(
            "execute_request",
            json!({ "code": "input", "allow_stdin": false }),
        ));
        assert!(drain(&mut h.queues.stdin).is_empty());
        let bridge = StdinBridge::default();
        let got = std::thread::scope(|s| {
            let waiter = s.spawn(|| bridge.wait(|| {}));
            std::thread::sleep(Duration::from_millis(30));
            bridge.cancel();
            waiter.join().unwrap()
        });
        assert_eq!(got, None);
    }

    #[test]
    fn control_answers_interrupt_shutdown_and_kernel_info() {
        let log = Arc::new(Log::default());
        let (out, mut queues) = Outbox::new("k".into());
        let interrupter: Arc<dyn Interrupter> = Arc::new(Counter(log.clone()));
        let control = ControlCore::new(
            out,
            kernel_info(json!({"name": "rust"}), "b".into()),
            interrupter,
            Arc::new(StdinBridge::default()),
        );
        assert_eq!(
            control.handle(&request("interrupt_request", json!({}))),
            Flow::Continue
        );
        assert_eq!(log.interrupts.load(Ordering::SeqCst), 1);
        assert_eq!(
            control.handle(&request("kernel_info_request", json!({}))),
            Flow::Continue
        );
        let shutdown = request("shutdown_request", json!({ "restart": true }));
        assert_eq!(control.handle(&shutdown), Flow::Shutdown);
        assert_eq!(
            control.handle(&request("shutdown_request", json!({ "restart": "yes" }))),
            Flow::Continue,
            "ill-typed content is dropped"
        );
        let replies = drain(&mut queues.control);
        assert_eq!(
            types(&replies),
            ["interrupt_reply", "kernel_info_reply", "shutdown_reply"]
        );
        assert_eq!(replies[2].content["restart"], true);
        let iopub = drain(&mut queues.iopub);
        assert_eq!(
            types(&iopub),
            [
                "status:busy",
                "status:idle",
                "status:busy",
                "status:idle",
                "status:busy",
                "shutdown_reply",
                "status:idle"
            ]
        );
        assert!(drain(&mut queues.shell).is_empty());
    }
}
