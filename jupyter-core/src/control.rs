//! The control requests (kernel_info, interrupt, shutdown, debug), implemented once for both
//! channels that carry them.
//!
//! [`Control`] never waits for the interpreter: the control task calls it while a cell runs
//! on the interpreter's thread, and the shell core calls it for the same requests arriving on
//! shell.

use crate::dispatch::{self, ControlRequest, Flow, Request};
use crate::interpreter::{Interrupter, KernelInfo};
use crate::message::Message;
use crate::outbox::{Channel, Outbox};
use crate::reply::{DebugReply, InterruptReply, KernelInfoReply, ShutdownReply};
use crate::stdin::StdinBridge;
use std::sync::Arc;

/// Answers the control requests.
pub struct Control {
    out: Outbox,
    kernel_info: KernelInfoReply,
    interrupter: Arc<dyn Interrupter>,
    stdin: Arc<StdinBridge>,
}

impl Control {
    /// The handlers for an interpreter that describes itself as `kernel_info` and is
    /// interrupted through `interrupter`.
    pub fn new(
        out: Outbox,
        kernel_info: KernelInfo,
        interrupter: Arc<dyn Interrupter>,
        stdin: Arc<StdinBridge>,
    ) -> Control {
        Control {
            out,
            kernel_info: KernelInfoReply::new(kernel_info),
            interrupter,
            stdin,
        }
    }

    /// Interrupts the running cell, and its wait for input if it is waiting (also on SIGINT
    /// and at shutdown).
    pub fn interrupt(&self) {
        self.stdin.cancel();
        self.interrupter.interrupt();
    }

    /// Serves one message from the control socket: busy, the handler, idle. Shell requests
    /// are not served here.
    pub fn handle(&self, msg: &Message) -> Flow {
        dispatch::serve(&self.out, msg, |request| match request {
            Request::Control(r) => self.answer(Channel::Control, msg, &r),
            Request::Shell(_) | Request::Unknown(_) => {
                log::warn!("{:?} is not handled on control: ignored", msg.msg_type());
                Flow::Continue
            }
        })
    }

    /// Answers `request`, which arrived as `msg` on `channel`.
    pub fn answer(&self, channel: Channel, msg: &Message, request: &ControlRequest) -> Flow {
        match request {
            ControlRequest::KernelInfo => self.out.reply(channel, msg, &self.kernel_info),
            ControlRequest::Interrupt => {
                self.interrupt();
                self.out.reply(channel, msg, &InterruptReply::default());
            }
            ControlRequest::Shutdown(s) => {
                self.stdin.cancel();
                let reply = ShutdownReply::new(s.restart);
                self.out.reply(channel, msg, &reply);
                self.out.publish(msg, &reply);
                return Flow::Shutdown;
            }
            ControlRequest::Debug => self.out.reply(channel, msg, &DebugReply::default()),
        }
        Flow::Continue
    }
}
