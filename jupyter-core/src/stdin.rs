//! The stdin channel: a cell asks for a line (`input_request`, sent to the front end that
//! made the request) and waits for the `input_reply` that the stdin socket receives.

use crate::outbox::Content;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

/// `input_request`: a prompt for one line of input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputRequest<'a> {
    /// The text shown before the input field.
    pub prompt: &'a str,
    /// Hide what is typed.
    pub password: bool,
}

impl Content for InputRequest<'_> {
    fn msg_type(&self) -> &str {
        "input_request"
    }
}

/// `input_reply` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InputReply {
    /// The line the user typed.
    pub value: String,
}

/// Hands `input_reply` values from the stdin socket to a cell waiting in
/// [`OutputSink::input`](crate::interpreter::OutputSink::input), and lets an interrupt stop
/// the wait.
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

    /// Sends the request (`send_request`), then waits for the answer or a
    /// [`cancel`](Self::cancel).
    pub(crate) fn wait(&self, send_request: impl FnOnce()) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivered_value_ends_the_wait_and_stale_values_are_dropped() {
        let bridge = StdinBridge::default();
        bridge.deliver("stale".into());
        let got = std::thread::scope(|s| {
            let waiter = s.spawn(|| bridge.wait(|| {}));
            std::thread::sleep(Duration::from_millis(30));
            bridge.deliver("fresh".into());
            waiter.join().unwrap()
        });
        assert_eq!(got.as_deref(), Some("fresh"));
    }

    #[test]
    fn a_cancel_ends_the_wait_with_nothing() {
        let bridge = StdinBridge::default();
        let got = std::thread::scope(|s| {
            let waiter = s.spawn(|| bridge.wait(|| {}));
            std::thread::sleep(Duration::from_millis(30));
            bridge.cancel();
            waiter.join().unwrap()
        });
        assert_eq!(got, None);
    }
}
