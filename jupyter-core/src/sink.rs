//! The output sinks an interpreter writes a running cell's outputs to.

use crate::comms::CommHub;
use crate::interpreter::{Display, KernelComm, OutputSink, StreamName};
use crate::iopub::{ClearOutput, DisplayData, Stream};
use crate::message::Message;
use crate::outbox::{Channel, Outbox};
use crate::stdin::{InputRequest, StdinBridge};

/// The outputs of one cell, published on iopub as they come, with the cell's request as
/// parent; input is asked for on stdin, from the front end that sent the request.
pub struct CellSink<'a> {
    /// Where the messages go.
    pub out: &'a Outbox,
    /// The cell's `execute_request`.
    pub parent: &'a Message,
    /// The request's `allow_stdin`.
    pub allow_stdin: bool,
    /// Where `input_reply` values arrive.
    pub stdin: &'a StdinBridge,
    /// Where the cell's comm messages go.
    pub comms: &'a CommHub,
}

impl OutputSink for CellSink<'_> {
    fn stream(&self, name: StreamName, text: &str) {
        if !text.is_empty() {
            self.out.publish(self.parent, &Stream { name, text });
        }
    }

    fn display(&self, display: Display) {
        self.out.publish(self.parent, &DisplayData::from(display));
    }

    fn clear_output(&self, wait: bool) {
        self.out.publish(self.parent, &ClearOutput { wait });
    }

    fn input(&self, prompt: &str, password: bool) -> Option<String> {
        if !self.allow_stdin {
            return None;
        }
        self.stdin.wait(|| {
            let request = InputRequest { prompt, password };
            self.out.reply(Channel::Stdin, self.parent, &request);
        })
    }

    fn comm(&self, comm: KernelComm) {
        self.comms.send(self.parent, &comm);
    }
}

/// Discards everything (for evaluating `user_expressions`).
pub struct NullSink;

impl OutputSink for NullSink {
    fn stream(&self, _: StreamName, _: &str) {}
    fn display(&self, _: Display) {}
    fn clear_output(&self, _: bool) {}
    fn input(&self, _: &str, _: bool) -> Option<String> {
        None
    }
}
