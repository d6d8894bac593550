//! Where the child's output goes: to the running cell, or to the page's comm message the
//! child is handling.
//!
//! The child brackets its handling of a page's comm message with `DLK_COMM_BEGIN` and
//! `DLK_COMM_END` markers (`markers.rs`). In between, what it prints or displays goes to
//! iopub with that comm message as parent, as the messaging spec asks; the end also publishes
//! the message's `idle`. Outside a bracket, output goes to the running cell, or, while no cell
//! runs, to the last cell's request ([`CommHub::sink`]). The child sends what it does for a
//! page's message on the widget socket, so a running cell's own output never follows the
//! route; only what a callback prints with `println!` while a cell runs is read with the
//! cell's output and shown there.

use jupyter_core::comms::CommHub;
use std::sync::{Mutex, OnceLock};

/// The current destination of the child's output.
#[derive(Default)]
pub struct OutputRoute {
    hub: OnceLock<CommHub>,
    /// The page's comm message being handled, between its begin and end markers.
    handling: Mutex<Option<String>>,
}

impl OutputRoute {
    /// Connects the route to the kernel's comms (once).
    pub fn attach(&self, hub: CommHub) {
        let _ = self.hub.set(hub);
    }

    /// The kernel's comms, once attached.
    pub fn hub(&self) -> Option<&CommHub> {
        self.hub.get()
    }

    /// The page's comm message being handled now, if any.
    pub fn handling(&self) -> Option<String> {
        self.handling.lock().ok().and_then(|h| h.clone())
    }

    /// `DLK_COMM_BEGIN`: output goes with `msg_id` as parent from now on.
    pub fn begin(&self, msg_id: String) {
        if let Ok(mut handling) = self.handling.lock() {
            *handling = Some(msg_id);
        }
    }

    /// `DLK_COMM_END`: the message is done (its `idle` is published).
    pub fn end(&self, msg_id: &str) {
        if let Ok(mut handling) = self.handling.lock()
            && handling.as_deref() == Some(msg_id)
        {
            *handling = None;
        }
        if let Some(hub) = self.hub.get() {
            hub.finished(msg_id);
        }
    }
}
