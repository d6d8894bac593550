//! The shell core: shell requests, one at a time and in order, on the interpreter's thread.
//!
//! It owns the interpreter and the session's [`Cells`] (execution count and history), answers
//! the shell-only requests, hands the control requests to the shared [`Control`], and keeps
//! going when the interpreter panics: the request gets an error reply and an idle status,
//! instead of a dead shell behind a heartbeat that goes on beating.

use crate::cells::Cells;
use crate::comms::CommHub;
use crate::control::Control;
use crate::dispatch::{self, Flow, Request, ShellRequest};
use crate::interpreter::Interpreter;
use crate::iopub::ExecutionState;
use crate::message::Message;
use crate::outbox::{Channel, Outbox};
use crate::reply::{CompleteReply, ExecuteReply, InspectReply, IsCompleteReply, KernelErrorReply};
use crate::stdin::StdinBridge;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc::UnboundedReceiver;

/// Handles shell requests, in order, on the interpreter's thread.
pub struct ShellCore<I: Interpreter> {
    interpreter: I,
    control: Arc<Control>,
    out: Outbox,
    stdin: Arc<StdinBridge>,
    comms: CommHub,
    cells: Cells,
}

impl<I: Interpreter> ShellCore<I> {
    /// A core around `interpreter`; `control` answers the control requests that arrive on
    /// shell. The interpreter is given `comms` ([`Interpreter::attach_comms`]).
    pub fn new(
        mut interpreter: I,
        control: Arc<Control>,
        out: Outbox,
        stdin: Arc<StdinBridge>,
        comms: CommHub,
    ) -> ShellCore<I> {
        if let Some(receiver) = interpreter.attach_comms(comms.clone()) {
            comms.set_receiver(receiver);
        }
        ShellCore {
            interpreter,
            control,
            out,
            stdin,
            comms,
            cells: Cells::default(),
        }
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

    /// [`handle`](Self::handle), with a panic in the interpreter turned into an error reply
    /// and an idle status.
    fn handle_guarded(&mut self, msg: &Message) -> Flow {
        let panic =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(msg))) {
                Ok(flow) => return flow,
                Err(panic) => panic,
            };
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        log::error!("the kernel panicked handling {}: {what}", msg.msg_type());
        let evalue = format!("the kernel failed while handling this request: {what}");
        let count = self.cells.count();
        if msg.msg_type() == "execute_request" {
            let error = crate::interpreter::ExecuteError {
                ename: "KernelError".into(),
                traceback: vec![evalue.clone()],
                evalue,
            };
            self.out.publish(msg, &error);
            self.out
                .reply(Channel::Shell, msg, &ExecuteReply::error(count, &error));
        } else {
            let reply = KernelErrorReply::new(msg.msg_type(), evalue, count);
            self.out.reply(Channel::Shell, msg, &reply);
        }
        self.out.status(msg, ExecutionState::Idle);
        Flow::Continue
    }

    /// Answers an execute request with `aborted` without running it.
    pub fn abort(&mut self, msg: &Message) {
        self.out.status(msg, ExecutionState::Busy);
        let reply = ExecuteReply::Aborted {
            execution_count: self.cells.count(),
        };
        self.out.reply(Channel::Shell, msg, &reply);
        self.out.status(msg, ExecutionState::Idle);
    }

    /// Handles one shell message: busy, the handler, idle. Comm messages go to the
    /// [`CommHub`] (the server hands them to it before they reach this queue).
    pub fn handle(&mut self, msg: &Message) -> Flow {
        if CommHub::handles(msg.msg_type()) {
            self.comms.handle(msg);
            return Flow::Continue;
        }
        let out = self.out.clone();
        dispatch::serve(&out, msg, |request| match request {
            Request::Control(r) => self.control.answer(Channel::Shell, msg, &r),
            Request::Shell(r) => self.answer(msg, r),
            Request::Unknown(t) => {
                log::warn!("unknown shell message type {t:?}: ignored");
                Flow::Continue
            }
        })
    }

    fn answer(&mut self, msg: &Message, request: ShellRequest) -> Flow {
        let out = &self.out;
        match request {
            ShellRequest::Execute(r) => {
                return self.cells.execute(
                    &mut self.interpreter,
                    out,
                    &self.stdin,
                    &self.comms,
                    msg,
                    &r,
                );
            }
            ShellRequest::Complete(r) => {
                let cursor = clamp_cursor(&r.code, r.cursor_pos);
                let completions = self.interpreter.complete(&r.code, cursor);
                out.reply(Channel::Shell, msg, &CompleteReply::from(completions));
            }
            ShellRequest::Inspect(r) => {
                let cursor = clamp_cursor(&r.code, r.cursor_pos);
                let found = self.interpreter.inspect(&r.code, cursor, r.detail_level);
                out.reply(Channel::Shell, msg, &InspectReply::from(found));
            }
            ShellRequest::IsComplete(r) => {
                let completeness = self.interpreter.is_complete(&r.code);
                out.reply(Channel::Shell, msg, &IsCompleteReply(completeness));
            }
            ShellRequest::History(r) => {
                out.reply(Channel::Shell, msg, &self.cells.history_reply(&r));
            }
            ShellRequest::CommInfo(_)
            | ShellRequest::CommOpen(_)
            | ShellRequest::CommMsg(_)
            | ShellRequest::CommClose(_) => {
                unreachable!("comm messages are handled by the comm hub")
            }
        }
        Flow::Continue
    }
}

/// The cursor as a code-point offset into `code`: the end when absent, never past the end.
fn clamp_cursor(code: &str, cursor: Option<usize>) -> usize {
    let len = code.chars().count();
    cursor.map_or(len, |c| c.min(len))
}
